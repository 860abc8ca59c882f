#!/usr/bin/env node
// UI benchmark: npm run bench -- ui [--runs 100 --metrics 10 --steps 10000 --experiments 100000]
// The web UI in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core) against
// a real `cairn server` process:
// - charts: the project's charts page with every run selected (100 runs × 10 metrics × 10,000
//   steps stored): time from navigation to the first chart drawn and to every chart in the
//   viewport drawn, bytes on the wire per chart request, long tasks, JS heap;
// - table: the experiments table of a 100,000-experiment project, scrolled for 5 s:
//   frames per second, long tasks (> 50 ms) and the longest;
// - MLflow's UI on the same 10 runs × 10 metrics × 10,000 steps, logged through its REST API,
//   beside Cairn's page with those 10 runs (where MLflow's venv can be made: see lib/venv.mjs).
// Every figure is the median of --repeats page loads, each in a fresh browser context.

import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { positiveInt } from './lib/args.mjs';
import { startCairnServer } from './lib/cairn-server.mjs';
import { mlflowDriver } from './lib/drivers/mlflow.mjs';
import { parseJson, request } from './lib/http.mjs';
import { runToEnd } from './lib/proc.mjs';
import { seedExperiments } from './lib/seed-experiments.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(HERE, '..');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const METRIC_NAMES = [
  'train/loss',
  'train/accuracy',
  'train/lr',
  'train/grad_norm',
  'train/throughput',
  'val/loss',
  'val/accuracy',
  'val/f1',
  'val/precision',
  'val/recall',
];

const { values: opts } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== 'ui'),
  options: {
    runs: { type: 'string', default: '100' },
    metrics: { type: 'string', default: '10' },
    steps: { type: 'string', default: '10000' },
    experiments: { type: 'string', default: '100000' },
    repeats: { type: 'string', default: '5' },
    'scroll-seconds': { type: 'string', default: '5' },
    'mlflow-runs': { type: 'string', default: '10' },
    peers: { type: 'string', default: 'cairn,mlflow' },
    venv: { type: 'string', default: join(HERE, '.venv') },
    'no-build': { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opts.help) {
  console.error(`usage: npm run bench -- ui [--runs N] [--metrics N] [--steps N] [--experiments N]
       [--repeats N] [--scroll-seconds N] [--mlflow-runs N] [--peers cairn,mlflow] [--no-build] [--out FILE]`);
  process.exit(0);
}
const int = (name) => positiveInt(name, opts[name]);
const RUNS = int('runs');
const METRICS = Math.min(int('metrics'), METRIC_NAMES.length);
const STEPS = int('steps');
const EXPERIMENTS = int('experiments');
const REPEATS = int('repeats');
const SCROLL_SECONDS = int('scroll-seconds');
const MLFLOW_RUNS = Math.min(int('mlflow-runs'), RUNS);
const PEERS = opts.peers.split(',');
const log = (line) => process.stderr.write(`[ui] ${line}\n`);

if (!opts['no-build']) {
  log('building Cairn and its web UI (npm run build)');
  const built = await runToEnd('npm', ['run', 'build'], { cwd: REPO_ROOT, timeoutMs: 600_000 });
  if (built.code !== 0) throw new Error('npm run build failed');
}

/** A series with a trend, noise and a few spikes, deterministic per (run, metric). */
function seriesValues(run, metric, steps) {
  let seed = run * 7919 + metric * 104729 + 1;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const values = new Array(steps);
  for (let s = 0; s < steps; s++) {
    const trend = metric % 2 === 0 ? 2 * Math.exp(-s / (steps / 4)) + 0.1 : 1 - Math.exp(-s / (steps / 5));
    values[s] = trend + (random() - 0.5) * 0.05 + (random() < 0.0005 ? 3 * random() : 0);
  }
  return values;
}

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const server = await import(pathToFileURL(join(REPO_ROOT, 'packages/server/dist/index.js')).href);
const workDir = await mkdtemp(join(os.tmpdir(), 'cairn-ui-bench-'));
const dataDir = join(workDir, 'data');
await mkdir(dataDir, { recursive: true });
const apiKey = Array.from({ length: 40 }, () => ALNUM[randomInt(ALNUM.length)]).join('');

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--enable-precise-memory-info'],
});

