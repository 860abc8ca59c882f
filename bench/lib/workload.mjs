// Deterministic workload: the same points, in the same batches, for every system.
// bench/peers/aim_driver.py re-implements value(), timestamp() and metricName() and must stay
// bit-identical (only integer arithmetic and IEEE +,*,/ are used, which Python and JS agree on).

/** @typedef {import('./shapes.mjs').Shape} Shape */

/** Base of the synthetic timestamps (ms); wall-clock time would make runs differ. */
export const T0_MS = 1_700_000_000_000;
const MOD = 2_147_483_647; // 2^31 - 1 (Park–Miller)

/**
 * A loss-like curve plus full-precision noise: realistic for compression (not constant, not
 * integer-valued) yet reproducible everywhere.
 * @param {number} run @param {number} metric @param {number} step
 */
export function value(run, metric, step) {
  let h = (run * 1_000_003 + metric * 10_007 + step * 31 + 12_345) % MOD;
  h = (h * 48_271) % MOD;
  return 1 / (1 + step / 100) + 0.05 * (h / MOD) + metric * 0.001;
}

/** @param {number} run @param {number} step */
export function timestamp(run, step) {
  return T0_MS + run * 1000 + step * 10;
}

/** Fixed width so names sort like their indices in every UI. @param {number} metric */
export function metricName(metric) {
  return `m${String(metric).padStart(4, '0')}`;
}

/**
 * Read fixture written after the timed ingest (not counted in points/s): one 10k-point series in
 * a run of its own. runIndex only seeds value() (kept positive: JS and Python disagree on % of negatives).
 */
export const FIXTURE = { runIndex: 1_000_000, metric: 9999, name: 'm9999', steps: 10_000 };

/**
 * One sequential unit of writing: a run and a contiguous group of its metrics. A real client
 * logs one run in step order; splitting a run's metrics over several streams only happens when
 * there are fewer runs than writers (S, Long), so that 20 writers still have work.
 * @typedef {{ id: number, run: number, metrics: number[], batches: Batch[] }} Stream
 * @typedef {{ run: number, metrics: number[], stepStart: number, stepCount: number }} Batch
 */

/**
 * @param {Shape} shape
 * @param {{ writers: number, batchPoints: number }} opts
 * @returns {Stream[]}
 */
export function planStreams(shape, { writers, batchPoints }) {
  const groupsPerRun = Math.min(shape.metrics, Math.max(1, Math.ceil(writers / shape.runs)));
  /** @type {Stream[]} */
  const streams = [];
  for (let run = 0; run < shape.runs; run++) {
    for (let g = 0; g < groupsPerRun; g++) {
      const lo = Math.floor((g * shape.metrics) / groupsPerRun);
      const hi = Math.floor(((g + 1) * shape.metrics) / groupsPerRun);
      const metrics = range(lo, hi);
      streams.push({ id: streams.length, run, metrics, batches: planBatches(run, metrics, shape.steps, batchPoints) });
    }
  }
  return streams;
}

/**
 * Batches of at most batchPoints points, in step order: several steps of all the group's
 * metrics, or, when the group is wider than a batch (L), one step split into metric chunks.
 * @param {number} run @param {number[]} metrics @param {number} steps @param {number} batchPoints
 * @param {number} [fromStep]
 * @returns {Batch[]}
 */
export function planBatches(run, metrics, steps, batchPoints, fromStep = 0) {
  /** @type {Batch[]} */
  const batches = [];
  if (metrics.length <= batchPoints) {
    const per = Math.floor(batchPoints / metrics.length);
    for (let s = fromStep; s < steps; s += per) {
      batches.push({ run, metrics, stepStart: s, stepCount: Math.min(per, steps - s) });
    }
  } else {
    for (let s = fromStep; s < steps; s++) {
      for (let i = 0; i < metrics.length; i += batchPoints) {
        batches.push({ run, metrics: metrics.slice(i, i + batchPoints), stepStart: s, stepCount: 1 });
      }
    }
  }
  return batches;
}

/** @param {Batch} b */
export function batchPoints(b) {
  return b.metrics.length * b.stepCount;
}

/**
 * Points of one series acknowledged by the server, given how many of its stream's batches completed.
 * @param {Stream} stream @param {number} doneBatches @param {number} metric
 */
export function ackedPointsOf(stream, doneBatches, metric) {
  let n = 0;
  for (let i = 0; i < doneBatches; i++) {
    const b = stream.batches[i];
    if (b.metrics.includes(metric)) n += b.stepCount;
  }
  return n;
}

/**
 * Series whose point count is checked after ingest: first, last and a few spread in between.
 * @param {Shape} shape @returns {{ run: number, metric: number }[]}
 */
export function sampleSeries(shape) {
  const picks = new Map();
  const add = (run, metric) => picks.set(`${run}/${metric}`, { run, metric });
  add(0, 0);
  add(shape.runs - 1, shape.metrics - 1);
  for (let i = 1; i <= 6; i++) {
    add(Math.floor((i * 7919) % shape.runs), Math.floor((i * 104_729) % shape.metrics));
  }
  return [...picks.values()];
}

/** @param {number} lo @param {number} hi */
export function range(lo, hi) {
  return Array.from({ length: Math.max(0, hi - lo) }, (_, i) => lo + i);
}
