// Preloaded into a benchmarked server (`node --import <this file> …`) when BENCH_LOOP_PROBE_FILE is
// set: every BENCH_LOOP_PROBE_MS (10 s) it appends one JSON line with the event-loop delay of the
// interval (perf_hooks histogram, reset each time) and process.memoryUsage(). It measures the
// server from inside without a server endpoint; the bench reads the file. Nothing else changes:
// the timer is unref'd, so it never keeps the server alive.

import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

const file = process.env.BENCH_LOOP_PROBE_FILE;
if (file) {
  const intervalMs = Number(process.env.BENCH_LOOP_PROBE_MS ?? 10_000);
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const ms = (/** @type {number} */ ns) => Math.round(ns / 1e4) / 100;
  setInterval(() => {
    const m = process.memoryUsage();
    const line = {
      t: Date.now(),
      eventLoopDelayMs: {
        p50: ms(histogram.percentile(50)),
        p99: ms(histogram.percentile(99)),
        max: ms(histogram.max),
        mean: ms(histogram.mean),
      },
      memory: {
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        external: m.external,
        arrayBuffers: m.arrayBuffers,
      },
      // Committed bytes per V8 space (new, old, code, large objects…): which one heapTotal grows in.
      heapSpaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size])),
    };
    histogram.reset();
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  }, intervalMs).unref();
}
