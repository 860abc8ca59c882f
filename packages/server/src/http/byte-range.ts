import type { ByteRange } from '../core/blob.port.js';

export type RangeChoice =
  | { kind: 'full' }
  | { kind: 'partial'; range: ByteRange }
  /** Answer 416 with `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' };

const SINGLE_RANGE = /^bytes=(\d*)-(\d*)$/i;

/**
 * Interprets an HTTP `Range` header (RFC 9110 §14) against a representation of `size` bytes.
 * Only one byte range is served: several ranges, other units and malformed headers are ignored
 * and the whole body is sent, which the RFC allows and every client handles. A range that starts
 * at or past the end (or any range of an empty body) is unsatisfiable; an end past the last byte
 * is clamped.
 */
export function chooseByteRange(header: string | undefined, size: number): RangeChoice {
  if (header === undefined) return { kind: 'full' };
  const match = SINGLE_RANGE.exec(header.trim());
  const [, first = '', last = ''] = match ?? [];
  if (!match || (first === '' && last === '')) return { kind: 'full' };
  if (first === '') {
    // "bytes=-n": the last n bytes.
    const length = Number(last);
    if (!Number.isSafeInteger(length)) return { kind: 'full' };
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - length), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? Number.POSITIVE_INFINITY : Number(last);
  // "a-b" with b < a is invalid rather than unsatisfiable: the header is ignored.
  if (!Number.isSafeInteger(start) || (last !== '' && (!Number.isSafeInteger(end) || end < start))) {
    return { kind: 'full' };
  }
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', range: { start, end: Math.min(end, size - 1) } };
}
