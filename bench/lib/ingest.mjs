// The load generator for HTTP systems: N async writers in this process, the server in another.

import { summarize } from './stats.mjs';
import { ackedPointsOf, batchPoints, planBatches } from './workload.mjs';

/** @typedef {import('./workload.mjs').Stream} Stream */
/** @typedef {import('./workload.mjs').Batch} Batch */
/**
 * @typedef {object} WriteDriver
 * @property {(run: unknown, batch: Batch) => Promise<number>} writeBatch  resolves to the request's ms
 */

/**
 * Writers pull whole streams from a shared queue and send each stream's batches in order, one
 * request in flight per writer. Stops starting new batches at the deadline (the run is then a
 * prefix, reported as such). The first failed request aborts everything: a benchmark that
 * silently drops writes would flatter the system.
 * @param {WriteDriver} driver @param {Stream[]} streams @param {Map<number, unknown>} runHandles  by run index
 * @param {{ writers: number, deadlineMs: number, onProgress?: (points: number) => void }} opts
 */
export async function ingest(driver, streams, runHandles, { writers, deadlineMs, onProgress }) {
  const done = new Array(streams.length).fill(0);
  /** @type {number[]} */
  const latencies = [];
  let next = 0;
  let points = 0;
  let failed = /** @type {Error|null} */ (null);
  let timedOut = false;
  const t0 = performance.now();
  const deadline = t0 + deadlineMs;
  const worker = async () => {
    while (!failed && next < streams.length) {
      const stream = streams[next++];
      for (const batch of stream.batches) {
        if (failed) return;
        if (performance.now() >= deadline) {
          timedOut = true;
          return;
        }
        try {
          latencies.push(await driver.writeBatch(runHandles.get(stream.run), batch));
        } catch (e) {
          failed ??= /** @type {Error} */ (e);
          return;
        }
        done[stream.id]++;
        points += batchPoints(batch);
        onProgress?.(points);
      }
    }
  };
  await Promise.all(Array.from({ length: writers }, worker));
  const seconds = (performance.now() - t0) / 1000;
  if (failed) throw failed;
  return {
    points,
    seconds,
    pointsPerSecond: points / seconds,
    requests: latencies.length,
    requestLatency: summarize(latencies),
    timedOut,
    doneBatches: done,
  };
}

/**
 * How many points each sampled series should hold, from the batches that were acknowledged.
 * @param {Stream[]} streams @param {number[]} doneBatches @param {{run: number, metric: number}[]} series
 */
export function expectedCounts(streams, doneBatches, series) {
  return series.map(({ run, metric }) => {
    const stream = streams.find((s) => s.run === run && s.metrics.includes(metric));
    if (!stream) throw new Error(`no stream for run ${run} metric ${metric}`);
    return { run, metric, expected: ackedPointsOf(stream, doneBatches[stream.id], metric) };
  });
}

/**
 * The Long shape's downsampling read needs one complete 1M-point series. When the timed ingest
 * stopped early, write the rest of that one series (untimed, single-metric batches) so that the
 * read measures the same series size on every system.
 * @param {WriteDriver} driver @param {Stream[]} streams @param {number[]} doneBatches
 * @param {Map<number, unknown>} runHandles @param {{ run: number, metric: number, steps: number }} target
 * @param {{ writers: number, batchPoints: number, deadlineMs: number }} opts
 */
export async function completeSeries(driver, streams, doneBatches, runHandles, target, opts) {
  const stream = streams.find((s) => s.run === target.run && s.metrics.includes(target.metric));
  if (!stream) throw new Error('target series is not in the plan');
  const have = ackedPointsOf(stream, doneBatches[stream.id], target.metric);
  if (have >= target.steps) return { written: 0, seconds: 0 };
  // Steps of a stream complete in order, so the missing ones are exactly [have, steps).
  const rest = planBatches(target.run, [target.metric], target.steps, opts.batchPoints, have);
  // Contiguous step ranges per writer: each writer still sends its part in step order.
  const per = Math.ceil(rest.length / opts.writers);
  const parts = [];
  for (let i = 0; i < rest.length; i += per) {
    parts.push({ id: parts.length, run: target.run, metrics: [target.metric], batches: rest.slice(i, i + per) });
  }
  const r = await ingest(driver, parts, runHandles, { writers: opts.writers, deadlineMs: opts.deadlineMs });
  if (r.timedOut) throw new Error(`could not complete the 1M-point series within ${opts.deadlineMs / 1000} s`);
  return { written: r.points, seconds: r.seconds };
}
