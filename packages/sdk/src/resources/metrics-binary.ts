import type { MetricsBinaryHeader, METRICS_BINARY_MEDIA_TYPE as SCHEMA_MEDIA_TYPE } from '@cairn/schemas/cairn';
import type { LogSeriesRequest } from '../types.js';

/**
 * The schema's media type restated, because the SDK loads nothing but itself at run time (types
 * only from `@cairn/schemas`); the annotation fails the build if the two ever differ.
 */
export const METRICS_BINARY_MEDIA_TYPE: typeof SCHEMA_MEDIA_TYPE = 'application/vnd.cairn.metrics';

/** A series as typed columns: NaN in `steps`, `timestamps` or `epochs` means "not given". */
export interface SeriesColumns {
  name: string;
  context?: string | null;
  values: Float64Array | readonly number[];
  steps?: Float64Array | readonly number[];
  timestamps?: Float64Array | readonly number[];
  epochs?: Float64Array | readonly number[];
}

const OPTIONAL = ['steps', 'timestamps', 'epochs'] as const;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const encoder = new TextEncoder();

function checkLengths(s: SeriesColumns): void {
  for (const column of OPTIONAL) {
    const values = s[column];
    if (values && values.length !== s.values.length) {
      throw new RangeError(`series "${s.name}": ${column} has ${values.length} entries, values has ${s.values.length}`);
    }
  }
}

/**
 * The `application/vnd.cairn.metrics` body (docs/api/cairn.md): a uint32 LE header length, the
 * JSON header, zero bytes to a multiple of 8, then each series' columns as little-endian float64.
 * The columns are copied as bytes: no number is formatted as text.
 */
export function encodeMetricsBinary(series: readonly SeriesColumns[], allowNonFinite?: boolean): Uint8Array {
  const header: MetricsBinaryHeader = {
    series: series.map((s) => {
      checkLengths(s);
      const entry: MetricsBinaryHeader['series'][number] = { name: s.name, length: s.values.length };
      if (s.context !== undefined) entry.context = s.context;
      for (const column of OPTIONAL) if (s[column]) entry[column] = true;
      return entry;
    }),
  };
  if (allowNonFinite !== undefined) header.allowNonFinite = allowNonFinite;
  const headerBytes = encoder.encode(JSON.stringify(header));
  const start = Math.ceil((4 + headerBytes.length) / 8) * 8;
  let size = start;
  for (const s of series) size += 8 * s.values.length * (1 + OPTIONAL.filter((c) => s[c]).length);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true);
  out.set(headerBytes, 4);
  let at = start;
  for (const s of series) {
    for (const column of [s.values, ...OPTIONAL.map((c) => s[c])]) {
      if (!column) continue;
      if (LITTLE_ENDIAN) new Float64Array(out.buffer, at, column.length).set(column);
      else for (let i = 0; i < column.length; i++) view.setFloat64(at + 8 * i, column[i] as number, true);
      at += 8 * column.length;
    }
  }
  return out;
}

/** The same content as a JSON body, for servers without the binary one. */
export function metricsJsonBody(series: readonly SeriesColumns[], allowNonFinite?: boolean): LogSeriesRequest {
  const given = (column: Float64Array | readonly number[]) => Array.from(column, (v) => (Number.isNaN(v) ? null : v));
  return {
    series: series.map((s) => {
      checkLengths(s);
      const out: LogSeriesRequest['series'][number] = {
        name: s.name,
        values: Array.from(s.values, (v) => (Number.isFinite(v) ? v : String(v))),
      };
      if (s.context !== undefined) out.context = s.context;
      for (const column of OPTIONAL) {
        const values = s[column];
        if (values) out[column] = given(values);
      }
      return out;
    }),
    ...(allowNonFinite === undefined ? {} : { allowNonFinite }),
  };
}
