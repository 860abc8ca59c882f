import type { Segment } from './series-window.js';

/**
 * Decoded sealed blocks, least recently used first out, within a byte budget. Sealed blocks are
 * immutable and a (series id, block number) pair is never reused for other points (series ids are
 * random and blocks are only ever inserted), so an entry can never go stale. Only blocks read
 * outside a caller's transaction are put here: one inside it could still be rolled back.
 */
export class DecodedBlockCache {
  private readonly entries = new Map<string, Segment>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(seriesId: string, blockNo: number): Segment | undefined {
    const key = cacheKey(seriesId, blockNo);
    const segment = this.entries.get(key);
    if (segment) {
      // Re-inserted to keep the map in least-recently-used order.
      this.entries.delete(key);
      this.entries.set(key, segment);
    }
    return segment;
  }

  put(seriesId: string, blockNo: number, segment: Segment): void {
    const size = sizeOf(segment);
    if (size > this.maxBytes) return;
    const key = cacheKey(seriesId, blockNo);
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.bytes -= sizeOf(previous);
    }
    this.entries.set(key, segment);
    this.bytes += size;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= sizeOf(entry);
    }
  }

  /** Bytes held by the decoded columns. */
  get size(): number {
    return this.bytes;
  }
}

function cacheKey(seriesId: string, blockNo: number): string {
  return `${seriesId}:${blockNo}`;
}

/** Five float64 columns and one uint32 column per point: 44 bytes, plus a fixed overhead. */
function sizeOf(segment: Segment): number {
  return segment.columns.count * 44 + 512;
}
