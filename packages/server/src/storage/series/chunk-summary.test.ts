import { describe, expect, it } from 'vitest';
import type { StoredPoint } from './block-codec.js';
import {
  CHUNK_SIZE,
  decodeChunkSummaries,
  downsampleChunks,
  encodeChunkSummaries,
  summarizeChunks,
} from './chunk-summary.js';

const points = (values: number[]): StoredPoint[] =>
  values.map((value, i) => ({
    offset: i,
    value,
    step: i % 3 === 0 ? null : i,
    epoch: null,
    timestamp: 1000 + i,
    contextId: 0,
  }));

describe('chunk summaries', () => {
  it('round-trip through their encoding, NaN-only chunks included', () => {
    const values = Array.from({ length: CHUNK_SIZE * 2 + 7 }, (_, i) => Math.sin(i) * 10);
    for (let i = CHUNK_SIZE; i < 2 * CHUNK_SIZE; i++) values[i] = Number.NaN;
    const chunks = summarizeChunks(points(values));
    expect(chunks.map((c) => c.count)).toEqual([CHUNK_SIZE, CHUNK_SIZE, 7]);
    expect(chunks[1]?.min).toBeUndefined();
    const bytes = encodeChunkSummaries(chunks);
    // A Buffer slice at an odd byte offset, as drivers return them.
    const misaligned = Buffer.concat([Buffer.from([0]), Buffer.from(bytes)]).subarray(1);
    expect(decodeChunkSummaries(misaligned)).toEqual(chunks);
  });

  it('keeps every bucket’s exact extremes, first logged winning ties', () => {
    const values = Array.from({ length: CHUNK_SIZE * 8 }, (_, i) => (i * 7919) % 1000);
    values[100] = -5;
    values[101] = -5;
    values[1501] = 2000;
    const stored = points(values);
    const sampled = downsampleChunks(summarizeChunks(stored), stored.length, 4);
    // Buckets of 512 points: each contributes its min and its max, in offset order.
    expect(sampled).toHaveLength(8);
    expect(sampled.map((p) => p.offset)).toEqual([...sampled.map((p) => p.offset)].sort((a, b) => a - b));
    for (let b = 0; b < 4; b++) {
      const bucket = stored.slice(b * 512, (b + 1) * 512);
      const lo = Math.min(...bucket.map((p) => p.value));
      const hi = Math.max(...bucket.map((p) => p.value));
      const kept = sampled.filter((p) => p.offset >= b * 512 && p.offset < (b + 1) * 512).map((p) => p.value);
      expect(kept.sort((x, y) => x - y)).toEqual([lo, hi]);
    }
    expect(sampled.find((p) => p.value === -5)?.offset).toBe(100);
    expect(sampled.find((p) => p.value === 2000)).toMatchObject({ offset: 1501, step: 1501, timestamp: 2501 });
  });
});
