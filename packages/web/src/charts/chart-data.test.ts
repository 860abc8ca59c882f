import type { BucketedColumns, ExactColumns } from '@cairn/sdk';
import { describe, expect, it } from 'vitest';
import { alignSeries, appendLivePoints, debiasedEma, outlierRange, positiveOnly, quantile } from './chart-data';

const f = (values: number[]) => Float64Array.from(values);

function exact(experiment: string, x: number[], values: number[]): ExactColumns {
  return { experiment, metric: 'loss', total: x.length, inRange: x.length, exact: true, x: f(x), values: f(values) };
}

function buckets(
  experiment: string,
  rows: { x0: number; x1: number; last: number; min: number; max: number; count: number }[],
): BucketedColumns {
  const col = (name: keyof (typeof rows)[number]) => f(rows.map((r) => r[name]));
  const total = rows.reduce((n, r) => n + r.count, 0);
  return {
    experiment,
    metric: 'loss',
    total,
    inRange: total,
    exact: false,
    x0: col('x0'),
    x1: col('x1'),
    first: col('last'),
    last: col('last'),
    min: col('min'),
    max: col('max'),
    mean: col('last'),
    count: col('count'),
  };
}

describe('alignSeries', () => {
  it('puts exact runs on the union of their x values, the newest value of a re-logged step drawn', () => {
    const chart = alignSeries([exact('a', [0, 1, 2, 2], [5, 6, 7, 8]), exact('b', [1, 3], [1, 2])], { cells: 100 });
    expect(chart.exact).toBe(true);
    expect(chart.xs).toEqual([0, 1, 2, 3]);
    expect(chart.runs[0]?.line).toEqual([5, 6, 8, null]);
    expect(chart.runs[1]?.line).toEqual([null, 1, null, 2]);
    expect(chart.runs[0]?.min).toEqual([null, null, null, null]);
    expect(chart.points).toBe(5);
    expect(chart.lastX).toBe(3);
    expect(chart.halfCell).toBe(0);
  });

  it('puts buckets on one grid at the cell centers, merging two buckets of a cell without losing an extreme', () => {
    const a = buckets('a', [
      { x0: 0, x1: 4, last: 1, min: 0, max: 2, count: 5 },
      { x0: 5, x1: 9, last: 3, min: -1, max: 3, count: 5 },
      { x0: 10, x1: 10, last: 4, min: 4, max: 4, count: 1 },
    ]);
    const b = buckets('b', [
      { x0: 0, x1: 2, last: 7, min: 7, max: 9, count: 3 },
      { x0: 3, x1: 4, last: 6, min: 6, max: 100, count: 2 },
    ]);
    // Two cells over [0, 10]: b's two buckets fall in cell 0 and merge.
    const chart = alignSeries([a, b], { cells: 2 });
    expect(chart.exact).toBe(false);
    expect(chart.xs).toEqual([2.5, 7.5]);
    expect(chart.halfCell).toBe(2.5);
    expect(chart.runs[0]?.line).toEqual([1, 4]);
    expect(chart.runs[0]?.min).toEqual([0, -1]);
    expect(chart.runs[0]?.max).toEqual([2, 4]);
    expect(chart.runs[0]?.count).toEqual([5, 6]);
    expect(chart.runs[1]?.line).toEqual([6, null]);
    expect(chart.runs[1]?.max).toEqual([100, null]);
    expect(chart.maxPerCell).toBe(6);
    expect(chart.lastX).toBe(10);
    expect(chart.points).toBe(3);
  });

  it("uses the zoom window as the grid, so cells are the server's buckets", () => {
    const a = buckets('a', [
      { x0: 100, x1: 104, last: 1, min: 1, max: 1, count: 5 },
      { x0: 195, x1: 199, last: 2, min: 2, max: 2, count: 5 },
    ]);
    const chart = alignSeries([a], { cells: 10, lo: 100, hi: 200 });
    expect(chart.xs).toEqual([105, 195]);
  });

  it('treats exact points beside bucketed runs as buckets of one, and NaN takes no part in the extremes', () => {
    const a = buckets('a', [{ x0: 0, x1: 9, last: Number.NaN, min: 1, max: 2, count: 10 }]);
    const b = exact('b', [0, 1], [Number.NaN, 3]);
    const chart = alignSeries([a, b], { cells: 1 });
    expect(chart.runs[0]?.line[0]).toBeNaN();
    expect(chart.runs[1]?.line).toEqual([3]);
    expect(chart.runs[1]?.min).toEqual([3]);
    expect(chart.runs[1]?.count).toEqual([2]);
  });

  it('draws nothing for no series', () => {
    const chart = alignSeries([], { cells: 100 });
    expect(chart).toMatchObject({ xs: [], exact: true, points: 0, lastX: null });
  });
});

