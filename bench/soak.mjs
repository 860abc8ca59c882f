#!/usr/bin/env node
// Soak benchmark (issue #13): npm run bench -- soak [--minutes 30]
// One real `cairn server` (SQLite, fresh data dir) under a steady, moderate mix of traffic for N
// minutes: metric logging through comet_ml's clientlib batches, MLflow's log-batch and Cairn's bulk
// path; asset and artifact uploads and downloads; history and summary reads; experiment-table
// queries and MLflow run searches; the UI's chart query; a live event stream. Every 10 s it
// samples the server's RSS (from /proc), its event-loop delay (a preloaded probe, lib/loop-probe.mjs)
// and per-operation latency and errors. Output: a JSON summary, a Markdown report and an SVG plot.

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { positiveInt } from './lib/args.mjs';
import { randomApiKey, startCairnServer } from './lib/cairn-server.mjs';
import { HttpError, parseJson, request } from './lib/http.mjs';
import { runToEnd, sleep } from './lib/proc.mjs';
import { soakSvg } from './lib/soak-plot.mjs';
import { percentile } from './lib/stats.mjs';
import { value } from './lib/workload.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..');

const { values: opts } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'soak'),
  options: {
    minutes: { type: 'string', default: '30' },
    'sample-seconds': { type: 'string', default: '10' },
    /** Samples before this are warm-up: left out of the verdict (default: 5, or a third of a shorter run). */
    'warmup-minutes': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    'keep-data': { type: 'boolean', default: false },
    'node-args': { type: 'string', default: '' },
    out: { type: 'string' },
    svg: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.error(`usage: npm run bench -- soak [--minutes N] [--sample-seconds N] [--warmup-minutes N]
       [--node-args="…"] [--no-build] [--keep-data] [--out FILE] [--svg FILE]`);
  process.exit(0);
}
const MINUTES = Number(opts.minutes);
if (!(MINUTES > 0)) throw new Error('--minutes must be a positive number');
const SAMPLE_MS = positiveInt('sample-seconds', opts['sample-seconds']) * 1000;
const WARMUP_S =
  60 * (opts['warmup-minutes'] === undefined ? Math.min(5, MINUTES / 3) : Number(opts['warmup-minutes']));
if (!(WARMUP_S >= 0 && WARMUP_S < MINUTES * 60)) throw new Error('--warmup-minutes must be shorter than --minutes');

/** The mix. Periods are per loop; each loop has one request in flight and never bursts to catch up. */
const MIX = {
  /** Loggers per API; each sends STEPS_PER_BATCH steps of every metric per period. */
  loggers: { comet: 3, mlflow: 2, cairn: 2 },
  logPeriodMs: 500,
  stepsPerBatch: 10,
  /** A run ends after this many steps and its logger starts a new one: the project keeps growing. */
  runSteps: 4000,
  metrics: ['loss', 'accuracy', 'lr', 'grad_norm', 'throughput'],
  uploadPeriodMs: { comet: 3000, mlflow: 3000, cairn: 6000 },
  downloadPeriodMs: { comet: 3000, mlflow: 6000 },
  /** Uploaded files are 8–256 KiB of random bytes; downloads check length and SHA-256. */
  uploadBytes: [8 * 1024, 256 * 1024],
  readPeriodMs: { history: 1000, mlflowHistory: 2000, cometSummary: 2000, cairnSummary: 2000 },
  searchPeriodMs: { table: 2000, mlflowSearch: 3000 },
  chartPeriodMs: 1000,
  chartRuns: 10,
  healthzPeriodMs: 1000,
};

const log = (/** @type {string} */ line) =>
  process.stderr.write(`[soak ${elapsed().toFixed(0).padStart(5)}s] ${line}\n`);
let loadStart = performance.now();
const elapsed = () => (performance.now() - loadStart) / 1000;

// The checkout under test, read before the run (HEAD may move while a long soak runs).
const rev = await runToEnd('git', ['rev-parse', '--short', 'HEAD'], {
  cwd: REPO_ROOT,
  timeoutMs: 10_000,
  capture: true,
});
if (!opts['no-build']) {
  log('building Cairn (npx tsc -b)');
  const built = await runToEnd('npx', ['tsc', '-b'], { cwd: REPO_ROOT, timeoutMs: 600_000 });
  if (built.code !== 0) throw new Error('npx tsc -b failed');
}