// Installed before any page script: long tasks, and when each chart first holds drawn points.
const PROBE = () => {
  const bench = { longTasks: [], charts: {} };
  window.__bench = bench;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) bench.longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: 'longtask', buffered: true });
  const scan = () => {
    for (const el of document.querySelectorAll('[data-testid^="chart-"][data-points]')) {
      const id = el.getAttribute('data-testid');
      if (Number(el.getAttribute('data-points')) > 0 && bench.charts[id] === undefined)
        bench.charts[id] = performance.now();
    }
  };
  new MutationObserver(scan).observe(document, { subtree: true, childList: true, attributes: true });
};

async function signedInContext(baseUrl) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const answer = await context.request.post(`${baseUrl}/api/cairn/v1/sessions`, { data: { apiKey } });
  if (answer.status() !== 201) throw new Error(`sign-in failed: ${answer.status()} ${await answer.text()}`);
  await context.addInitScript(PROBE);
  return context;
}

/** Loads Cairn's charts page for `keys`, waits for every chart in the viewport to draw. */
async function measureCairnCharts(baseUrl, keys) {
  const context = await signedInContext(baseUrl);
  try {
    const page = await context.newPage();
    await page.goto(`${baseUrl}/default/ui-bench/charts?sel=${keys.join(',')}`);
    await page.waitForFunction(
      () => {
        const charts = [...document.querySelectorAll('[data-testid^="chart-"]')];
        const visible = charts.filter((el) => {
          const r = el.getBoundingClientRect();
          return r.bottom > 0 && r.top < window.innerHeight && r.width > 0;
        });
        return visible.length > 0 && visible.every((el) => window.__bench.charts[el.getAttribute('data-testid')]);
      },
      undefined,
      { timeout: 120_000, polling: 50 },
    );
    return page.evaluate(() => {
      const visible = [...document.querySelectorAll('[data-testid^="chart-"]')].filter((el) => {
        const r = el.getBoundingClientRect();
        return r.bottom > 0 && r.top < window.innerHeight && r.width > 0;
      });
      const times = visible.map((el) => window.__bench.charts[el.getAttribute('data-testid')]);
      const requests = performance.getEntriesByType('resource').filter((e) => e.name.includes('/series/query'));
      const bytes = requests.map((e) => e.encodedBodySize);
      return {
        visibleCharts: visible.length,
        firstChartMs: Math.min(...times),
        allVisibleMs: Math.max(...times),
        chartRequests: requests.length,
        bytesPerChartMedian: bytes.length ? bytes.sort((a, b) => a - b)[Math.floor(bytes.length / 2)] : 0,
        bytesPerChartMax: bytes.length ? Math.max(...bytes) : 0,
        longTasksOver50: window.__bench.longTasks.filter((t) => t.duration > 50).length,
        longestTaskMs: Math.max(0, ...window.__bench.longTasks.map((t) => t.duration)),
        heapMiB: performance.memory ? performance.memory.usedJSHeapSize / 2 ** 20 : null,
      };
    });
  } finally {
    await context.close();
  }
}

/** Scrolls the 100k-row table for SCROLL_SECONDS: frames per second and long tasks meanwhile. */
async function measureTableScroll(baseUrl) {
  const context = await signedInContext(baseUrl);
  try {
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(`${baseUrl}/default/search-bench`);
    const scroller = page.locator('[data-testid="experiments-table-scroller"]');
    await page.locator('[data-testid="experiments-table-scroller"] [role="row"]').nth(5).waitFor({ timeout: 60_000 });
    const firstRowsMs = Date.now() - t0;
    await page.waitForTimeout(500);
    const result = await scroller.evaluate(async (el, seconds) => {
      const longBefore = window.__bench.longTasks.length;
      const frames = [];
      const start = performance.now();
      await new Promise((done) => {
        const step = (now) => {
          frames.push(now);
          el.scrollTop += 90;
          if (now - start < seconds * 1000) requestAnimationFrame(step);
          else done();
        };
        requestAnimationFrame(step);
      });
      const tasks = window.__bench.longTasks.slice(longBefore).filter((t) => t.start >= start);
      let worstGap = 0;
      for (let i = 1; i < frames.length; i++) worstGap = Math.max(worstGap, frames[i] - frames[i - 1]);
      return {
        fps: (frames.length - 1) / ((frames.at(-1) - frames[0]) / 1000),
        worstFrameMs: worstGap,
        longTasksOver50: tasks.filter((t) => t.duration > 50).length,
        longTasksOver100: tasks.filter((t) => t.duration > 100).length,
        longestTaskMs: Math.max(0, ...tasks.map((t) => t.duration)),
        rowsScrolled: Math.round(el.scrollTop / 32),
        heapMiB: performance.memory ? performance.memory.usedJSHeapSize / 2 ** 20 : null,
      };
    }, SCROLL_SECONDS);
    return { firstRowsMs, ...result };
  } finally {
    await context.close();
  }
}

