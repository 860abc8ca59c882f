import { endianness } from 'node:os';
import type { MetricColumns, SeriesAxis, SeriesWindow } from '../../../../core/entities.js';

/**
 * The binary answers of `POST /series/query?format=binary` and of a series' points (layouts in
 * docs/api/cairn.md).
 */
export const SERIES_BINARY_MEDIA_TYPE = 'application/vnd.cairn.series';

const LITTLE_ENDIAN = endianness() === 'LE';

function columnsOf(window: SeriesWindow): Float64Array[] {
  return window.exact
    ? [window.x, window.values]
    : [window.x0, window.x1, window.first, window.last, window.min, window.max, window.mean, window.count];
}

/**
 * A JSON header (`{ x, series: [{ experiment, metric, total, inRange, exact, length }] }`) after
 * its uint32 byte length, zero-padded to a multiple of 8, then each series' columns as
 * little-endian float64 arrays of `length` values, in the order of the JSON answer's fields.
 * Nothing is formatted as text: NaN and infinities are IEEE values, and a reader can view every
 * column in place (`new Float64Array(buffer, offset, length)`).
 */
export function encodeSeriesBinary(x: SeriesAxis, windows: readonly SeriesWindow[]): Buffer {
  const header = Buffer.from(
    JSON.stringify({
      x,
      series: windows.map((w) => ({
        experiment: w.experimentId,
        metric: w.metric,
        total: w.total,
        inRange: w.inRange,
        exact: w.exact,
        length: w.exact ? w.x.length : w.x0.length,
      })),
    }),
  );
  const columnsStart = Math.ceil((4 + header.length) / 8) * 8;
  let size = columnsStart;
  for (const window of windows) for (const column of columnsOf(window)) size += column.byteLength;
  // Buffer.alloc has a buffer of its own (never the shared pool), so offset 0 is 8-byte aligned.
  const out = Buffer.alloc(size);
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  let at = columnsStart;
  for (const window of windows) {
    for (const column of columnsOf(window)) {
      if (LITTLE_ENDIAN) {
        new Float64Array(out.buffer, out.byteOffset + at, column.length).set(column);
      } else {
        for (let i = 0; i < column.length; i++) out.writeDoubleLE(column[i] as number, at + i * 8);
      }
      at += column.byteLength;
    }
  }
  return out;
}

/** Whether an Accept header names the binary media type (parameters and q-values aside). */
export function acceptsSeriesBinary(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((range) => {
    const [type, ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    if (type !== SERIES_BINARY_MEDIA_TYPE) return false;
    // "q=0" means "not acceptable".
    return !parameters.some((p) => /^q=0(\.0*)?$/.test(p));
  });
}

/**
 * A series' points: a JSON header (`{ name, total, length, contexts }`) after its uint32 byte
 * length, zero-padded to a multiple of 8, then `length` little-endian float64 offsets, steps,
 * values, timestamps and epochs (an absent step or epoch is NaN), then `length` uint32 indexes
 * into `contexts` (null is the default context).
 */
export function encodeMetricColumnsBinary(name: string, columns: MetricColumns): Buffer {
  const length = columns.offsets.length;
  const header = Buffer.from(JSON.stringify({ name, total: columns.total, length, contexts: columns.contexts }));
  const columnsStart = Math.ceil((4 + header.length) / 8) * 8;
  const floats = [columns.offsets, columns.steps, columns.values, columns.timestamps, columns.epochs];
  // Buffer.alloc has a buffer of its own (never the shared pool), so offset 0 is 8-byte aligned.
  const out = Buffer.alloc(columnsStart + length * (floats.length * 8 + 4));
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  let at = columnsStart;
  for (const column of floats) {
    if (LITTLE_ENDIAN) {
      new Float64Array(out.buffer, out.byteOffset + at, length).set(column);
    } else {
      for (let i = 0; i < length; i++) out.writeDoubleLE(column[i] as number, at + i * 8);
    }
    at += length * 8;
  }
  if (LITTLE_ENDIAN) {
    new Uint32Array(out.buffer, out.byteOffset + at, length).set(columns.contextIds);
  } else {
    for (let i = 0; i < length; i++) out.writeUInt32LE(columns.contextIds[i] as number, at + i * 4);
  }
  return out;
}
