import { endianness } from 'node:os';
import type { SeriesAxis, SeriesWindow } from '../../../../core/entities.js';

/** The binary answer of `POST /series/query?format=binary` (layout in docs/api/cairn.md). */
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
