import { describe, expect, it } from 'vitest';
import { decodeBlock, encodeBlock, type StoredPoint } from './block-codec.js';

describe('series block codec', () => {
  it('round-trips points exactly, including nulls, negatives, NaN and large numbers', () => {
    const points: StoredPoint[] = [
      { offset: 0, value: 0.5, step: 0, epoch: null, timestamp: 1_700_000_000_000, contextId: 0 },
      { offset: 3, value: -1e300, step: null, epoch: 2, timestamp: 1_700_000_000_005, contextId: 1 },
      { offset: 9, value: Number.NaN, step: -7, epoch: 3, timestamp: 1_699_999_999_999, contextId: 0 },
      { offset: 2 ** 40, value: 1 / 3, step: 2 ** 50, epoch: null, timestamp: 0, contextId: 2 },
    ];
    expect(decodeBlock(encodeBlock(points))).toEqual(points);
  });

  it('round-trips steps and timestamps whose deltas leave the exact range of doubles', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const points: StoredPoint[] = [
      { offset: 0, value: 1, step: max, epoch: -max, timestamp: 0, contextId: 0 },
      { offset: 1, value: 2, step: -max, epoch: max, timestamp: 2 ** 60, contextId: 0 },
      { offset: 2, value: 3, step: 2 ** 52 + 1, epoch: null, timestamp: 1e300, contextId: 0 },
      { offset: 3, value: 4, step: 0, epoch: -(2 ** 52) - 1, timestamp: 7, contextId: 0 },
      { offset: 4, value: 5, step: -(2 ** 52) - 3, epoch: 1, timestamp: 1_700_000_000_000, contextId: 0 },
    ];
    expect(decodeBlock(encodeBlock(points))).toEqual(points);
  });

  it('compresses a regular series well below 8 bytes per point', () => {
    const points: StoredPoint[] = Array.from({ length: 4096 }, (_, i) => ({
      offset: i,
      value: Math.round(1000 * Math.exp(-i / 1000)) / 1000,
      step: i,
      epoch: Math.floor(i / 100),
      timestamp: 1_700_000_000_000 + i * 10,
      contextId: 0,
    }));
    const encoded = encodeBlock(points);
    expect(decodeBlock(encoded)).toEqual(points);
    expect(encoded.length / points.length).toBeLessThan(4);
  });

  it('rejects a corrupt payload instead of returning wrong points', () => {
    expect(() => decodeBlock(new Uint8Array([1, 2, 3]))).toThrow();
  });
});

describe('decimal values', () => {
  const block = (values: number[]): StoredPoint[] =>
    values.map((value, i) => ({
      offset: i,
      value,
      step: i,
      epoch: null,
      timestamp: 1_700_000_000_000 + i,
      contextId: 0,
    }));

  it('stores decimal metrics as scaled integers, losslessly and far smaller than doubles', () => {
    const decimals = block(Array.from({ length: 4096 }, (_, i) => Math.round(Math.exp(-i / 900) * 1e4) / 1e4));
    const doubles = block(Array.from({ length: 4096 }, (_, i) => Math.exp(-i / 900) + i * 1e-9));
    expect(decodeBlock(encodeBlock(decimals))).toEqual(decimals);
    expect(encodeBlock(decimals).length).toBeLessThan(encodeBlock(doubles).length / 4);
  });

  it('falls back to doubles for anything a decimal cannot hold exactly', () => {
    for (const odd of [
      [0.1, -0],
      [0.5, Number.NaN],
      [1, Number.POSITIVE_INFINITY],
      [0.1, 1 / 3],
      [2 ** 60, 1],
    ]) {
      const points = block(odd);
      const back = decodeBlock(encodeBlock(points));
      back.forEach((p, i) => {
        expect(Object.is(p.value, odd[i])).toBe(true);
      });
    }
  });
});
