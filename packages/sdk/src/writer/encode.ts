import type { SeriesSlice } from './buffer.js';

/**
 * JSON bodies of the bulk metrics path (`POST /experiments/{key}/metrics`), written from the typed
 * arrays straight into bytes.
 *
 * Numbers are formatted by JSON.stringify of plain arrays: V8's fast path, about 4× faster than
 * TypedArray#join or string concatenation (25k random doubles: ~5 ms against ~18 ms), and it
 * writes NaN as null, which is what a missing step or epoch must become. It works on pieces of
 * `PIECE_POINTS`, each copied into a reused byte buffer with TextEncoder#encodeInto, so no string
 * larger than a piece (~75 KB, young generation) ever exists: a body built as one megabyte-sized
 * string, then another for the whole batch, then its UTF-8 copy, kept the old generation busy —
 * major GC pauses of tens of ms every few batches were most of the event-loop stall.
 *
 * The async encoder yields between pieces, so a training loop that awaits anything waits at most a
 * piece's worth (a millisecond or two); the synchronous one is for the process' last moments.
 */

const PIECE_POINTS = 4_096;
const encoder = new TextEncoder();

/** Appends UTF-8 into one growing buffer, reused from batch to batch. */
export class ByteWriter {
  private buffer = new Uint8Array(1 << 20);
  private length = 0;

  write(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    const room = this.length + text.length * 3;
    if (room > this.buffer.length) {
      let size = this.buffer.length * 2;
      while (size < room) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.length += encoder.encodeInto(text, this.buffer.subarray(this.length)).written;
  }

  /** What was written, as its own bytes; the writer starts empty again. */
  take(): Uint8Array {
    const bytes = this.buffer.slice(0, this.length);
    this.length = 0;
    return bytes;
  }
}

function hasNonFinite(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (v - v !== 0) return true;
  }
  return false;
}

const nonFiniteAsString = (v: number) => (v - v === 0 ? v : String(v));

/** A run of values without the brackets: NaN and ±Infinity as the strings "NaN", "Infinity", "-Infinity". */
function valuesPiece(values: Float64Array): string {
  const array = hasNonFinite(values) ? Array.from(values, nonFiniteAsString) : Array.from(values);
  return JSON.stringify(array).slice(1, -1);
}

/** A run of integers without the brackets, NaN ("not given") as null. */
function numbersPiece(column: Float64Array): string {
  return JSON.stringify(Array.from(column)).slice(1, -1);
}

function anyGiven(column: Float64Array): boolean {
  for (let i = 0; i < column.length; i++) if (!Number.isNaN(column[i])) return true;
  return false;
}

/** Writes a column piece by piece; yields (to the driver) the points of each piece. */
function* column(out: ByteWriter, values: Float64Array, piece: (part: Float64Array) => string): Generator<number> {
  out.write('[');
  for (let from = 0; from < values.length; from += PIECE_POINTS) {
    if (from > 0) out.write(',');
    const part = values.subarray(from, from + PIECE_POINTS);
    out.write(piece(part));
    yield part.length;
  }
  out.write(']');
}

/** The body, a piece of work per step: the async driver yields between steps, the sync one does not. */
function* metricsBody(out: ByteWriter, slices: SeriesSlice[]): Generator<number> {
  let nonFinite = false;
  out.write('{"series":[');
  for (const [i, s] of slices.entries()) {
    nonFinite ||= hasNonFinite(s.values);
    out.write(`${i > 0 ? ',' : ''}{"name":${JSON.stringify(s.name)},"context":${JSON.stringify(s.context)},"values":`);
    yield* column(out, s.values, valuesPiece);
    if (anyGiven(s.steps)) {
      out.write(',"steps":');
      yield* column(out, s.steps, numbersPiece);
    }
    out.write(',"timestamps":');
    yield* column(out, s.timestamps, numbersPiece);
    if (anyGiven(s.epochs)) {
      out.write(',"epochs":');
      yield* column(out, s.epochs, numbersPiece);
    }
    out.write('}');
  }
  out.write(`]${nonFinite ? ',"allowNonFinite":true' : ''}}`);
}

/** Points written between yields: small series share one turn of the event loop. */
const POINTS_PER_TURN = PIECE_POINTS;

/** The body as UTF-8, yielding to the event loop between pieces of work. */
export async function encodeMetricsAsync(
  slices: SeriesSlice[],
  out: ByteWriter,
  pause: () => Promise<void>,
): Promise<Uint8Array> {
  let since = 0;
  for (const points of metricsBody(out, slices)) {
    since += points;
    if (since >= POINTS_PER_TURN) {
      since = 0;
      await pause();
    }
  }
  return out.take();
}

/** The body at once (at exit, where nothing can wait). */
export function encodeMetricsSync(slices: SeriesSlice[], out = new ByteWriter()): Uint8Array {
  for (const _ of metricsBody(out, slices)) {
    // Nothing to wait for.
  }
  return out.take();
}

/** The body as text (tests, dead letters). */
export function encodeMetrics(slices: SeriesSlice[]): string {
  return new TextDecoder().decode(encodeMetricsSync(slices));
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
