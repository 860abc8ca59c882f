import type { BucketedColumns } from '@cairn/sdk';
import { describe, expect, it } from 'vitest';
import { alignSeries } from './chart-data';
import { formatDuration, formatValue, formatZoom, parseSmoothing, parseZoom } from './chart-format';
import { buildPlotData, runSummaries } from './plot-data';

const f = (values: number[]) => Float64Array.from(values);

const bucketed: BucketedColumns = {
  experiment: 'a',
  metric: 'loss',
  total: 20,
  inRange: 20,
  exact: false,
  x0: f([0, 10]),
  x1: f([9, 19]),
  first: f([1, 2]),
  last: f([2, -1]),
  min: f([0.5, -1]),
  max: f([3, 50]),
  mean: f([1, 1]),
  count: f([10, 10]),
};

describe('buildPlotData', () => {
  it('lays out min, max and the line per run, and the band only for buckets', () => {
    const plot = buildPlotData(alignSeries([bucketed], { cells: 2 }), { smooth: 0, log: false, outliers: false });
    expect(plot.band).toBe(true);
    expect(plot.runs).toEqual([{ experiment: 'a', minIdx: 1, maxIdx: 2, rawIdx: null, lineIdx: 3, drawn: [2, -1] }]);
    expect(plot.columns).toEqual([
      [4.75, 14.25],
      [0.5, -1],
      [3, 50],
      [2, -1],
    ]);
    expect(plot.yRange).toBeNull();
  });

  it('adds the faint raw line under smoothing, and gaps for a log scale', () => {
    const plot = buildPlotData(alignSeries([bucketed], { cells: 2 }), { smooth: 0.5, log: true, outliers: true });
    expect(plot.runs[0]).toMatchObject({ minIdx: 1, maxIdx: 2, rawIdx: 3, lineIdx: 4 });
    expect(plot.columns[1]).toEqual([0.5, null]);
    expect(plot.columns[3]).toEqual([2, null]);
    expect(plot.yRange).toEqual({ min: 2, max: 2, clipped: 0 });
  });
});

describe('runSummaries', () => {
  it('gives each run the lowest and highest value drawn, the band included, and the last one', () => {
    expect(runSummaries(alignSeries([bucketed], { cells: 2 }))).toEqual([
      { experiment: 'a', min: -1, max: 50, last: -1, points: 20 },
    ]);
  });
});

describe('URL settings and formats', () => {
  it('reads and writes zoom ranges in whole units', () => {
    expect(parseZoom('100..2000')).toEqual({ from: 100, to: 2000 });
    expect(parseZoom('1.7e12..1.8e12')).toEqual({ from: 1.7e12, to: 1.8e12 });
    expect(parseZoom('5..1')).toBeNull();
    expect(parseZoom('x..1')).toBeNull();
    expect(formatZoom(10.4, 20.2)).toBe('10..21');
  });

  it('clamps smoothing to 0–0.99', () => {
    expect(parseSmoothing('0.6')).toBe(0.6);
    expect(parseSmoothing('3')).toBe(0.99);
    expect(parseSmoothing('nope')).toBe(0);
  });

  it('formats values and durations for people', () => {
    expect(formatValue(123.456789)).toBe('123.457');
    expect(formatValue(2.5e-7)).toBe('2.5e-7');
    expect(formatValue(Number.NaN)).toBe('NaN');
    expect(formatDuration(90_000)).toBe('90 s');
    expect(formatDuration(5_400_000)).toBe('90 min');
    expect(formatDuration(10_800_000)).toBe('3 h');
  });
});
