#!/usr/bin/env node
// Chart read benchmark: npm run bench -- charts [--runs 10 --metrics 5 --steps 10000]
// A dashboard's read: 10 experiments × 5 metrics × 10,000 steps ingested through the bulk path
// into a real `cairn server` process, then read by POST /api/cairn/v1/series/query (bucketed,
// exact, zoomed, on a wall-clock axis) and, on the same data in the same run, by the Comet chart
// endpoint it replaces (POST /api/rest/v2/experiments/multi-metric-chart), one request in flight.

import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { positiveInt } from './lib/args.mjs';
import { startCairnServer } from './lib/cairn-server.mjs';
import { parseJson, request } from './lib/http.mjs';
import { runToEnd } from './lib/proc.mjs';
import { measure } from './lib/stats.mjs';
import { metricName, timestamp, value } from './lib/workload.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const { values: opts } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'charts'),
  options: {
    runs: { type: 'string', default: '10' },
    metrics: { type: 'string', default: '5' },
    steps: { type: 'string', default: '10000' },
    /** Steps of all of a run's metrics per write request: each becomes a sealed block per series. */
    'steps-per-request': { type: 'string', default: '1000' },
    buckets: { type: 'string', default: '1000' },
    iterations: { type: 'string', default: '200' },
    'read-budget': { type: 'string', default: '60' },
    'no-build': { type: 'boolean', default: false },
    'keep-data': { type: 'boolean', default: false },
    /** Extra Node flags for the server process, e.g. --node-args="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it. */
    'node-args': { type: 'string', default: '' },
    /** Comma-separated subset of the measurements (buckets, exact, zoom, wall, binary, comet). */
    cases: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.error(`usage: npm run bench -- charts [--runs N] [--metrics N] [--steps N] [--steps-per-request N]
       [--buckets N] [--iterations N] [--read-budget SEC] [--cases buckets,exact,zoom,wall,binary,comet]
       [--node-args="--cpu-prof --cpu-prof-dir=DIR"] [--no-build] [--keep-data] [--out FILE]`);
  process.exit(0);
}
const int = (name) => positiveInt(name, opts[name]);
const RUNS = int('runs');
const METRICS = int('metrics');
const STEPS = int('steps');
const PER_REQUEST = int('steps-per-request');
const BUCKETS = int('buckets');
const ITERATIONS = int('iterations');
const BUDGET_MS = int('read-budget') * 1000;
const log = (line) => process.stderr.write(`[charts] ${line}\n`);

if (!opts['no-build']) {
  log('building Cairn (npx tsc -b)');
  const built = await runToEnd('npx', ['tsc', '-b'], { cwd: REPO_ROOT, timeoutMs: 600_000 });
  if (built.code !== 0) throw new Error('npx tsc -b failed');
}

const workDir = await mkdtemp(join(os.tmpdir(), 'cairn-charts-bench-'));
const dataDir = join(workDir, 'data');
await mkdir(dataDir, { recursive: true });
const apiKey = Array.from({ length: 40 }, () => ALNUM[randomInt(ALNUM.length)]).join('');
const { proc, url: base } = await startCairnServer({
  workDir,
  env: { CAIRN_DATA_DIR: dataDir, CAIRN_ADMIN_API_KEY: apiKey },
  nodeArgs: opts['node-args'].split(' ').filter(Boolean),
});

