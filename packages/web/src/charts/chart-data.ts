import type { BucketedColumns, ChartColumns, ExactColumns } from '@cairn/sdk';

/**
 * The pure half of a chart: server columns → one x array shared by every run (uPlot draws
 * aligned data), smoothing, outlier ranges and live appends. Nothing here touches the DOM.
 */

export type RunColumns = ExactColumns | BucketedColumns;
export type XAxis = ChartColumns['x'];

/** Per run, values aligned on `xs` (null where the run has no point). */
export interface AlignedRun {
  experiment: string;
  /** The drawn line: the exact value, or the bucket's `last`. */
  line: (number | null)[];
  /** The bucket's extremes (null everywhere when exact: no band to draw). */
  min: (number | null)[];
  max: (number | null)[];
  /** Points behind each cell (1 for exact points). */
  count: number[];
}

export interface AlignedChart {
  xs: number[];
  /** Half the width of a cell (0 when exact): a tooltip shows the x range a value stands for. */
  halfCell: number;
  runs: AlignedRun[];
  /** Every series came back exact: the points themselves, no band. */
  exact: boolean;
  /** The most points behind one drawn cell (1 when exact). */
  maxPerCell: number;
  /** Drawn line values (not null). */
  points: number;
  /** The highest x of a drawn point (not of its cell), null when nothing is drawn. */
  lastX: number | null;
}

function lastOf(values: Float64Array): number {
  return values[values.length - 1] as number;
}

/**
 * Lines every run up on one x array.
 *
 * A bucket is drawn as its `last` value (not its `mean`): `last` is a value that was logged, so
 * zooming in converges on the exact line without the line changing meaning, and a live point
 * that extends the last bucket simply becomes its `last`. The mean would flatten the line
 * differently at every zoom; the extremes the line leaves out are the band (min … max). Exact series keep their own x values (the union of all
 * runs'). Bucketed ones are put on one grid of `cells` equal cells over `[lo, hi]` (the zoom
 * range, else the union of the runs' ranges): the server buckets each series over its own x
 * range, so the runs' bucket edges differ and a plain union would hold up to runs × buckets x
 * values. With `cells` = the plot's width in device pixels a cell is at most a pixel wide, so
 * drawing at the cell's center moves nothing visibly, and two buckets landing in one cell merge
 * without losing an extreme (min of mins, max of maxes, the later `last`).
 */
export function alignSeries(
  series: readonly RunColumns[],
  options: { cells: number; lo?: number | null; hi?: number | null },
): AlignedChart {
  const exact = series.every((s) => s.exact);
  return exact ? alignExact(series as ExactColumns[]) : alignOnGrid(series, options);
}

function alignExact(series: readonly ExactColumns[]): AlignedChart {
  const all = new Set<number>();
  for (const s of series) for (const x of s.x) all.add(x);
  const xs = [...all].sort((a, b) => a - b);
  const index = new Map<number, number>();
  xs.forEach((x, i) => {
    index.set(x, i);
  });
  let points = 0;
  const runs = series.map((s) => {
    const line: (number | null)[] = new Array(xs.length).fill(null);
    const count: number[] = new Array(xs.length).fill(0);
    // Ordered by x then logging order: a re-logged step's newest value is drawn.
    for (let i = 0; i < s.x.length; i++) {
      const at = index.get(s.x[i] as number) as number;
      if (line[at] === null) points++;
      line[at] = s.values[i] as number;
      count[at] = (count[at] as number) + 1;
    }
    return {
      experiment: s.experiment,
      line,
      min: new Array(xs.length).fill(null),
      max: new Array(xs.length).fill(null),
      count,
    };
  });
  return {
    xs,
    halfCell: 0,
    runs,
    exact: true,
    maxPerCell: 1,
    points,
    lastX: xs.length > 0 ? (xs[xs.length - 1] as number) : null,
  };
}

