import { describe, expect, it } from 'vitest';
import {
  appendTailFrame,
  decodeBlock,
  decodeTail,
  decodeTailColumns,
  encodeBlock,
  type StoredPoint,
} from './block-codec.js';

/** The points behind the golden payloads below (encoded by the BigInt XOR coder the byte-wise one replaced). */
function goldenPoints(): StoredPoint[] {
  const values = [0.1, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308, 5e-324, -2.5];
  return [...values, 0.30000000000000004, 1 / 3].map((value, i) => ({
    offset: i * 3,
    value,
    step: i === 2 ? null : i * 10,
    epoch: i < 5 ? null : i,
    timestamp: 1_700_000_000_000 + i * 7,
    contextId: i % 2,
  }));
}
const GOLDEN_BLOCK =
  'Y+RiYIOB38wMIhoiYPCAmYuJiYmpYcHqfz+T+GCAgREOZ81iYGBYsJDRJHHmTAYGhhMnGIzTwKzXr2Gs1lYY6/NnGOvMGQbjtJ07f3AwCD5kuc5mv/8/Q0ND/YH/DAA=';
const GOLDEN_TAIL =
  'OQEEAAYGBgsAFCgAgKCr/vliDg4OAAEAAQCamgAAmZkAAJmZAACZmQAAmZkAAJmZAAC5ufgIP7//AFcBBhgGBgYGBj9QFBQUFBQ+CgICAgK4oKv++WIODg4ODgABAAEAAQAAoKEBNGEAyMgAM2YA6+sAM2YAhYUAM2YA8/MAM2YAzMwAM2bwEeEE1wb/gH/A/wA=';

function expectSamePoints(actual: StoredPoint[], expected: StoredPoint[]): void {
  expect(actual).toEqual(expected);
  // toEqual aside, -0 must stay -0 and NaN NaN: compare the values bit for bit.
  expect(actual.map((p) => Object.is(p.value, -0))).toEqual(expected.map((p) => Object.is(p.value, -0)));
  expect(Float64Array.from(actual, (p) => p.value)).toEqual(Float64Array.from(expected, (p) => p.value));
}

describe('series block codec', () => {
  it('reads blocks and tails written by earlier versions', () => {
    const points = goldenPoints();
    expectSamePoints(decodeBlock(Buffer.from(GOLDEN_BLOCK, 'base64')), points);
    expectSamePoints(decodeTail(Buffer.from(GOLDEN_TAIL, 'base64')), points);
  });

  it('round-trips NaN, ±Infinity, -0, huge and tiny doubles bit for bit', () => {
    const points = goldenPoints();
    expectSamePoints(decodeBlock(encodeBlock(points)), points);
    expectSamePoints(decodeTail(appendTailFrame(appendTailFrame(null, points.slice(0, 3)), points.slice(3))), points);
    expect(Buffer.from(encodeBlock(points)).toString('base64')).toBe(GOLDEN_BLOCK);
  });

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

describe('tail frames', () => {
  const point = (offset: number, value: number, step: number | null, contextId = 0): StoredPoint => ({
    offset,
    value,
    step,
    epoch: step === null ? 3 : null,
    timestamp: 1_700_000_000_000 + offset,
    contextId,
  });

  it('keeps the points of every append, in order, across frames of different value encodings', () => {
    const appends = [
      [point(0, 0.5, 0), point(1, 0.25, 1)],
      [point(2, Number.NaN, null, 1)],
      [point(3, 1 / 3, 2 ** 52 + 1), point(4, -0, -5), point(5, Number.NEGATIVE_INFINITY, 6, 2)],
    ];
    let tail: Uint8Array | null = null;
    for (const frame of appends) tail = appendTailFrame(tail, frame);
    const all = appends.flat();
    const back = decodeTail(tail);
    expect(back).toEqual(all);
    expect(Object.is(back[4]?.value, -0)).toBe(true);
    const columns = decodeTailColumns(tail as Uint8Array);
    expect(columns.count).toBe(6);
    expect([...columns.offsets]).toEqual([0, 1, 2, 3, 4, 5]);
    expect([...columns.contextIds]).toEqual([0, 0, 1, 0, 0, 2]);
  });

  it('reads an absent tail as no points and stays small', () => {
    expect(decodeTail(null)).toEqual([]);
    const points = Array.from({ length: 256 }, (_, i) => point(i, Math.sin(i), i));
    let tail: Uint8Array | null = null;
    for (let i = 0; i < 256; i += 32) tail = appendTailFrame(tail, points.slice(i, i + 32));
    expect(decodeTail(tail)).toEqual(points);
    // Doubles cost 8 bytes; the other columns about one each.
    expect((tail as Uint8Array).length / points.length).toBeLessThan(16);
  });

  it('rejects a truncated tail instead of returning wrong points', () => {
    const tail = appendTailFrame(null, [point(0, 1, 0), point(1, 2, 1)]);
    expect(() => decodeTail(tail.subarray(0, tail.length - 3))).toThrow();
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
