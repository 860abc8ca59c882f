import type { BucketedSeriesWindow, ExactSeriesWindow, SeriesAxis } from '../../core/entities.js';
import type { BlockColumns } from './block-codec.js';

/** Lowest and highest of one coordinate over the points that have it; ±Infinity when none has. */
export interface Extent {
  min: number;
  max: number;
  /** Points that have the coordinate. */
  count: number;
}

/**
 * A run of a series' points in offset order (a sealed block or the tail), as columns, with the
 * extents that let a read skip it or take it whole.
 */
export interface Segment {
  columns: BlockColumns;
  step: Extent;
  epoch: Extent;
  timestamp: Extent;
}

export function segmentOf(columns: BlockColumns): Segment {
  return {
    columns,
    step: extentOf(columns.steps, columns.count),
    epoch: extentOf(columns.epochs, columns.count),
    timestamp: extentOf(columns.timestamps, columns.count),
  };
}

function extentOf(values: Float64Array, count: number): Extent {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let present = 0;
  for (let i = 0; i < count; i++) {
    const v = values[i] as number;
    // Absent coordinates are NaN.
    if (Number.isNaN(v)) continue;
    present++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max, count: present };
}

/** Where x comes from: the step column, the epoch column or the timestamp column. */
export type RawAxis = 'step' | 'epoch' | 'timestamp';

export function rawAxisOf(axis: SeriesAxis): RawAxis {
  return axis === 'step' ? 'step' : axis === 'epoch' ? 'epoch' : 'timestamp';
}

export interface WindowRequest {
  axis: RawAxis;
  /** Subtracted from the raw coordinate to give x (the start time on the relative axis, else 0). */
  origin: number;
  /** Inclusive bounds on x; ±Infinity when unbounded. */
  from: number;
  to: number;
  buckets: number;
}

/** A window as the port answers it, before the experiment, metric and total are put on it. */
export type WindowResult =
  | Omit<ExactSeriesWindow, 'experimentId' | 'metric' | 'total'>
  | Omit<BucketedSeriesWindow, 'experimentId' | 'metric' | 'total'>;

/** Per-bucket accumulators, reused from one series to the next of a read. */
export class BucketScratch {
  private size = 0;
  count = new Float64Array(0);
  valid = new Float64Array(0);
  sum = new Float64Array(0);
  min = new Float64Array(0);
  max = new Float64Array(0);
  x0 = new Float64Array(0);
  x1 = new Float64Array(0);
  first = new Float64Array(0);
  last = new Float64Array(0);

  /** Zeroed counts for `buckets` buckets; the other fields are set when a bucket gets its first point. */
  prepare(buckets: number): void {
    if (buckets > this.size) {
      this.size = buckets;
      this.count = new Float64Array(buckets);
      this.valid = new Float64Array(buckets);
      this.sum = new Float64Array(buckets);
      this.min = new Float64Array(buckets);
      this.max = new Float64Array(buckets);
      this.x0 = new Float64Array(buckets);
      this.x1 = new Float64Array(buckets);
      this.first = new Float64Array(buckets);
      this.last = new Float64Array(buckets);
      return;
    }
    this.count.fill(0, 0, buckets);
    this.valid.fill(0, 0, buckets);
  }
}

/**
 * The window of one series (see `SeriesRepository.query` for the semantics). `segments` must be
 * in offset order, as blocks by number then the tail are: ties in x are then resolved by visiting
 * order alone (the first point seen at a bucket's lowest x is its `first`, the last one seen at
 * its highest x its `last`), with no offsets compared.
 */
export function computeWindow(
  segments: readonly Segment[],
  request: WindowRequest,
  scratch: BucketScratch,
): WindowResult {
  const { axis, origin, from, to, buckets } = request;
  const overlapping: Segment[] = [];
  let inRange = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const segment of segments) {
    const extent = segment[axis];
    if (extent.count === 0) continue;
    const min = extent.min - origin;
    const max = extent.max - origin;
    if (max < from || min > to) continue;
    overlapping.push(segment);
    if (min >= from && max <= to) {
      inRange += extent.count;
    } else {
      inRange += countInRange(columnOf(segment, axis), segment.columns.count, origin, from, to);
    }
    // An unbounded side ends at the extreme point in range: a segment's extreme on that side is
    // in range whenever the segment overlaps the range at all.
    if (min < lo) lo = min;
    if (max > hi) hi = max;
  }
  if (inRange <= buckets) return exactWindow(overlapping, request, inRange);
  if (from !== Number.NEGATIVE_INFINITY) lo = from;
  if (to !== Number.POSITIVE_INFINITY) hi = to;
  return bucketWindow(overlapping, request, inRange, lo, hi, scratch);
}

function columnOf(segment: Segment, axis: RawAxis): Float64Array {
  return axis === 'step'
    ? segment.columns.steps
    : axis === 'epoch'
      ? segment.columns.epochs
      : segment.columns.timestamps;
}

function countInRange(xs: Float64Array, n: number, origin: number, from: number, to: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) {
    const x = (xs[i] as number) - origin;
    if (x >= from && x <= to) count++;
  }
  return count;
}