function alignOnGrid(
  series: readonly RunColumns[],
  options: { cells: number; lo?: number | null; hi?: number | null },
): AlignedChart {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of series) {
    const first = s.exact ? s.x : s.x0;
    const last = s.exact ? s.x : s.x1;
    if (first.length === 0) continue;
    lo = Math.min(lo, first[0] as number);
    hi = Math.max(hi, lastOf(last));
  }
  const dataHi = hi;
  if (options.lo != null) lo = options.lo;
  if (options.hi != null) hi = options.hi;
  const cells = Math.max(1, Math.floor(options.cells));
  const empty = !Number.isFinite(lo) || !Number.isFinite(hi);
  const span = hi - lo;
  const cellOf = (x: number) =>
    span > 0 ? Math.min(cells - 1, Math.max(0, Math.floor(((x - lo) * cells) / span))) : 0;

  interface Cell {
    line: number;
    lineX: number;
    min: number;
    max: number;
    count: number;
  }
  const perRun = series.map(() => new Map<number, Cell>());
  const used = new Set<number>();
  const put = (cellsOfRun: Map<number, Cell>, x: number, last: number, min: number, max: number, count: number) => {
    const c = cellOf(x);
    used.add(c);
    const cell = cellsOfRun.get(c);
    if (!cell) {
      cellsOfRun.set(c, { line: last, lineX: x, min, max, count });
      return;
    }
    if (x >= cell.lineX) {
      cell.line = last;
      cell.lineX = x;
    }
    // NaN takes no part in the extremes (as on the server); a cell of NaN alone stays NaN.
    cell.min = Number.isNaN(cell.min) ? min : Number.isNaN(min) ? cell.min : Math.min(cell.min, min);
    cell.max = Number.isNaN(cell.max) ? max : Number.isNaN(max) ? cell.max : Math.max(cell.max, max);
    cell.count += count;
  };
  if (!empty) {
    series.forEach((s, r) => {
      const target = perRun[r] as Map<number, Cell>;
      if (s.exact) {
        for (let i = 0; i < s.x.length; i++) {
          const v = s.values[i] as number;
          put(target, s.x[i] as number, v, v, v, 1);
        }
      } else {
        // `last` belongs at x1, where the bucket's last point was logged.
        for (let i = 0; i < s.x1.length; i++) {
          put(
            target,
            s.x1[i] as number,
            s.last[i] as number,
            s.min[i] as number,
            s.max[i] as number,
            s.count[i] as number,
          );
        }
      }
    });
  }
  const order = [...used].sort((a, b) => a - b);
  const width = span > 0 ? span / cells : 0;
  const xs = order.map((c) => (span > 0 ? lo + (c + 0.5) * width : lo));
  let points = 0;
  let maxPerCell = 0;
  const runs = series.map((s, r) => {
    const cellsOfRun = perRun[r] as Map<number, Cell>;
    const line: (number | null)[] = [];
    const min: (number | null)[] = [];
    const max: (number | null)[] = [];
    const count: number[] = [];
    for (const c of order) {
      const cell = cellsOfRun.get(c);
      line.push(cell ? cell.line : null);
      min.push(cell ? cell.min : null);
      max.push(cell ? cell.max : null);
      count.push(cell ? cell.count : 0);
      if (cell) {
        points++;
        maxPerCell = Math.max(maxPerCell, cell.count);
      }
    }
    return { experiment: s.experiment, line, min, max, count };
  });
  return {
    xs,
    halfCell: width / 2,
    runs,
    exact: false,
    maxPerCell,
    points,
    lastX: xs.length > 0 ? dataHi : null,
  };
}

/**
 * TensorBoard's smoothing: an exponential moving average debiased like Adam's moments, so the
 * first values are not pulled towards 0. Gaps stay gaps; non-finite values pass through
 * unsmoothed and leave the average alone; a constant series stays exactly constant.
 */