const workDir = await mkdtemp(join(os.tmpdir(), 'cairn-soak-'));
const dataDir = join(workDir, 'data');
await mkdir(dataDir, { recursive: true });
const probeFile = join(workDir, 'loop-probe.jsonl');
const apiKey = randomApiKey();
const { proc, url: base } = await startCairnServer({
  workDir,
  env: {
    CAIRN_DATA_DIR: dataDir,
    CAIRN_ADMIN_API_KEY: apiKey,
    BENCH_LOOP_PROBE_FILE: probeFile,
    BENCH_LOOP_PROBE_MS: String(SAMPLE_MS),
  },
  nodeArgs: [
    '--import',
    pathToFileURL(join(HERE, 'lib', 'loop-probe.mjs')).href,
    ...opts['node-args'].split(' ').filter(Boolean),
  ],
});

const plain = { authorization: apiKey };
const bearer = { authorization: `Bearer ${apiKey}` };
const comet = (/** @type {string} */ p) => `${base}/api/rest/v2/${p}`;
const cairn = (/** @type {string} */ p) => `${base}/api/cairn/v1/${p}`;
const mlflow = (/** @type {string} */ p) => `${base}/api/2.0/mlflow/${p}`;
const artifacts = (/** @type {string} */ p) => `${base}/api/2.0/mlflow-artifacts/artifacts/${p}`;

// ---- measurements -------------------------------------------------------------------------------

/** Per op: every latency with its time (for the thirds), this window's latencies, error counts. */
const ops = new Map();
const opOf = (/** @type {string} */ name) => {
  if (!ops.has(name)) ops.set(name, { all: [], window: [], errors: 0, windowErrors: 0 });
  return ops.get(name);
};
/** @type {{ t: number, op: string, message: string }[]} */
const firstErrors = [];
let errorCount = 0;
let pointsWritten = 0;
let bytesUploaded = 0;

function recordError(/** @type {string} */ name, /** @type {unknown} */ error) {
  const op = opOf(name);
  op.errors++;
  op.windowErrors++;
  errorCount++;
  const message = error instanceof Error ? error.message : String(error);
  if (firstErrors.length < 20) firstErrors.push({ t: Math.round(elapsed()), op: name, message: message.slice(0, 500) });
  if (errorCount <= 5) log(`ERROR ${name}: ${message.slice(0, 300)}`);
}

/** Runs one timed operation; `fn` returns the request's latency in ms. Any throw is an error. */
async function timed(/** @type {string} */ name, /** @type {() => Promise<number>} */ fn) {
  try {
    const ms = await fn();
    const op = opOf(name);
    op.all.push([elapsed(), ms]);
    op.window.push(ms);
    return true;
  } catch (error) {
    recordError(name, error);
    return false;
  }
}

let stopping = false;
/** @type {Promise<void>[]} */
const loops = [];
/** Calls `fn` every `periodMs` (first call at a random offset within a period, so loops spread out). */
function every(/** @type {number} */ periodMs, /** @type {() => Promise<unknown>} */ fn) {
  loops.push(
    (async () => {
      let next = performance.now() + Math.random() * periodMs;
      while (!stopping) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(Math.min(wait, deadline - performance.now()));
        if (stopping || performance.now() >= deadline) break;
        await fn();
        // Never burst to catch up: a slow request delays this loop's next call instead.
        next = Math.max(next + periodMs, performance.now());
      }
    })(),
  );
}

/** A fetch that throws HttpError on non-2xx and times until the last byte; returns body bytes. */
async function fetchBytes(
  /** @type {string} */ method,
  /** @type {string} */ url,
  /** @type {RequestInit} */ init = {},
) {
  const t0 = performance.now();
  const res = await fetch(url, { method, ...init, signal: AbortSignal.timeout(120_000) });
  const body = Buffer.from(await res.arrayBuffer());
  const ms = performance.now() - t0;
  if (!res.ok) throw new HttpError(method, url, res.status, body.toString('utf8'));
  return { ms, body };
}

const sha256 = (/** @type {Uint8Array} */ b) => createHash('sha256').update(b).digest('hex');
const pick = (/** @type {any[]} */ xs) => xs[Math.floor(Math.random() * xs.length)];

// ---- runs: created, logged to and ended through each API ----------------------------------------

/** @typedef {{ api: 'comet'|'mlflow'|'cairn', key: string, n: number, step: number }} Run */
/** @type {Set<Run>} */
const active = new Set();
/** @type {Run[]} */
const finished = [];
let runSeq = 0;
let mlflowExperimentId = '';
const LRS = [0.1, 0.03, 0.01, 0.003];
const PROJECTS = { comet: 'soak-comet', mlflow: 'soak-mlflow', cairn: 'soak' };

