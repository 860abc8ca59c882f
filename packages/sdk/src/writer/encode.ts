import type { SeriesSlice } from './buffer.js';

/**
 * JSON bodies of the bulk metrics path (`POST /experiments/{key}/metrics`), written straight
 * from the typed arrays. TypedArray#join formats numbers exactly as JSON.stringify does, so the
 * common case (every value finite, every step given) is a native join per column.
 */

function hasNonFinite(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v - v !== 0) return true;
  }
  return false;
}

/** Values: NaN and ±Infinity travel as the strings "NaN", "Infinity", "-Infinity". */
function valuesJson(values: Float64Array): string {
  if (!hasNonFinite(values)) return `[${values.join(',')}]`;
  let out = '[';
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (i > 0) out += ',';
    out += v - v === 0 ? String(v) : `"${v}"`;
  }
  return `${out}]`;
}

/** Integers with NaN for "not given": null there, or no column at all when nothing was given. */
function optionalJson(column: Float64Array): string | undefined {
  let given = 0;
  for (let i = 0; i < column.length; i++) if (!Number.isNaN(column[i])) given++;
  if (given === 0) return undefined;
  if (given === column.length) return `[${column.join(',')}]`;
  let out = '[';
  for (let i = 0; i < column.length; i++) {
    const v = column[i] as number;
    if (i > 0) out += ',';
    out += Number.isNaN(v) ? 'null' : String(v);
  }
  return `${out}]`;
}

export function encodeMetrics(slices: SeriesSlice[]): string {
  let nonFinite = false;
  const series: string[] = [];
  for (const s of slices) {
    nonFinite ||= hasNonFinite(s.values);
    let out = `{"name":${JSON.stringify(s.name)},"context":${s.context === null ? 'null' : JSON.stringify(s.context)}`;
    out += `,"values":${valuesJson(s.values)}`;
    const steps = optionalJson(s.steps);
    if (steps) out += `,"steps":${steps}`;
    out += `,"timestamps":[${s.timestamps.join(',')}]`;
    const epochs = optionalJson(s.epochs);
    if (epochs) out += `,"epochs":${epochs}`;
    series.push(`${out}}`);
  }
  return `{"series":[${series.join(',')}]${nonFinite ? ',"allowNonFinite":true' : ''}}`;
}

/** A value logged as a parameter or other: what JSON can carry, as the server will store it. */
export type LoggableValue = number | string | boolean | null | unknown[];

/**
 * Flattens nested objects into dotted names (`{optimizer: {name}}` → `optimizer.name`), as the
 * server does, so that coalescing keeps the latest value of each leaf. Arrays stay arrays (the
 * server keeps them as JSON text); non-finite numbers become their names, which JSON lacks.
 */
export function flattenValues(values: Record<string, unknown>, into = new Map<string, LoggableValue>(), prefix = '') {
  for (const [name, value] of Object.entries(values)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    if (typeof value === 'number') into.set(key, Number.isFinite(value) ? value : String(value));
    else if (typeof value === 'bigint') into.set(key, String(value));
    else if (value instanceof Date) into.set(key, value.toISOString());
    else if (Array.isArray(value)) into.set(key, value);
    else if (value !== null && typeof value === 'object') flattenValues(value as Record<string, unknown>, into, key);
    else into.set(key, value as string | boolean | null);
  }
  return into;
}