try {
  const bearer = { authorization: `Bearer ${apiKey}` };

  log(`ingesting ${RUNS} runs × ${METRICS} metrics × ${STEPS} steps (${PER_REQUEST} steps per request)`);
  const keys = [];
  for (let run = 0; run < RUNS; run++) {
    const created = await request('POST', `${base}/api/rest/v2/write/experiment/create`, {
      headers: { authorization: apiKey },
      json: { workspaceName: 'default', projectName: 'charts-bench', experimentName: `run-${run}` },
    });
    const key = parseJson(created.text).experimentKey;
    keys.push(key);
    for (let start = 0; start < STEPS; start += PER_REQUEST) {
      const count = Math.min(PER_REQUEST, STEPS - start);
      const series = Array.from({ length: METRICS }, (_, m) => {
        const steps = Array.from({ length: count }, (_, i) => start + i);
        return {
          name: metricName(m),
          steps,
          values: steps.map((s) => value(run, m, s)),
          timestamps: steps.map((s) => timestamp(run, s)),
          epochs: steps.map((s) => Math.floor(s / 1000)),
        };
      });
      const written = await request('POST', `${base}/api/cairn/v1/experiments/${key}/metrics`, {
        headers: bearer,
        json: { series },
      });
      if (parseJson(written.text).points !== METRICS * count) throw new Error(`short write: ${written.text}`);
    }
  }
  const metrics = Array.from({ length: METRICS }, (_, m) => metricName(m));

  /** A series query, checked: every pair present, every point of the range counted once. */
  const seriesQuery = (label, body, expectInRange) => async () => {
    const r = await request('POST', `${base}/api/cairn/v1/series/query`, {
      headers: bearer,
      json: { experiments: keys, metrics, ...body },
    });
    const answer = parseJson(r.text);
    if (answer.series.length !== RUNS * METRICS) throw new Error(`${label}: ${answer.series.length} series`);
    for (const s of answer.series) {
      const counted = s.exact ? s.x.length : s.count.reduce((a, b) => a + b, 0);
      if (s.inRange !== expectInRange || counted !== expectInRange) {
        throw new Error(`${label}: ${s.experiment}/${s.metric} holds ${counted} of ${expectInRange} points`);
      }
    }
    return { ms: r.ms, bytes: r.text.length, exact: answer.series[0].exact };
  };
  const zoomFrom = Math.floor(STEPS * 0.4);
  const zoomTo = Math.floor(STEPS * 0.6) - 1;
  const cases = {
    buckets: {
      call: `POST /api/cairn/v1/series/query {x:"step", buckets:${BUCKETS}} (full range)`,
      op: seriesQuery('buckets', { buckets: BUCKETS }, STEPS),
    },
    exact: {
      call: `POST /api/cairn/v1/series/query {x:"step", buckets:${Math.min(15000, STEPS)}} (full range, exact)`,
      op: seriesQuery('exact', { buckets: Math.min(15000, STEPS) }, STEPS),
    },
    zoom: {
      call: `POST /api/cairn/v1/series/query {x:"step", from:${zoomFrom}, to:${zoomTo}, buckets:${BUCKETS}}`,
      op: seriesQuery('zoom', { from: zoomFrom, to: zoomTo, buckets: BUCKETS }, zoomTo - zoomFrom + 1),
    },
    wall: {
      call: `POST /api/cairn/v1/series/query {x:"wall", buckets:${BUCKETS}} (full range)`,
      op: seriesQuery('wall', { x: 'wall', buckets: BUCKETS }, STEPS),
    },
    binary: {
      call: `POST /api/cairn/v1/series/query?format=binary {x:"step", buckets:${BUCKETS}} (full range, float64 columns)`,
      op: async () => {
        const t0 = performance.now();
        const response = await fetch(`${base}/api/cairn/v1/series/query?format=binary`, {
          method: 'POST',
          headers: { ...bearer, 'content-type': 'application/json' },
          body: JSON.stringify({ experiments: keys, metrics, buckets: BUCKETS }),
        });
        const bytes = await response.arrayBuffer();
        const ms = performance.now() - t0;
        if (response.status !== 200) throw new Error(`binary: ${response.status}`);
        // Checked like the JSON answers: every pair present, every point counted once.
        const headerLength = new DataView(bytes).getUint32(0, true);
        const header = JSON.parse(new TextDecoder().decode(new Uint8Array(bytes, 4, headerLength)));
        if (header.series.length !== RUNS * METRICS) throw new Error(`binary: ${header.series.length} series`);
        let at = Math.ceil((4 + headerLength) / 8) * 8;
        for (const s of header.series) {
          const columns = s.exact ? 2 : 8;
          const counted = s.exact
            ? s.length
            : new Float64Array(bytes, at + 7 * s.length * 8, s.length).reduce((a, b) => a + b, 0);
          if (s.inRange !== STEPS || counted !== STEPS)
            throw new Error(`binary: ${s.experiment}/${s.metric} holds ${counted}`);
          at += columns * s.length * 8;
        }
        return { ms, bytes: bytes.byteLength, exact: header.series[0].exact };
      },
    },
    comet: {
      call: 'POST /api/rest/v2/experiments/multi-metric-chart {fetchFull:false} (the Comet chart: ≤ 500 min/max points per series)',
      op: async () => {
        const r = await request('POST', `${base}/api/rest/v2/experiments/multi-metric-chart`, {
          headers: { authorization: apiKey },
          json: { targetedExperiments: keys, metrics, fetchFull: false, independentMetrics: true },
        });
        const answer = parseJson(r.text);
        const experiments = Object.values(answer.experiments);
        if (experiments.length !== RUNS || experiments.some((e) => e.metrics.length !== METRICS)) {
          throw new Error(`comet chart: unexpected answer shape`);
        }
        return { ms: r.ms, bytes: r.text.length };
      },
    },
  };

  const results = {};
  const selected = opts.cases ? opts.cases.split(',').map((c) => c.trim()) : Object.keys(cases);
  for (const label of selected) if (!(label in cases)) throw new Error(`unknown case "${label}"`);
  for (const label of selected) {
    const { call, op } = cases[label];
    let bytes = 0;
    let exact;
    const stats = await measure(
      async () => {
        const r = await op();
        bytes = r.bytes;
        exact = r.exact;
        return r.ms;
      },
      { iterations: ITERATIONS, budgetMs: BUDGET_MS },
    );
    results[label] = { call, ...stats, responseBytes: bytes, ...(exact === undefined ? {} : { exact }) };
    log(`${label}: p50 ${stats.p50Ms} ms, p95 ${stats.p95Ms} ms, p99 ${stats.p99Ms} ms (${bytes} bytes)`);
  }
  const ratio = results.comet && results.buckets ? results.comet.p50Ms / results.buckets.p50Ms : undefined;
  if (ratio !== undefined) log(`Comet chart p50 ÷ series query p50 (buckets): ${ratio.toFixed(1)}×`);

  const rev = await runToEnd('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: REPO_ROOT,
    timeoutMs: 10_000,
    capture: true,
  });
  const summary = {
    benchmark: 'charts',
    checkout: rev.code === 0 ? rev.stdout.trim() : undefined,
    shape: { runs: RUNS, metrics: METRICS, steps: STEPS, stepsPerRequest: PER_REQUEST, buckets: BUCKETS },
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    results,
    cometOverSeriesP50: ratio === undefined ? undefined : Math.round(ratio * 10) / 10,
  };
  const out =
    opts.out ??
    join(HERE, 'results', `charts-${new Date().toISOString().replaceAll(':', '-').replaceAll('.', '-')}.json`);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n\nSummary JSON: ${out}\n`);
} finally {
  await proc.stop();
  if (opts['keep-data']) log(`data kept in ${dataDir}`);
  else await rm(workDir, { recursive: true, force: true });
}