async function createRun(/** @type {Run['api']} */ api) {
  const n = runSeq++;
  const lr = LRS[n % LRS.length];
  /** @type {Run} */
  const run = { api, key: '', n, step: 0 };
  if (api === 'comet') {
    const r = await request('POST', comet('write/experiment/create'), {
      headers: plain,
      json: { workspaceName: 'default', projectName: PROJECTS.comet, experimentName: `comet-${n}` },
    });
    run.key = parseJson(r.text).experimentKey;
    await request('POST', `${base}/clientlib/batch/logger/experiment/parameter`, {
      headers: plain,
      gzip: true,
      json: {
        experimentKey: run.key,
        values: [
          { parameterName: 'lr', parameterValue: lr, step: null, source: 'manual' },
          { parameterName: 'batch_size', parameterValue: 32 << (n % 3), step: null, source: 'manual' },
        ],
      },
    });
  } else if (api === 'mlflow') {
    const r = await request('POST', mlflow('runs/create'), {
      headers: bearer,
      json: { experiment_id: mlflowExperimentId, run_name: `mlflow-${n}`, start_time: Date.now() },
    });
    run.key = parseJson(r.text).run.info.run_id;
    await request('POST', mlflow('runs/log-batch'), {
      headers: bearer,
      json: { run_id: run.key, params: [{ key: 'lr', value: String(lr) }], tags: [{ key: 'api', value: 'mlflow' }] },
    });
  } else {
    const r = await request('POST', cairn(`workspaces/default/projects/${PROJECTS.cairn}/experiments`), {
      headers: bearer,
      json: { name: `cairn-${n}` },
    });
    run.key = parseJson(r.text).key;
    await request('POST', cairn(`experiments/${run.key}/params`), {
      headers: bearer,
      json: { values: { lr, batch_size: 32 << (n % 3), optimizer: { name: 'adamw', beta1: 0.9 } } },
    });
  }
  return run;
}

async function endRun(/** @type {Run} */ run) {
  if (run.api === 'comet') {
    return (
      await request('POST', `${base}/clientlib/status-report/update`, {
        headers: plain,
        json: { experimentKey: run.key, is_alive: false },
      })
    ).ms;
  }
  if (run.api === 'mlflow') {
    return (
      await request('POST', mlflow('runs/update'), {
        headers: bearer,
        json: { run_id: run.key, status: 'FINISHED', end_time: Date.now() },
      })
    ).ms;
  }
  return (await request('POST', cairn(`experiments/${run.key}/end`), { headers: bearer, json: {} })).ms;
}

/** One batch of STEPS_PER_BATCH steps × every metric, through the run's own API. */
async function logBatch(/** @type {Run} */ run) {
  const steps = Array.from({ length: MIX.stepsPerBatch }, (_, i) => run.step + i);
  const now = Date.now();
  const expected = steps.length * MIX.metrics.length;
  let ms;
  if (run.api === 'comet') {
    const values = steps.flatMap((s) =>
      MIX.metrics.map((name, m) => ({
        metricName: name,
        metricValue: value(run.n, m, s),
        step: s,
        epoch: Math.floor(s / 1000),
        context: null,
        timestamp: now,
      })),
    );
    const r = await request('POST', `${base}/clientlib/batch/logger/experiment/metric`, {
      headers: plain,
      gzip: true,
      json: { experimentKey: run.key, values },
    });
    const stored = parseJson(r.text).stored;
    if (stored !== expected) throw new Error(`clientlib batch stored ${stored} of ${expected}`);
    ms = r.ms;
  } else if (run.api === 'mlflow') {
    const metrics = steps.flatMap((s) =>
      MIX.metrics.map((key, m) => ({ key, value: value(run.n, m, s), timestamp: now, step: s })),
    );
    ms = (await request('POST', mlflow('runs/log-batch'), { headers: bearer, json: { run_id: run.key, metrics } })).ms;
  } else {
    const series = MIX.metrics.map((name, m) => ({
      name,
      steps,
      values: steps.map((s) => value(run.n, m, s)),
      timestamps: steps.map(() => now),
      epochs: steps.map((s) => Math.floor(s / 1000)),
    }));
    const r = await request('POST', cairn(`experiments/${run.key}/metrics`), { headers: bearer, json: { series } });
    const points = parseJson(r.text).points;
    if (points !== expected) throw new Error(`bulk path acknowledged ${points} of ${expected}`);
    ms = r.ms;
  }
  run.step += MIX.stepsPerBatch;
  pointsWritten += expected;
  return ms;
}

/** A logger: its own run, one batch per period; at runSteps the run ends and a new one starts. */
function logger(/** @type {Run['api']} */ api) {
  /** @type {Run|null} */
  let run = null;
  every(MIX.logPeriodMs, async () => {
    if (run && run.step >= MIX.runSteps) {
      const ended = run;
      await timed(`${api}-end`, () => endRun(ended));
      active.delete(ended);
      finished.push(ended);
      run = null;
    }
    if (!run) {
      const t0 = performance.now();
      /** @type {Run|null} */
      let created = null;
      await timed(`${api}-create`, async () => {
        created = await createRun(api);
        return performance.now() - t0;
      });
      if (!created) return;
      run = created;
      active.add(run);
    }
    const current = run;
    await timed(`${api}-log`, () => logBatch(current));
  });
}