/**
 * MLflow's experiment page in chart mode with its runs shown: time from navigation until every
 * Plotly chart in the viewport has drawn a trace for each run, and the same probes.
 */
async function measureMlflowCharts(base, experimentId, runCount) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.addInitScript(PROBE);
  try {
    const page = await context.newPage();
    // MLflow 3 opens GenAI views by default; the model-training runs page in chart mode is this URL.
    await page.goto(`${base}/#/experiments/${experimentId}/runs?compareRunsMode=CHART&workflowType=machine_learning`);
    await page.waitForFunction(
      (runs) => {
        const plots = [...document.querySelectorAll('.js-plotly-plot')].filter((el) => {
          const r = el.getBoundingClientRect();
          return r.bottom > 0 && r.top < window.innerHeight && r.width > 0;
        });
        const done =
          plots.length > 0 && plots.every((el) => el.querySelectorAll('.scatterlayer .trace').length >= runs);
        if (done && window.__bench.doneAt === undefined) {
          window.__bench.doneAt = performance.now();
          window.__bench.visible = plots.length;
        }
        if (plots.length > 0 && window.__bench.firstAt === undefined) {
          const first = plots.find((el) => el.querySelectorAll('.scatterlayer .trace').length > 0);
          if (first) window.__bench.firstAt = performance.now();
        }
        return done;
      },
      runCount,
      { timeout: 300_000, polling: 50 },
    );
    return page.evaluate(() => ({
      visibleCharts: window.__bench.visible,
      firstChartMs: window.__bench.firstAt,
      allVisibleMs: window.__bench.doneAt,
      longTasksOver50: window.__bench.longTasks.filter((t) => t.duration > 50).length,
      longestTaskMs: Math.max(0, ...window.__bench.longTasks.map((t) => t.duration)),
      heapMiB: performance.memory ? performance.memory.usedJSHeapSize / 2 ** 20 : null,
    }));
  } finally {
    await context.close();
  }
}

function summarizeRepeats(samples) {
  const keys = Object.keys(samples[0]);
  return Object.fromEntries(
    keys.map((k) => [
      k,
      samples.every((s) => typeof s[k] === 'number') ? median(samples.map((s) => s[k])) : samples[0][k],
    ]),
  );
}