export function debiasedEma(values: readonly (number | null)[], weight: number): (number | null)[] {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (weight <= 0 || finite.every((v) => v === finite[0])) return [...values];
  let last = 0;
  let accumulated = 0;
  return values.map((v) => {
    if (v === null) return null;
    if (!Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    accumulated++;
    const debias = weight === 1 ? 1 : 1 - weight ** accumulated;
    return last / debias;
  });
}

/** The value at quantile q (0–1) of sorted values, interpolated linearly between neighbours. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const below = Math.floor(at);
  const above = Math.ceil(at);
  const a = sorted[below] as number;
  const b = sorted[above] as number;
  return a + (b - a) * (at - below);
}

/**
 * "Ignore outliers": the y range from the 1st to the 99th percentile of the drawn values, and how
 * many values fall outside it (shown, never hidden silently). Null when nothing finite is drawn.
 */
export function outlierRange(
  columns: readonly (readonly (number | null)[])[],
  options: { log?: boolean } = {},
): { min: number; max: number; clipped: number } | null {
  const values: number[] = [];
  for (const column of columns) {
    for (const v of column) {
      if (v === null || !Number.isFinite(v) || (options.log && v <= 0)) continue;
      values.push(v);
    }
  }
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  const min = quantile(values, 0.01);
  const max = quantile(values, 0.99);
  let clipped = 0;
  for (const v of values) if (v < min || v > max) clipped++;
  return { min, max, clipped };
}

/** For a log scale: values that cannot be drawn (≤ 0, NaN) become gaps. */
export function positiveOnly(values: readonly (number | null)[]): (number | null)[] {
  return values.map((v) => (v !== null && v > 0 && !Number.isNaN(v) ? v : null));
}

/** uPlot cannot draw NaN or infinities: they become gaps in the line (the tooltip still says). */
export function drawable(values: readonly (number | null)[]): (number | null)[] {
  return values.map((v) => (v !== null && Number.isFinite(v) ? v : null));
}

/** Points that arrived live for one run and metric, x already chosen for the chart's axis. */
export interface LivePoints {
  x: number[];
  values: number[];
}

/**
 * Appends live points to a series the way the server would have answered with them included:
 * exact series get the points (kept in x order); a bucketed series extends its last bucket while
 * a point falls within one bucket width of that bucket's start, else starts a new bucket (the
 * grid in `alignSeries` merges buckets past the chart's width). Points outside `[from, to]` are
 * not part of the zoomed window and are dropped.
 */
export function appendLivePoints(
  columns: RunColumns,
  points: LivePoints,
  window: { from?: number | null; to?: number | null; bucketWidth: number },
): RunColumns {
  const keep: number[] = [];
  for (let i = 0; i < points.x.length; i++) {
    const x = points.x[i] as number;
    if (window.from != null && x < window.from) continue;
    if (window.to != null && x > window.to) continue;
    keep.push(i);
  }
  if (keep.length === 0) return columns;
  const added = keep.length;
  if (columns.exact) {
    const all: [number, number][] = [];
    for (let i = 0; i < columns.x.length; i++) all.push([columns.x[i] as number, columns.values[i] as number]);
    let ordered = true;
    for (const i of keep) {
      const x = points.x[i] as number;
      if (all.length > 0 && x < (all[all.length - 1] as [number, number])[0]) ordered = false;
      all.push([x, points.values[i] as number]);
    }
    // A stable sort keeps logging order among equal x values.
    if (!ordered) all.sort((a, b) => a[0] - b[0]);
    return {
      ...columns,
      total: columns.total + added,
      inRange: columns.inRange + added,
      x: Float64Array.from(all, (p) => p[0]),
      values: Float64Array.from(all, (p) => p[1]),
    };
  }
  const x0 = [...columns.x0];
  const x1 = [...columns.x1];
  const first = [...columns.first];
  const last = [...columns.last];
  const min = [...columns.min];
  const max = [...columns.max];
  const mean = [...columns.mean];
  const count = [...columns.count];
  const n = () => x0.length - 1;
  for (const i of keep) {
    const x = points.x[i] as number;
    const v = points.values[i] as number;
    const end = n();
    if (end >= 0 && x >= (x0[end] as number) && x - (x0[end] as number) < window.bucketWidth) {
      if (x >= (x1[end] as number)) {
        x1[end] = x;
        last[end] = v;
      }
      if (!Number.isNaN(v)) {
        const m = min[end] as number;
        const M = max[end] as number;
        min[end] = Number.isNaN(m) ? v : Math.min(m, v);
        max[end] = Number.isNaN(M) ? v : Math.max(M, v);
        // The running mean over the non-NaN values: the old count is an upper bound of those,
        // which is close enough for a bucket the next refetch recomputes exactly.
        const c = count[end] as number;
        const mu = mean[end] as number;
        mean[end] = Number.isNaN(mu) ? v : mu + (v - mu) / (c + 1);
      }
      count[end] = (count[end] as number) + 1;
    } else if (end >= 0 && x < (x0[end] as number)) {
    } else {
      x0.push(x);
      x1.push(x);
      first.push(v);
      last.push(v);
      min.push(v);
      max.push(v);
      mean.push(v);
      count.push(1);
    }
  }
  return {
    ...columns,
    total: columns.total + added,
    inRange: columns.inRange + added,
    x0: Float64Array.from(x0),
    x1: Float64Array.from(x1),
    first: Float64Array.from(first),
    last: Float64Array.from(last),
    min: Float64Array.from(min),
    max: Float64Array.from(max),
    mean: Float64Array.from(mean),
    count: Float64Array.from(count),
  };
}
