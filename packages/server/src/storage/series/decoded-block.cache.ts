import type { Segment } from './series-window.js';

/**
 * Decoded sealed blocks, least recently used first out, within a byte budget. Sealed blocks are
 * immutable and a (series id, block number) pair is never reused for other points (series ids are
 * random and blocks are only ever inserted), so an entry can never go stale. Only blocks read
 * outside a caller's transaction are put here: one inside it could still be rolled back.
 *
 * A block nobody has read for `idleMillis` is dropped too: charts read the runs people are looking
 * at now, so without it a long-running server fills the whole budget with runs that scrolled off
 * every dashboard hours ago, and its memory only ever rises.
 */
export class DecodedBlockCache {
  /** In least-recently-used order: the oldest entry is first. */
  private readonly entries = new Map<string, { segment: Segment; usedAt: number }>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly idleMillis = DEFAULT_IDLE_MILLIS,
    private readonly now: () => number = Date.now,
  ) {}

  get(seriesId: string, blockNo: number): Segment | undefined {
    const now = this.now();
    this.dropIdle(now);
    const key = cacheKey(seriesId, blockNo);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Re-inserted to keep the map in least-recently-used order.
    this.entries.delete(key);
    this.entries.set(key, { segment: entry.segment, usedAt: now });
    return entry.segment;
  }

  put(seriesId: string, blockNo: number, segment: Segment): void {
    const now = this.now();
    this.dropIdle(now);
    const size = sizeOf(segment);
    if (size > this.maxBytes) return;
    const key = cacheKey(seriesId, blockNo);
    const previous = this.entries.get(key);
    if (previous) {
      this.entries.delete(key);
      this.bytes -= sizeOf(previous.segment);
    }
    this.entries.set(key, { segment, usedAt: now });
    this.bytes += size;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.drop(oldest, entry.segment);
    }
  }

  /** Drops entries from the least recently used end while they have been idle too long. */
  private dropIdle(now: number): void {
    for (const [oldest, entry] of this.entries) {
      if (now - entry.usedAt < this.idleMillis) break;
      this.drop(oldest, entry.segment);
    }
  }

  private drop(key: string, segment: Segment): void {
    this.entries.delete(key);
    this.bytes -= sizeOf(segment);
  }

  /** Bytes held by the decoded columns. */
  get size(): number {
    return this.bytes;
  }
}

/** Five minutes: a dashboard left open re-reads its runs far more often than that. */
export const DEFAULT_IDLE_MILLIS = 5 * 60 * 1000;

function cacheKey(seriesId: string, blockNo: number): string {
  return `${seriesId}:${blockNo}`;
}

/** Five float64 columns and one uint32 column per point: 44 bytes, plus a fixed overhead. */
function sizeOf(segment: Segment): number {
  return segment.columns.count * 44 + 512;
}