const results = { date: new Date().toISOString(), shape: { RUNS, METRICS, STEPS, EXPERIMENTS, REPEATS }, cairn: {} };
let cairnProc;
try {
  log(`seeding ${EXPERIMENTS} experiments for the table scenario`);
  const seeded = performance.now();
  await seedExperiments({ server, dataDir, apiKey, n: EXPERIMENTS, projectName: 'search-bench', log });
  log(`seeded in ${((performance.now() - seeded) / 1000).toFixed(0)} s`);

  const started = await startCairnServer({
    workDir,
    env: { CAIRN_DATA_DIR: dataDir, CAIRN_ADMIN_API_KEY: apiKey, CAIRN_SQLITE_SYNCHRONOUS: 'normal' },
  });
  cairnProc = started.proc;
  const baseUrl = started.url;
  const auth = { authorization: `Bearer ${apiKey}` };
  const cairnApi = `${baseUrl}/api/cairn/v1`;

  log(`logging ${RUNS} runs × ${METRICS} metrics × ${STEPS} steps through the bulk metrics path`);
  const ingestStart = performance.now();
  const keys = [];
  for (let run = 0; run < RUNS; run++) {
    const created = await request('POST', `${cairnApi}/workspaces/default/projects/ui-bench/experiments`, {
      headers: auth,
      json: { name: `run-${String(run).padStart(3, '0')}` },
    });
    const key = parseJson(created.text).key;
    keys.push(key);
    const steps = Array.from({ length: STEPS }, (_, s) => s);
    const series = METRIC_NAMES.slice(0, METRICS).map((name, metric) => ({
      name,
      steps,
      values: seriesValues(run, metric, STEPS),
      timestamps: steps.map((s) => Date.UTC(2026, 0, 1) + run * 60_000 + s * 100),
    }));
    await request('POST', `${cairnApi}/experiments/${key}/metrics`, { headers: auth, json: { series }, gzip: true });
    await request('POST', `${cairnApi}/experiments/${key}/end`, { headers: auth, json: {} });
  }
  log(`logged in ${((performance.now() - ingestStart) / 1000).toFixed(0)} s`);

  const charts = [];
  for (let i = 0; i < REPEATS; i++) charts.push(await measureCairnCharts(baseUrl, keys));
  results.cairn.charts = summarizeRepeats(charts);
  log(`charts, ${RUNS} runs: ${JSON.stringify(results.cairn.charts)}`);

  const charts10 = [];
  for (let i = 0; i < REPEATS; i++) charts10.push(await measureCairnCharts(baseUrl, keys.slice(0, MLFLOW_RUNS)));
  results.cairn.charts10 = summarizeRepeats(charts10);
  log(`charts, ${MLFLOW_RUNS} runs: ${JSON.stringify(results.cairn.charts10)}`);

  const scrolls = [];
  for (let i = 0; i < REPEATS; i++) scrolls.push(await measureTableScroll(baseUrl));
  results.cairn.table = summarizeRepeats(scrolls);
  log(`table of ${EXPERIMENTS}: ${JSON.stringify(results.cairn.table)}`);
  await cairnProc.stop();
  cairnProc = undefined;

  if (PEERS.includes('mlflow')) {
    const driver = mlflowDriver('mlflow', { venvRoot: opts.venv, mlflowWorkers: 1, log });
    const mlflowDir = join(workDir, 'mlflow');
    await mkdir(mlflowDir, { recursive: true });
    try {
      await driver.start(mlflowDir);
      log(`MLflow ${driver.version}: logging ${MLFLOW_RUNS} runs × ${METRICS} metrics × ${STEPS} steps`);
      const runIds = await driver.createRuns(keys.slice(0, MLFLOW_RUNS).map((_, i) => `run-${i}`));
      const base = driver.baseUrl();
      for (let run = 0; run < runIds.length; run++) {
        const all = METRIC_NAMES.slice(0, METRICS).map((_, metric) => seriesValues(run, metric, STEPS));
        const perBatch = Math.floor(1000 / METRICS);
        for (let from = 0; from < STEPS; from += perBatch) {
          const metrics = [];
          for (let s = from; s < Math.min(STEPS, from + perBatch); s++) {
            for (let m = 0; m < METRICS; m++) {
              metrics.push({
                key: METRIC_NAMES[m],
                value: all[m][s],
                timestamp: Date.UTC(2026, 0, 1) + s * 100,
                step: s,
              });
            }
          }
          await request('POST', `${base}/api/2.0/mlflow/runs/log-batch`, { json: { run_id: runIds[run], metrics } });
        }
      }
      const samples = [];
      for (let i = 0; i < REPEATS; i++)
        samples.push(await measureMlflowCharts(base, driver.experimentId(), runIds.length));
      results.mlflow = { version: driver.version, charts10: summarizeRepeats(samples) };
      log(`MLflow charts, ${MLFLOW_RUNS} runs: ${JSON.stringify(results.mlflow.charts10)}`);
    } catch (error) {
      results.mlflow = { error: error instanceof Error ? error.message : String(error) };
      log(`MLflow's UI could not be measured: ${results.mlflow.error}`);
    } finally {
      await driver.stop();
    }
  }
} finally {
  await cairnProc?.stop();
  await browser.close();
  await rm(workDir, { recursive: true, force: true });
}

const out = opts.out ?? join(HERE, 'results', `ui-${results.date.replace(/[:.]/g, '-')}.json`);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(results, null, 2)}\nSummary JSON: ${out}\n`);
