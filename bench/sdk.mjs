#!/usr/bin/env node
// SDK benchmark: npm run bench -- sdk [--points 2000000] [--repeats 3] [--no-build]
// One Node process logs through @cairn/sdk to a real `cairn server` process (started from this
// checkout on a fresh data dir), and the same process posts the same points to the raw bulk
// endpoint at the same batch size, in the same run:
//   1. ns per log call: a hot loop of 50 metrics per step, and the heap it allocates;
//   2. points/s through the SDK (spool on, as shipped) against raw POSTs of 25k-point batches,
//      gzip on and off; the SDK target is ≥ 80 % of raw;
//   3. event-loop stall (monitorEventLoopDelay p99/max) while the SDK encodes and sends, with a
//      training loop that yields after every step;
//   4. end() time with nothing buffered and with 1M points buffered.
// Medians over --repeats; the machine is shared and noisy.

import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { startCairnServer } from './lib/cairn-server.mjs';
import { runToEnd } from './lib/proc.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const gzip = promisify(gzipCallback);

// Heap deltas need a collection before each measured loop.
if (typeof globalThis.gc !== 'function') {
  const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await main();
}

async function main() {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== 'sdk'),
    options: {
      points: { type: 'string', default: '2000000' },
      repeats: { type: 'string', default: '3' },
      'no-build': { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  const METRICS = 50;
  const BATCH = 25_000;
  const STEPS_PER_BATCH = BATCH / METRICS;
  const totalPoints = Math.ceil(Number(values.points) / BATCH) * BATCH;
  const steps = totalPoints / METRICS;
  const repeats = Number(values.repeats);
  const log = (line) => process.stderr.write(`[sdk-bench] ${line}\n`);

  if (!values['no-build']) {
    log('building (npx tsc -b)');
    const built = await runToEnd('npx', ['tsc', '-b'], { cwd: REPO_ROOT, timeoutMs: 600_000 });
    if (built.code !== 0) throw new Error('npx tsc -b failed');
  }
  const { Cairn } = await import(pathToFileURL(join(REPO_ROOT, 'packages/sdk/dist/node.js')).href);

  const workDir = await mkdtemp(join(os.tmpdir(), 'cairn-sdk-bench-'));
  const dataDir = join(workDir, 'data');
  await mkdir(dataDir, { recursive: true });
  const apiKey = Array.from({ length: 40 }, () => ALNUM[randomInt(ALNUM.length)]).join('');
  const { proc: server, url } = await startCairnServer({
    workDir,
    env: { CAIRN_DATA_DIR: dataDir, CAIRN_ADMIN_API_KEY: apiKey },
  });
  const names = Array.from({ length: METRICS }, (_, m) => `metric_${String(m).padStart(2, '0')}`);
  /** A loss-like curve plus full-precision noise, as the ingest benchmark logs. */
  const value = (m, step) => (1 + m) / Math.sqrt(step + 1) + Math.random() * 1e-3;
  let spoolCount = 0;
  const client = (writer = {}) =>
    new Cairn({
      url,
      apiKey,
      logLevel: 'error',
      writer: { spoolDir: join(workDir, `spool-${++spoolCount}`), exitHandlers: false, ...writer },
    });

  const result = {
    startedAt: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
    options: { totalPoints, metrics: METRICS, batchPoints: BATCH, repeats },
  };
  try {
    const rev = await runToEnd('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: REPO_ROOT,
      timeoutMs: 10_000,
      capture: true,
    });
    result.commit = rev.stdout?.trim();

    // 1. Log-call cost: synchronous rounds of 2,000 steps × 50 metrics; between rounds the run is
    // flushed, so each round starts from sealed, sent buffers of the size the last one needed.
    log('1. log-call cost');
    {
      const cairn = client();
      const run = await cairn.startExperiment({ workspace: 'default', project: 'sdk-bench', name: 'log-calls' });
      const row = {};
      for (const name of names) row[name] = 0;
      const ns = [];
      const heap = [];
      const external = [];
      for (let round = 0; round < 12; round++) {
        for (let m = 0; m < METRICS; m++) row[names[m]] = value(m, round);
        globalThis.gc();
        const before = process.memoryUsage();
        const t0 = process.hrtime.bigint();
        for (let step = round * 2_000; step < (round + 1) * 2_000; step++) run.logMetrics(row, { step });
        const elapsed = Number(process.hrtime.bigint() - t0);
        const after = process.memoryUsage();
        // The first rounds grow the buffers and warm the JIT: steady state is what a training loop sees.
        if (round >= 2) {
          ns.push(elapsed / (2_000 * METRICS));
          heap.push((after.heapUsed - before.heapUsed) / (2_000 * METRICS));
          external.push((after.arrayBuffers - before.arrayBuffers) / (2_000 * METRICS));
        }
        await run.flush();
      }
      await run.end();
      result.logCall = {
        nsPerPoint: stats(ns),
        heapBytesPerPoint: stats(heap),
        arrayBufferBytesPerPoint: stats(external),
        rounds: ns.length,
      };
      log(`   ${median(ns).toFixed(0)} ns/point, heap ${median(heap).toFixed(2)} B/point`);
    }

    // 2 + 3. Throughput, SDK against raw, same points, same batch size, alternating.
    const rawRun = async (useGzip) => {
      const cairn = client();
      const { key } = await cairn.experiments.create('default', 'sdk-bench', { name: `raw-${useGzip}` });
      const endpoint = `${url}/api/cairn/v1/experiments/${key}/metrics`;
      const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
      if (useGzip) headers['content-encoding'] = 'gzip';
      const t0 = performance.now();
      for (let from = 0; from < steps; from += STEPS_PER_BATCH) {
        const series = names.map((name, m) => {
          const values = new Array(STEPS_PER_BATCH);
          const stepsColumn = new Array(STEPS_PER_BATCH);
          const timestamps = new Array(STEPS_PER_BATCH);
          const now = Date.now();
          for (let i = 0; i < STEPS_PER_BATCH; i++) {
            values[i] = value(m, from + i);
            stepsColumn[i] = from + i;
            timestamps[i] = now;
          }
          return { name, context: null, values, steps: stepsColumn, timestamps };
        });
        const json = JSON.stringify({ series });
        const body = useGzip ? await gzip(json, { level: 1 }) : json;
        const response = await fetch(endpoint, { method: 'POST', headers, body });
        const answer = await response.json();
        if (answer.points !== BATCH) throw new Error(`raw: ${response.status} ${JSON.stringify(answer)}`);
      }
      const seconds = (performance.now() - t0) / 1000;
      return { pointsPerSecond: totalPoints / seconds, seconds };
    };
    const sdkRun = async (writer) => {
      const cairn = client(writer);
      const run = await cairn.startExperiment({ workspace: 'default', project: 'sdk-bench', name: 'sdk' });
      const row = {};
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const t0 = performance.now();
      for (let step = 0; step < steps; step++) {
        for (let m = 0; m < METRICS; m++) row[names[m]] = value(m, step);
        run.logMetrics(row, { step });
        // A training loop that awaits something every step (a data loader, a GPU result).
        await new Promise((resolve) => setImmediate(resolve));
      }
      const logged = performance.now();
      const summary = await run.end({ timeoutMs: 600_000 });
      const seconds = (performance.now() - t0) / 1000;
      delay.disable();
      if (summary.sent !== totalPoints) throw new Error(`SDK: ${JSON.stringify(summary)}`);
      return {
        pointsPerSecond: totalPoints / seconds,
        seconds,
        loggingSeconds: (logged - t0) / 1000,
        loopDelayMs: {
          p50: delay.percentile(50) / 1e6,
          p99: delay.percentile(99) / 1e6,
          max: delay.max / 1e6,
        },
      };
    };
    /** The same training loop without the SDK: the event-loop delay the machine and the loop cause on their own. */
    const loopOnly = async () => {
      const row = {};
      const delay = monitorEventLoopDelay({ resolution: 1 });
      delay.enable();
      const t0 = performance.now();
      for (let step = 0; step < steps; step++) {
        for (let m = 0; m < METRICS; m++) row[names[m]] = value(m, step);
        await new Promise((resolve) => setImmediate(resolve));
      }
      delay.disable();
      return {
        pointsPerSecond: totalPoints / ((performance.now() - t0) / 1000),
        loopDelayMs: { p50: delay.percentile(50) / 1e6, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 },
      };
    };
    const variants = [
      ['loop only', loopOnly],
      ['raw', () => rawRun(false)],
      ['sdk', () => sdkRun({ gzip: false })],
      ['raw+gzip', () => rawRun(true)],
      ['sdk+gzip', () => sdkRun({ gzip: true })],
      ['sdk, no spool', () => sdkRun({ gzip: false, spool: false })],
    ];
    const samples = Object.fromEntries(variants.map(([name]) => [name, []]));
    for (let r = 0; r < repeats; r++) {
      for (const [name, fn] of variants) {
        log(`2. throughput ${r + 1}/${repeats}: ${name}`);
        const sample = await fn();
        samples[name].push(sample);
        log(
          `   ${Math.round(sample.pointsPerSecond).toLocaleString()} points/s${sample.loopDelayMs ? `, loop delay p99 ${sample.loopDelayMs.p99.toFixed(1)} ms max ${sample.loopDelayMs.max.toFixed(1)} ms` : ''}`,
        );
      }
    }
    result.throughput = Object.fromEntries(
      Object.entries(samples).map(([name, list]) => [
        name,
        {
          pointsPerSecond: median(list.map((s) => s.pointsPerSecond)),
          samples: list,
          ...(list[0]?.loopDelayMs
            ? {
                loopDelayP99Ms: median(list.map((s) => s.loopDelayMs.p99)),
                loopDelayMaxMs: median(list.map((s) => s.loopDelayMs.max)),
              }
            : {}),
        },
      ]),
    );
    // Each repeat runs every variant back to back: the ratio within a repeat compares runs made
    // under the same machine load, which drifts (other jobs) far more than the variants differ.
    const ratio = (a, b) => {
      const per = samples[a].map((s, i) => s.pointsPerSecond / samples[b][i].pointsPerSecond);
      return { medianOfRepeats: median(per), perRepeat: per };
    };
    result.ratios = {
      sdkToRaw: ratio('sdk', 'raw'),
      sdkGzipToRawGzip: ratio('sdk+gzip', 'raw+gzip'),
      sdkNoSpoolToRaw: ratio('sdk, no spool', 'raw'),
    };

    // 4. end(): nothing buffered, and 1M points buffered (logged synchronously, never sealed).
    log('4. end() time');
    const endTimes = { emptyMs: [], oneMillionMs: [] };
    for (let r = 0; r < repeats; r++) {
      const cairn = client({ flushIntervalMs: 3_600_000, maxBatchPoints: 25_000 });
      const empty = await cairn.startExperiment({ workspace: 'default', project: 'sdk-bench', name: 'end-empty' });
      let t0 = performance.now();
      await empty.end();
      endTimes.emptyMs.push(performance.now() - t0);
      const full = await cairn.startExperiment({ workspace: 'default', project: 'sdk-bench', name: 'end-1M' });
      const row = {};
      for (let step = 0; step < 1_000_000 / METRICS; step++) {
        for (let m = 0; m < METRICS; m++) row[names[m]] = value(m, step);
        full.logMetrics(row, { step });
      }
      t0 = performance.now();
      const summary = await full.end({ timeoutMs: 600_000 });
      endTimes.oneMillionMs.push(performance.now() - t0);
      if (summary.sent !== 1_000_000) throw new Error(`end(): ${JSON.stringify(summary)}`);
    }
    result.end = { emptyMs: stats(endTimes.emptyMs), oneMillionMs: stats(endTimes.oneMillionMs) };
  } finally {
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  }

  const md = markdown(result);
  result.markdown = md;
  const out = values.out ?? join(HERE, 'results', `sdk-${result.startedAt.replace(/[:.]/g, '-')}.json`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\n${md}\n\nSummary JSON: ${out}\n`);
}

function median(list) {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function stats(list) {
  const sorted = [...list].sort((a, b) => a - b);
  return { median: median(sorted), min: sorted[0], max: sorted.at(-1), n: sorted.length };
}

function markdown(r) {
  const pct = (list) => list.map((x) => `${Math.round(x * 100)}`).join(', ');
  const n = (x, digits = 0) =>
    x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const t = r.throughput;
  const row = (name) =>
    `| ${name} | ${n(t[name].pointsPerSecond)} | ${t[name].loopDelayP99Ms === undefined ? '' : `${n(t[name].loopDelayP99Ms, 1)} / ${n(t[name].loopDelayMaxMs, 1)}`} |`;
  return [
    `SDK benchmark, checkout ${r.commit}, ${r.machine.cpus} × ${r.machine.cpu}, Node ${r.machine.node}; ` +
      `${n(r.options.totalPoints)} points (${r.options.metrics} metrics per step), ${n(r.options.batchPoints)}-point batches, medians of ${r.options.repeats}.`,
    '',
    '| log call | median | min–max |',
    '|---|---:|---:|',
    `| ns per point (50 metrics per call) | ${n(r.logCall.nsPerPoint.median)} | ${n(r.logCall.nsPerPoint.min)}–${n(r.logCall.nsPerPoint.max)} |`,
    `| heap bytes per point | ${n(r.logCall.heapBytesPerPoint.median, 2)} | ${n(r.logCall.heapBytesPerPoint.min, 2)}–${n(r.logCall.heapBytesPerPoint.max, 2)} |`,
    `| ArrayBuffer bytes per point | ${n(r.logCall.arrayBufferBytesPerPoint.median, 2)} | ${n(r.logCall.arrayBufferBytesPerPoint.min, 2)}–${n(r.logCall.arrayBufferBytesPerPoint.max, 2)} |`,
    '',
    '| path | points/s | event-loop delay p99 / max ms |',
    '|---|---:|---:|',
    row('loop only'),
    row('raw'),
    row('sdk'),
    row('raw+gzip'),
    row('sdk+gzip'),
    row('sdk, no spool'),
    '',
    'SDK ÷ raw, the median of the ratios within each repeat (each repeat runs every variant back to back):',
    `**${n(r.ratios.sdkToRaw.medianOfRepeats * 100)} %** plain JSON (repeats ${pct(r.ratios.sdkToRaw.perRepeat)}), ` +
      `**${n(r.ratios.sdkGzipToRawGzip.medianOfRepeats * 100)} %** gzip (${pct(r.ratios.sdkGzipToRawGzip.perRepeat)}), ` +
      `${n(r.ratios.sdkNoSpoolToRaw.medianOfRepeats * 100)} % without the spool (${pct(r.ratios.sdkNoSpoolToRaw.perRepeat)}).`,
    '',
    `end(): ${n(r.end.emptyMs.median, 1)} ms with nothing buffered; ${n(r.end.oneMillionMs.median)} ms with 1M points buffered.`,
  ].join('\n');
}
