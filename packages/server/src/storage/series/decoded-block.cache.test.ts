import { describe, expect, it } from 'vitest';
import { DecodedBlockCache } from './decoded-block.cache.js';
import { type Segment, segmentOf } from './series-window.js';

function segment(count: number): Segment {
  return segmentOf({
    count,
    offsets: new Float64Array(count),
    steps: new Float64Array(count),
    epochs: new Float64Array(count),
    timestamps: new Float64Array(count),
    contextIds: new Uint32Array(count),
    values: new Float64Array(count),
  });
}

describe('decoded block cache', () => {
  it('keeps within its byte budget by dropping the least recently used blocks', () => {
    // Room for two 1,000-point blocks (44 bytes a point plus a fixed overhead), not three.
    const cache = new DecodedBlockCache(2 * (1000 * 44 + 512));
    const a = segment(1000);
    const b = segment(1000);
    const c = segment(1000);
    cache.put('s', 0, a);
    cache.put('s', 1, b);
    expect(cache.get('s', 0)).toBe(a); // now b is the least recently used
    cache.put('t', 0, c);
    expect(cache.get('s', 1)).toBeUndefined();
    expect(cache.get('s', 0)).toBe(a);
    expect(cache.get('t', 0)).toBe(c);
    expect(cache.size).toBe(2 * (1000 * 44 + 512));
  });

  it('never holds a block larger than the whole budget, and replaces an entry in place', () => {
    const cache = new DecodedBlockCache(10_000);
    cache.put('s', 0, segment(1000));
    expect(cache.get('s', 0)).toBeUndefined();
    expect(cache.size).toBe(0);
    const small = segment(10);
    cache.put('s', 1, segment(10));
    cache.put('s', 1, small);
    expect(cache.get('s', 1)).toBe(small);
    expect(cache.size).toBe(10 * 44 + 512);
  });

  it('drops blocks nobody has read for the idle time, and keeps those still being read', () => {
    let now = 0;
    const cache = new DecodedBlockCache(1_000_000, 60_000, () => now);
    const read = segment(10);
    cache.put('s', 0, read);
    cache.put('s', 1, segment(10));
    now = 40_000;
    expect(cache.get('s', 0)).toBe(read); // block 0 used again at 40 s; block 1 not since 0 s
    now = 60_000;
    expect(cache.get('t', 0)).toBeUndefined(); // any access sweeps the idle end
    expect(cache.size).toBe(10 * 44 + 512);
    expect(cache.get('s', 1)).toBeUndefined();
    now = 99_999;
    expect(cache.get('s', 0)).toBe(read);
    now = 200_000;
    cache.put('u', 0, segment(10));
    expect(cache.get('s', 0)).toBeUndefined();
    expect(cache.size).toBe(10 * 44 + 512);
  });
});