/** Runs with points, newest first: what a person looking at the app would open. */
const recentRuns = (/** @type {Run['api']|undefined} */ api) =>
  [...active, ...finished.slice(-30).reverse()].filter((r) => r.step > 0 && (api === undefined || r.api === api));

// ---- uploads and downloads ----------------------------------------------------------------------

/** @type {{ url: string, headers: Record<string,string>, size: number, sha: string }[]} */
const cometAssets = [];
/** @type {{ url: string, headers: Record<string,string>, size: number, sha: string }[]} */
const mlflowArtifacts = [];
const remember = (/** @type {any[]} */ list, /** @type {any} */ item) => {
  list.push(item);
  if (list.length > 200) list.shift();
};
const uploadBody = () => {
  const [lo, hi] = MIX.uploadBytes;
  return randomBytes(lo + Math.floor(Math.random() * (hi - lo)));
};

function uploads() {
  every(MIX.uploadPeriodMs.comet, () =>
    timed('comet-upload', async () => {
      const run = pick(recentRuns('comet').filter((r) => active.has(r)));
      if (!run) return 0;
      const bytes = uploadBody();
      const form = new FormData();
      form.append('file', new Blob([bytes]), 'file');
      const fileName = `sample-${run.step}.bin`;
      const q = `experimentKey=${run.key}&fileName=${fileName}&type=asset&step=${run.step}`;
      const { ms, body } = await fetchBytes('POST', comet(`write/experiment/upload-asset?${q}`), {
        headers: plain,
        body: form,
      });
      const { assetId } = JSON.parse(body.toString('utf8'));
      bytesUploaded += bytes.length;
      remember(cometAssets, {
        url: comet(`experiment/asset/get-asset?experimentKey=${run.key}&assetId=${assetId}`),
        headers: plain,
        size: bytes.length,
        sha: sha256(bytes),
      });
      return ms;
    }),
  );
  every(MIX.uploadPeriodMs.mlflow, () =>
    timed('mlflow-upload', async () => {
      const run = pick(recentRuns('mlflow').filter((r) => active.has(r)));
      if (!run) return 0;
      const bytes = uploadBody();
      const url = artifacts(`${mlflowExperimentId}/${run.key}/artifacts/checkpoints/step-${run.step}.bin`);
      const { ms } = await fetchBytes('PUT', url, {
        headers: { ...bearer, 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      bytesUploaded += bytes.length;
      remember(mlflowArtifacts, { url, headers: bearer, size: bytes.length, sha: sha256(bytes) });
      return ms;
    }),
  );
  every(MIX.uploadPeriodMs.cairn, () =>
    timed('cairn-upload', async () => {
      const run = pick(recentRuns('cairn').filter((r) => active.has(r)));
      if (!run) return 0;
      const bytes = uploadBody();
      const form = new FormData();
      form.append('type', 'image');
      form.append('step', String(run.step));
      form.append('file', new Blob([bytes]), `image-${run.step}.png`);
      const { ms } = await fetchBytes('POST', cairn(`experiments/${run.key}/assets`), { headers: bearer, body: form });
      bytesUploaded += bytes.length;
      return ms;
    }),
  );
  const download = (/** @type {string} */ name, /** @type {typeof cometAssets} */ list) => () =>
    timed(name, async () => {
      const item = pick(list);
      if (!item) return 0;
      const { ms, body } = await fetchBytes('GET', item.url, { headers: item.headers });
      if (body.length !== item.size || sha256(body) !== item.sha) {
        throw new Error(`${item.url}: ${body.length} bytes, expected ${item.size} with the uploaded SHA-256`);
      }
      return ms;
    });
  every(MIX.downloadPeriodMs.comet, download('comet-download', cometAssets));
  every(MIX.downloadPeriodMs.mlflow, download('mlflow-download', mlflowArtifacts));
}

// ---- reads, searches, charts --------------------------------------------------------------------

function reads() {
  every(MIX.readPeriodMs.history, () =>
    timed('cairn-history', async () => {
      const run = pick(recentRuns());
      if (!run) return 0;
      const metric = pick(MIX.metrics);
      const r = await request('GET', cairn(`experiments/${run.key}/metrics/${metric}`), { headers: bearer });
      const page = parseJson(r.text);
      if (!(page.total > 0) || page.steps.length !== page.values.length)
        throw new Error(`history: ${r.text.slice(0, 200)}`);
      return r.ms;
    }),
  );
  every(MIX.readPeriodMs.mlflowHistory, () =>
    timed('mlflow-history', async () => {
      const run = pick(recentRuns('mlflow'));
      if (!run) return 0;
      const r = await request(
        'GET',
        `${mlflow('metrics/get-history')}?run_id=${run.key}&metric_key=${pick(MIX.metrics)}&max_results=25000`,
        { headers: bearer },
      );
      if (!((parseJson(r.text).metrics ?? []).length > 0)) throw new Error('get-history: no points');
      return r.ms;
    }),
  );
  every(MIX.readPeriodMs.cometSummary, () =>
    timed('comet-summary', async () => {
      const run = pick(recentRuns('comet'));
      if (!run) return 0;
      const r = await request('GET', comet(`experiment/metrics/summary?experimentKey=${run.key}`), { headers: plain });
      if ((parseJson(r.text).values ?? []).length !== MIX.metrics.length)
        throw new Error(`summary: ${r.text.slice(0, 200)}`);
      return r.ms;
    }),
  );
  every(MIX.readPeriodMs.cairnSummary, () =>
    timed('cairn-summary', async () => {
      const run = pick(recentRuns());
      if (!run) return 0;
      const r = await request('GET', cairn(`experiments/${run.key}/metrics`), { headers: bearer });
      if (parseJson(r.text).series.length !== MIX.metrics.length) throw new Error(`summaries: ${r.text.slice(0, 200)}`);
      return r.ms;
    }),
  );

  let table = 0;
  every(MIX.searchPeriodMs.table, () =>
    timed('cairn-table', async () => {
      const project = Object.values(PROJECTS)[table++ % 3];
      const r = await request('POST', cairn(`workspaces/default/projects/${project}/experiments/query`), {
        headers: bearer,
        json: {
          filter: 'metrics.loss.min < 1e9 and params.lr <= 0.1',
          sort: '-metrics.accuracy.max',
          columns: ['name', 'status', 'params.lr', 'metrics.loss.min', 'metrics.accuracy.max', 'duration'],
          limit: 50,
        },
      });
      if (!Array.isArray(parseJson(r.text).items)) throw new Error(`table: ${r.text.slice(0, 200)}`);
      return r.ms;
    }),
  );
  every(MIX.searchPeriodMs.mlflowSearch, () =>
    timed('mlflow-search', async () => {
      const r = await request('POST', mlflow('runs/search'), {
        headers: bearer,
        json: {
          experiment_ids: [mlflowExperimentId],
          filter: "metrics.loss < 1e9 and params.lr != '1'",
          order_by: ['metrics.accuracy DESC'],
          max_results: 100,
        },
      });
      parseJson(r.text);
      return r.ms;
    }),
  );

  // The UI's chart panels: the newest runs (any API) × every metric, bucketed as the UI asks.
  every(MIX.chartPeriodMs, () =>
    timed('series-query', async () => {
      const runs = recentRuns().slice(0, MIX.chartRuns);
      if (runs.length === 0) return 0;
      const r = await request('POST', cairn('series/query'), {
        headers: bearer,
        json: { experiments: runs.map((x) => x.key), metrics: MIX.metrics, x: 'step', buckets: 1000 },
      });
      const answer = parseJson(r.text);
      if (answer.series.length !== runs.length * MIX.metrics.length) {
        throw new Error(`series query: ${answer.series.length} series for ${runs.length} runs`);
      }
      return r.ms;
    }),
  );

  every(MIX.healthzPeriodMs, () =>
    timed('healthz', async () => (await request('GET', `${base}/healthz`, { timeoutMs: 30_000 })).ms),
  );
}

/** A UI's live view: the Cairn project's event stream, held open; counts events, reconnects on loss. */
let sseEvents = 0;
const sseAbort = new AbortController();
function liveEvents() {
  loops.push(
    (async () => {
      while (!stopping) {
        try {
          const res = await fetch(cairn(`workspaces/default/projects/${PROJECTS.cairn}/events`), {
            headers: bearer,
            signal: sseAbort.signal,
          });
          if (!res.ok || !res.body) throw new HttpError('GET', res.url, res.status, await res.text());
          const decoder = new TextDecoder();
          let carry = '';
          for await (const chunk of res.body) {
            carry += decoder.decode(chunk, { stream: true });
            const events = carry.split('\n\n');
            carry = events.pop() ?? '';
            sseEvents += events.filter((e) => /^event:/m.test(e)).length;
          }
          if (!stopping) throw new Error('event stream ended by the server');
        } catch (error) {
          if (stopping) return;
          recordError('events-stream', error);
          await sleep(2000);
        }
      }
    })(),
  );
}

// ---- sampling -----------------------------------------------------------------------------------

/**
 * The server's memory from /proc: VmRSS and VmHWM, and the resident size of its `[heap]` mapping
 * (the C heap that malloc grows with brk: SQLite, zlib, and ArrayBuffer backing stores live there,
 * the V8 heap does not), which tells native growth from JavaScript growth.
 */
async function vmRss(/** @type {number} */ pid) {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  const field = (/** @type {string} */ name) =>
    Number(text.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? 0) * 1024;
  const smaps = await readFile(`/proc/${pid}/smaps`, 'utf8').catch(() => '');
  const heap = smaps.match(/ \[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/);
  return {
    rss: field('VmRSS'),
    hwm: field('VmHWM'),
    // Anonymous memory (heaps, arenas, mmap'd buffers) against file pages (code, mapped files).
    rssAnon: field('RssAnon'),
    rssFile: field('RssFile'),
    mallocHeap: heap ? Number(heap[1]) * 1024 : null,
  };
}

let probeOffset = 0;
/** The probe lines written since the last call. */
async function probeLines() {
  const text = await readFile(probeFile, 'utf8').catch(() => '');
  const fresh = text.slice(probeOffset);
  const complete = fresh.slice(0, fresh.lastIndexOf('\n') + 1);
  probeOffset += complete.length;
  return complete
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

const round = (/** @type {number|null} */ x, digits = 1) =>
  x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits;
const pct = (/** @type {number[]} */ xs, /** @type {number} */ p) =>
  round(
    percentile(
      [...xs].sort((a, b) => a - b),
      p,
    ),
  );

/** @type {any[]} */
const samples = [];
let lastPoints = 0;
let lastSampleAt = 0;
let lastProbe = null;
async function sample() {
  const { rss, hwm, rssAnon, rssFile, mallocHeap } = await vmRss(proc.pid);
  const fresh = await probeLines();
  if (fresh.length) lastProbe = fresh.at(-1);
  const perOp = {};
  const pooled = [];
  for (const [name, op] of [...ops.entries()].sort()) {
    perOp[name] = { n: op.window.length, p50: pct(op.window, 50), p99: pct(op.window, 99), errors: op.windowErrors };
    pooled.push(...op.window);
    op.window = [];
    op.windowErrors = 0;
  }
  const s = {
    t: Math.round(elapsed()),
    rssMiB: round(rss / 2 ** 20),
    hwmMiB: round(hwm / 2 ** 20),
    mallocHeapMiB: mallocHeap === null ? null : round(mallocHeap / 2 ** 20),
    rssAnonMiB: round(rssAnon / 2 ** 20),
    rssFileMiB: round(rssFile / 2 ** 20),
    heapUsedMiB: lastProbe ? round(lastProbe.memory.heapUsed / 2 ** 20) : null,
    heapTotalMiB: lastProbe ? round(lastProbe.memory.heapTotal / 2 ** 20) : null,
    /** Committed MiB per V8 space (new_space, old_space, large_object_space…). */
    heapSpacesMiB: lastProbe?.heapSpaces
      ? Object.fromEntries(Object.entries(lastProbe.heapSpaces).map(([name, bytes]) => [name, round(bytes / 2 ** 20)]))
      : null,
    externalMiB: lastProbe ? round(lastProbe.memory.external / 2 ** 20) : null,
    eventLoopDelayMs: lastProbe?.eventLoopDelayMs ?? null,
    allRequests: { n: pooled.length, p50: pct(pooled, 50), p99: pct(pooled, 99) },
    pointsPerSecond: round((pointsWritten - lastPoints) / Math.max(1, elapsed() - lastSampleAt)),
    errors: errorCount,
    sseEvents,
    ops: perOp,
  };
  lastPoints = pointsWritten;
  lastSampleAt = elapsed();
  samples.push(s);
  log(
    `RSS ${s.rssMiB} MiB (heap ${s.heapUsedMiB}), loop p99 ${s.eventLoopDelayMs?.p99 ?? '?'} ms, ` +
      `${s.allRequests.n} requests p99 ${s.allRequests.p99} ms, ${s.pointsPerSecond} points/s, ${errorCount} errors`,
  );
}

// ---- the run ------------------------------------------------------------------------------------

let deadline = Number.POSITIVE_INFINITY;
let serverExited = false;
proc.exited.then(() => {
  serverExited = true;
});
try {
  mlflowExperimentId = parseJson(
    (await request('POST', mlflow('experiments/create'), { headers: bearer, json: { name: PROJECTS.mlflow } })).text,
  ).experiment_id;

  // The live stream follows a project, so it must exist before the first run does; the table
  // reads query every project from their first second, before any logger has created a run.
  await request('POST', cairn('workspaces/default/projects'), { headers: bearer, json: { name: PROJECTS.cairn } });
  await request('POST', comet('write/project/create'), {
    headers: plain,
    json: { workspaceName: 'default', projectName: PROJECTS.comet },
  });

  loadStart = performance.now();
  deadline = loadStart + MINUTES * 60_000;
  log(`soak for ${MINUTES} min against ${base} (server pid ${proc.pid}), sampling every ${SAMPLE_MS / 1000} s`);
  for (const [api, n] of Object.entries(MIX.loggers)) for (let i = 0; i < n; i++) logger(/** @type {any} */ (api));
  uploads();
  reads();
  liveEvents();
  await sample();
  const sampler = (async () => {
    for (let k = 1; performance.now() < deadline; k++) {
      await sleep(Math.max(0, Math.min(loadStart + k * SAMPLE_MS, deadline) - performance.now()));
      await sample();
    }
  })();
  await sampler;
  stopping = true;
  sseAbort.abort();
  await Promise.all(loops);
  if (serverExited) throw new Error(`the server exited during the soak; see ${workDir}/cairn.log`);
} finally {
  stopping = true;
  sseAbort.abort();
  await proc.stop();
}

// ---- verdict and report -------------------------------------------------------------------------

const post = samples.filter((s) => s.t >= WARMUP_S);
const third = Math.max(1, Math.floor(post.length / 3));
const firstThird = post.slice(0, third);
const lastThird = post.slice(-third);
const mean = (/** @type {number[]} */ xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const rssFirst = mean(firstThird.map((s) => s.rssMiB));
const rssLast = mean(lastThird.map((s) => s.rssMiB));
const rssGrowthPct = ((rssLast - rssFirst) / rssFirst) * 100;
/** Least-squares slope of RSS over the post-warm-up samples, in MiB per hour. */
const slope = (() => {
  const xs = post.map((s) => s.t / 3600);
  const ys = post.map((s) => s.rssMiB);
  const mx = mean(xs);
  const my = mean(ys);
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return den ? xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / den : 0;
})();
const spanOf = (/** @type {any[]} */ ss) => [ss[0].t - SAMPLE_MS / 1000, ss.at(-1).t];
const [f0, f1] = spanOf(firstThird);
const [l0, l1] = spanOf(lastThird);
const latencies = (/** @type {[number, number][]} */ all, /** @type {number} */ a, /** @type {number} */ b) =>
  all.filter(([t]) => t > a && t <= b).map(([, ms]) => ms);
const loadSeconds = samples.at(-1).t;
const MIN_FOR_DRIFT = 100;
const opRows = [...ops.entries()].sort().map(([name, op]) => {
  const after = latencies(op.all, WARMUP_S, Number.POSITIVE_INFINITY);
  const early = latencies(op.all, f0, f1);
  const late = latencies(op.all, l0, l1);
  const p99First = pct(early, 99);
  const p99Last = pct(late, 99);
  return {
    op: name,
    requests: op.all.length + op.errors,
    perSecond: round((op.all.length + op.errors) / loadSeconds, 2),
    p50Ms: pct(after, 50),
    p99Ms: pct(after, 99),
    p99FirstThirdMs: p99First,
    p99LastThirdMs: p99Last,
    p99Drift: p99First && p99Last ? round(p99Last / p99First, 2) : null,
    /** A p99 of fewer latencies than this is one or two requests: no basis for a drift verdict. */
    enoughForDrift: early.length >= MIN_FOR_DRIFT && late.length >= MIN_FOR_DRIFT,
    errors: op.errors,
  };
});
const eldFirst = mean(firstThird.map((s) => s.eventLoopDelayMs?.p99 ?? 0));
const eldLast = mean(lastThird.map((s) => s.eventLoopDelayMs?.p99 ?? 0));
/**
 * Targets: RSS flat (last third within 5% of the first, after warm-up); p99 stable (no op's
 * last-third p99 above 1.5× its first-third p99, ignoring differences under 5 ms: one slow
 * request in a few hundred moves a p99 that much on a shared 2-core box, and ops with fewer than
 * MIN_FOR_DRIFT requests in a third, whose p99 is their slowest request or two); zero errors.
 */
const drifting = opRows.filter(
  (r) =>
    r.enoughForDrift &&
    r.p99FirstThirdMs !== null &&
    r.p99LastThirdMs !== null &&
    r.p99LastThirdMs > 1.5 * r.p99FirstThirdMs &&
    r.p99LastThirdMs - r.p99FirstThirdMs >= 5,
);
const verdict = {
  warmupSeconds: WARMUP_S,
  rss: {
    firstThirdMiB: round(rssFirst),
    lastThirdMiB: round(rssLast),
    growthPct: round(rssGrowthPct),
    slopeMiBPerHour: round(slope),
    flat: rssGrowthPct <= 5,
  },
  eventLoopDelayP99Ms: { firstThird: round(eldFirst), lastThird: round(eldLast) },
  p99: { drifting: drifting.map((r) => r.op), stable: drifting.length === 0 },
  errors: { count: errorCount, zero: errorCount === 0 },
};

const mins = (/** @type {number} */ t) => round(t / 60, 2);
/** CAIRN_* settings the server inherited from this shell (the harness sets only its own). */
const serverSettings = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => (k.startsWith('CAIRN_') || k.startsWith('MALLOC_')) && !/KEY|SECRET|PASSWORD|URL/.test(k),
  ),
);
const md = [
  `### Soak, ${MINUTES} min (${new Date().toISOString().slice(0, 10)})`,
  '',
  Object.keys(serverSettings).length
    ? `Server settings from the environment: ${Object.entries(serverSettings)
        .map(([k, v]) => `\`${k}=${v}\``)
        .join(', ')}; everything else at its default.`
    : 'Server at its defaults.',
  '',
  `${samples.length} samples every ${SAMPLE_MS / 1000} s; warm-up ${mins(WARMUP_S)} min left out; thirds of the rest compared ` +
    `(first: ${mins(f0)}–${mins(f1)} min, last: ${mins(l0)}–${mins(l1)} min). ${pointsWritten.toLocaleString('en-US')} points written, ` +
    `${runSeq} runs created, ${(bytesUploaded / 2 ** 20).toFixed(0)} MiB uploaded, ${sseEvents.toLocaleString('en-US')} live events received.`,
  '',
  '| op | requests | per s | p50 ms | p99 ms | p99 first third | p99 last third | drift | errors |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...opRows.map(
    (r) =>
      `| ${r.op} | ${r.requests} | ${r.perSecond} | ${r.p50Ms ?? '–'} | ${r.p99Ms ?? '–'} | ${r.p99FirstThirdMs ?? '–'} | ${r.p99LastThirdMs ?? '–'} | ${r.p99Drift === null ? '–' : `${r.p99Drift}×${r.enoughForDrift ? '' : ' (few)'}`} | ${r.errors} |`,
  ),
  '',
  `- **RSS**: ${verdict.rss.firstThirdMiB} MiB (first third) → ${verdict.rss.lastThirdMiB} MiB (last third), ` +
    `${verdict.rss.growthPct >= 0 ? '+' : ''}${verdict.rss.growthPct}%, slope ${verdict.rss.slopeMiBPerHour} MiB/h; ` +
    `peak ${Math.max(...samples.map((s) => s.hwmMiB))} MiB (VmHWM). ${verdict.rss.flat ? 'Flat (≤ 5%).' : 'GROWING (> 5%).'}`,
  `- **Event-loop delay p99**: ${verdict.eventLoopDelayP99Ms.firstThird} ms → ${verdict.eventLoopDelayP99Ms.lastThird} ms (mean of the 10 s windows).`,
  `- **p99**: ${verdict.p99.stable ? `stable (no op with ≥ ${MIN_FOR_DRIFT} requests a third above 1.5× its first-third p99 by ≥ 5 ms)` : `DRIFTING: ${verdict.p99.drifting.join(', ')}`}.`,
  `- **Errors**: ${errorCount}${
    firstErrors.length
      ? `; first: ${firstErrors
          .slice(0, 3)
          .map((e) => `${e.op} at ${e.t}s: ${e.message.slice(0, 160)}`)
          .join(' / ')}`
      : ''
  }.`,
].join('\n');

const date = new Date().toISOString().slice(0, 10);
const svgPath = resolve(opts.svg ?? join(REPO_ROOT, 'docs', 'reliability', `soak-${date}.svg`));
const svg = soakSvg({ minutes: MINUTES, date, warmupSeconds: WARMUP_S, sampleSeconds: SAMPLE_MS / 1000, samples });
await mkdir(dirname(svgPath), { recursive: true });
await writeFile(svgPath, svg);

const summary = {
  benchmark: 'soak',
  checkout: rev.code === 0 ? rev.stdout.trim() : undefined,
  minutes: MINUTES,
  sampleSeconds: SAMPLE_MS / 1000,
  serverSettings,
  mix: MIX,
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtEnd: os.loadavg().map((x) => round(x, 2)),
  },
  totals: { pointsWritten, runsCreated: runSeq, bytesUploaded, sseEvents, errors: errorCount },
  verdict,
  ops: opRows,
  firstErrors,
  samples,
  plot: relative(REPO_ROOT, svgPath),
  markdown: md,
};
const out =
  opts.out ?? join(HERE, 'results', `soak-${new Date().toISOString().replaceAll(':', '-').replaceAll('.', '-')}.json`);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(summary, null, 2)}\n`);
if (opts['keep-data']) log(`data kept in ${workDir}`);
else await rm(workDir, { recursive: true, force: true });
process.stdout.write(`${md}\n\nPlot: ${svgPath}\nSummary JSON: ${out}\n`);
if (!verdict.errors.zero) process.exitCode = 1;