function exactWindow(segments: readonly Segment[], request: WindowRequest, inRange: number): WindowResult {
  const { axis, origin, from, to } = request;
  const x = new Float64Array(inRange);
  const values = new Float64Array(inRange);
  let at = 0;
  let sorted = true;
  for (const segment of segments) {
    const xs = columnOf(segment, axis);
    const vs = segment.columns.values;
    const n = segment.columns.count;
    for (let i = 0; i < n; i++) {
      const xi = (xs[i] as number) - origin;
      if (!(xi >= from && xi <= to)) continue;
      if (at > 0 && xi < (x[at - 1] as number)) sorted = false;
      x[at] = xi;
      values[at] = vs[i] as number;
      at++;
    }
  }
  if (sorted) return { inRange, exact: true, x, values };
  // Points come in offset order, so a stable sort by x leaves ties in offset order.
  const order = Array.from({ length: inRange }, (_, i) => i);
  order.sort((a, b) => (x[a] as number) - (x[b] as number) || a - b);
  return {
    inRange,
    exact: true,
    x: Float64Array.from(order, (i) => x[i] as number),
    values: Float64Array.from(order, (i) => values[i] as number),
  };
}

function bucketWindow(
  segments: readonly Segment[],
  request: WindowRequest,
  inRange: number,
  lo: number,
  hi: number,
  scratch: BucketScratch,
): WindowResult {
  const { axis, origin, from, to, buckets } = request;
  scratch.prepare(buckets);
  const { count, valid, sum, min, max, x0, x1, first, last } = scratch;
  const span = hi - lo;
  const lastBucket = buckets - 1;
  // The current bucket's accumulators live in locals while consecutive points fall into it (the
  // common case: x grows with the offset) and go back to the arrays when another bucket's turn
  // comes. Sums are taken point by point in offset order either way, so a mean does not depend
  // on how the points are split into blocks.
  // The open bucket's state lives in plain locals and is stored back to the arrays written out
  // twice (on a bucket change and after the loop): a closure capturing these locals would move
  // them into a heap context and slow every access of this 500k-point loop.
  let bucket = -1;
  let bCount = 0;
  let bValid = 0;
  let bSum = 0;
  let bMin = 0;
  let bMax = 0;
  let bX0 = 0;
  let bX1 = 0;
  let bFirst = 0;
  let bLast = 0;
  for (const segment of segments) {
    const xs = columnOf(segment, axis);
    const vs = segment.columns.values;
    const n = segment.columns.count;
    for (let i = 0; i < n; i++) {
      const x = (xs[i] as number) - origin;
      if (!(x >= from && x <= to)) continue;
      let b = span > 0 ? Math.floor(((x - lo) * buckets) / span) : 0;
      if (b > lastBucket) b = lastBucket;
      const v = vs[i] as number;
      if (b !== bucket) {
        if (bucket >= 0) {
          count[bucket] = bCount;
          valid[bucket] = bValid;
          sum[bucket] = bSum;
          min[bucket] = bMin;
          max[bucket] = bMax;
          x0[bucket] = bX0;
          x1[bucket] = bX1;
          first[bucket] = bFirst;
          last[bucket] = bLast;
        }
        bucket = b;
        bCount = count[b] as number;
        if (bCount === 0) {
          bCount = 1;
          bX0 = x;
          bX1 = x;
          bFirst = v;
          bLast = v;
          bValid = Number.isNaN(v) ? 0 : 1;
          bSum = v;
          bMin = v;
          bMax = v;
          continue;
        }
        bValid = valid[b] as number;
        bSum = sum[b] as number;
        bMin = min[b] as number;
        bMax = max[b] as number;
        bX0 = x0[b] as number;
        bX1 = x1[b] as number;
        bFirst = first[b] as number;
        bLast = last[b] as number;
      }
      bCount++;
      // Points arrive in offset order: an earlier point keeps `first` on a tie, a later one takes `last`.
      if (x < bX0) {
        bX0 = x;
        bFirst = v;
      }
      if (x >= bX1) {
        bX1 = x;
        bLast = v;
      }
      if (Number.isNaN(v)) continue;
      if (bValid++ === 0) {
        bSum = v;
        bMin = v;
        bMax = v;
      } else {
        bSum += v;
        if (v < bMin) bMin = v;
        if (v > bMax) bMax = v;
      }
    }
  }
  if (bucket >= 0) {
    count[bucket] = bCount;
    valid[bucket] = bValid;
    sum[bucket] = bSum;
    min[bucket] = bMin;
    max[bucket] = bMax;
    x0[bucket] = bX0;
    x1[bucket] = bX1;
    first[bucket] = bFirst;
    last[bucket] = bLast;
  }
  let filled = 0;
  for (let b = 0; b < buckets; b++) if ((count[b] as number) > 0) filled++;
  const out = {
    x0: new Float64Array(filled),
    x1: new Float64Array(filled),
    first: new Float64Array(filled),
    last: new Float64Array(filled),
    min: new Float64Array(filled),
    max: new Float64Array(filled),
    mean: new Float64Array(filled),
    count: new Float64Array(filled),
  };
  let k = 0;
  for (let b = 0; b < buckets; b++) {
    const c = count[b] as number;
    if (c === 0) continue;
    const validCount = valid[b] as number;
    out.x0[k] = x0[b] as number;
    out.x1[k] = x1[b] as number;
    out.first[k] = first[b] as number;
    out.last[k] = last[b] as number;
    out.min[k] = validCount > 0 ? (min[b] as number) : Number.NaN;
    out.max[k] = validCount > 0 ? (max[b] as number) : Number.NaN;
    out.mean[k] = validCount > 0 ? (sum[b] as number) / validCount : Number.NaN;
    out.count[k] = c;
    k++;
  }
  return { inRange, exact: false, ...out };
}