describe('debiasedEma', () => {
  it("matches TensorBoard's debiased EMA", () => {
    const smoothed = debiasedEma([1, 2, 3], 0.5);
    // last = 0.5, 1.25, 2.125 over debias 0.5, 0.75, 0.875
    expect(smoothed).toEqual([1, 1.25 / 0.75, 2.125 / 0.875]);
  });

  it('keeps gaps, passes non-finite values through, and leaves constants and weight 0 alone', () => {
    expect(debiasedEma([1, null, Number.POSITIVE_INFINITY, 3], 0.5)).toEqual([
      1,
      null,
      Number.POSITIVE_INFINITY,
      (1 * 0.25) / 0.75 + (3 * 0.5) / 0.75,
    ]);
    expect(debiasedEma([2, 2, 2], 0.9)).toEqual([2, 2, 2]);
    expect(debiasedEma([1, 5], 0)).toEqual([1, 5]);
  });
});

describe('outlierRange', () => {
  it('takes the 1st–99th percentile and counts what falls outside', () => {
    const values = Array.from({ length: 101 }, (_, i) => i);
    values[100] = 1e9;
    const range = outlierRange([values]);
    expect(range?.min).toBeCloseTo(1);
    expect(range?.max).toBeCloseTo(99);
    expect(range?.clipped).toBe(2);
  });

  it('skips gaps, non-finite values and, on a log scale, values ≤ 0', () => {
    expect(outlierRange([[null, Number.NaN, -5, 0, 10]], { log: true })).toEqual({ min: 10, max: 10, clipped: 0 });
    expect(outlierRange([[null]])).toBeNull();
  });

  it('interpolates quantiles linearly', () => {
    expect(quantile([0, 10], 0.25)).toBe(2.5);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('positiveOnly', () => {
  it('turns what a log scale cannot draw into gaps', () => {
    expect(positiveOnly([1, 0, -1, Number.NaN, null, 2])).toEqual([1, null, null, null, null, 2]);
  });
});

describe('appendLivePoints', () => {
  it('appends exact points in x order and drops those outside the zoom window', () => {
    const next = appendLivePoints(
      exact('a', [0, 1], [1, 2]),
      { x: [3, 2, 50], values: [4, 3, 9] },
      {
        from: 0,
        to: 10,
        bucketWidth: 0,
      },
    );
    expect(next.exact && [...next.x]).toEqual([0, 1, 2, 3]);
    expect(next.exact && [...next.values]).toEqual([1, 2, 3, 4]);
    expect(next.total).toBe(4);
  });

  it('extends the last bucket within one bucket width, else starts a new one', () => {
    const start = buckets('a', [{ x0: 0, x1: 9, last: 1, min: 0, max: 2, count: 10 }]);
    const next = appendLivePoints(start, { x: [9.5, 9.8, 25], values: [-3, 7, 8] }, { bucketWidth: 10 });
    if (next.exact) throw new Error('expected buckets');
    expect([...next.x0]).toEqual([0, 25]);
    expect([...next.x1]).toEqual([9.8, 25]);
    expect([...next.last]).toEqual([7, 8]);
    expect([...next.min]).toEqual([-3, 8]);
    expect([...next.max]).toEqual([7, 8]);
    expect([...next.count]).toEqual([12, 1]);
  });
});
