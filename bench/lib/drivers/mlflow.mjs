// MLflow tracking server and FastTrackML, which speaks the same REST API. Writes use
// runs/log-batch; reads use each server's own closest call for every measurement (see README).

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJson, request } from '../http.mjs';
import { freePort, startGroup, waitHttp } from '../proc.mjs';
import { ensureVenv } from '../venv.mjs';
import { metricName, timestamp, value } from '../workload.mjs';

/** MLflow refuses log-batch requests with more than 1000 metrics (MAX_METRICS_PER_BATCH). */
export const MLFLOW_MAX_BATCH = 1000;

/**
 * @param {'mlflow'|'fasttrackml'} flavor
 * @param {{ venvRoot: string, mlflowWorkers: number, log: (s: string) => void }} opts
 */
export function mlflowDriver(flavor, opts) {
  const isFml = flavor === 'fasttrackml';
  /** @type {ReturnType<typeof startGroup>|undefined} */
  let proc;
  let base = '';
  let experimentId = '';
  const api = (path) => `${base}/api/2.0/mlflow/${path}`;
  const ajax = (path) => `${base}/ajax-api/2.0/mlflow/${path}`;

  /** @param {string} runId @param {string} metric */
  const historyUrl = (runId, metric) =>
    `${api('metrics/get-history')}?run_id=${runId}&metric_key=${encodeURIComponent(metric)}`;

  /** @type {Map<string, string[]>} MLflow page tokens per series, walked once (untimed). */
  const pageTokens = new Map();

  const driver = {
    name: flavor,
    kind: 'http',
    pid: 0,
    dataDir: '',
    version: '',
    /** What each read measurement actually calls on this server. */
    calls: isFml
      ? {
          full: 'GET /api/2.0/mlflow/metrics/get-history',
          page: 'GET /ajax-api/2.0/mlflow/metrics/get-history-bulk?max_results=1000 (first page only: get-history ignores max_results and there is no offset)',
          downsample: 'POST /aim/api/runs/search/metric {steps:1000} (Aim-UI API, binary stream)',
          chart: 'POST /aim/api/runs/search/metric, one request for 10 runs x 5 metrics, steps=1000',
        }
      : {
          full: 'GET /api/2.0/mlflow/metrics/get-history',
          page: 'GET /api/2.0/mlflow/metrics/get-history?max_results=1000&page_token=… (offset pages)',
          downsample: 'GET /ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?max_results=1000',
          chart:
            '5 parallel GET get-history-bulk-interval (one per metric, 10 run_ids, max_results=1000), as the UI does',
        },

    /** The server's base URL, once started (its UI is served there too). */
    baseUrl: () => base,
    /** The experiment the runs are created in, once started. */
    experimentId: () => experimentId,

    /** @param {string} workDir */
    async start(workDir) {
      const venv = await ensureVenv(flavor, opts.venvRoot);
      const dataDir = join(workDir, 'data');
      await mkdir(join(dataDir, 'artifacts'), { recursive: true });
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      const logFile = join(workDir, `${flavor}.log`);
      if (isFml) {
        proc = startGroup(
          join(venv, 'bin', 'fml'),
          [
            'server',
            '--database-uri',
            `sqlite://${join(dataDir, 'fml.db')}`,
            '--listen-address',
            `127.0.0.1:${port}`,
            '--default-artifact-root',
            join(dataDir, 'artifacts'),
            '--log-level',
            'warn',
          ],
          { cwd: workDir, env: process.env, logFile },
        );
      } else {
        proc = startGroup(
          join(venv, 'bin', 'mlflow'),
          [
            'server',
            '--backend-store-uri',
            `sqlite:///${join(dataDir, 'mlflow.db')}`,
            '--default-artifact-root',
            join(dataDir, 'artifacts'),
            '--host',
            '127.0.0.1',
            '--port',
            String(port),
            '--workers',
            String(opts.mlflowWorkers),
          ],
          // The job runner (huey consumers for GenAI jobs) has nothing to do with metrics; it
          // would only add processes to the measured RSS.
          { cwd: workDir, env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' }, logFile },
        );
      }
      driver.pid = proc.pid;
      driver.dataDir = dataDir;
      await waitHttp(`${base}/health`, proc, 180_000, logFile);
      driver.version = await versionOf(venv, flavor);
      const exp = parseJson((await request('POST', api('experiments/create'), { json: { name: 'bench' } })).text);
      experimentId = exp.experiment_id;
    },

    async stop() {
      await proc?.stop();
    },

    /** @param {string[]} names */
    async createRuns(names) {
      const ids = [];
      for (const name of names) {
        const body = { experiment_id: experimentId, run_name: name, start_time: Date.now() };
        ids.push(parseJson((await request('POST', api('runs/create'), { json: body })).text).run.info.run_id);
      }
      return ids;
    },

    /** @param {string} runId @param {import('../workload.mjs').Batch} b */
    async writeBatch(runId, b) {
      const valueRun = b.run;
      const metrics = [];
      for (let s = b.stepStart; s < b.stepStart + b.stepCount; s++) {
        const ts = timestamp(valueRun, s);
        for (const m of b.metrics)
          metrics.push({ key: metricName(m), value: value(valueRun, m, s), timestamp: ts, step: s });
      }
      if (metrics.length > MLFLOW_MAX_BATCH) throw new Error(`batch of ${metrics.length} exceeds MLflow's limit`);
      return (await request('POST', api('runs/log-batch'), { json: { run_id: runId, metrics } })).ms;
    },

    /** Points stored for a series (verification, untimed). @param {string} runId @param {string} metric */
    async count(runId, metric) {
      const r = await request('GET', historyUrl(runId, metric), { timeoutMs: 900_000 });
      return (parseJson(r.text).metrics ?? []).length;
    },

    /** @param {string} runId @param {string} metric */
    async readFull(runId, metric) {
      const r = await request('GET', historyUrl(runId, metric));
      return { ms: r.ms, points: (parseJson(r.text).metrics ?? []).length };
    },

    /** @param {string} runId @param {string} metric @param {number} i @param {number} total */
    async readPage(runId, metric, i, total) {
      if (isFml) {
        const url = `${ajax('metrics/get-history-bulk')}?run_id=${runId}&metric_key=${encodeURIComponent(metric)}&max_results=1000`;
        const r = await request('GET', url);
        return { ms: r.ms, points: (parseJson(r.text).metrics ?? []).length };
      }
      const key = `${runId}/${metric}`;
      if (!pageTokens.has(key)) {
        // Walk the pages once to learn their tokens; only fetching a known page is timed.
        const tokens = [''];
        while (tokens.length * 1000 < total) {
          const url = `${historyUrl(runId, metric)}&max_results=1000${tokens.at(-1) ? `&page_token=${encodeURIComponent(tokens.at(-1))}` : ''}`;
          const next = parseJson((await request('GET', url)).text).next_page_token;
          if (!next) break;
          tokens.push(next);
        }
        pageTokens.set(key, tokens);
      }
      const tokens = /** @type {string[]} */ (pageTokens.get(key));
      const token = tokens[Math.abs(i) % tokens.length];
      const url = `${historyUrl(runId, metric)}&max_results=1000${token ? `&page_token=${encodeURIComponent(token)}` : ''}`;
      const r = await request('GET', url);
      return { ms: r.ms, points: (parseJson(r.text).metrics ?? []).length };
    },

    /** @param {string} runId @param {string} metric @param {number} buckets */
    async readDownsampled(runId, metric, buckets) {
      if (isFml) return aimSearch([runId], [metric], buckets);
      const url = `${ajax('metrics/get-history-bulk-interval')}?run_ids=${runId}&metric_key=${encodeURIComponent(metric)}&max_results=${buckets}`;
      const r = await request('GET', url);
      return { ms: r.ms, points: (parseJson(r.text).metrics ?? []).length };
    },

    /** @param {string[]} runIds @param {string[]} metrics @param {number} buckets */
    async readChart(runIds, metrics, buckets) {
      if (isFml) return aimSearch(runIds, metrics, buckets);
      const ids = runIds.map((id) => `run_ids=${id}`).join('&');
      const t0 = performance.now();
      const texts = await Promise.all(
        metrics.map(async (m) => {
          const url = `${ajax('metrics/get-history-bulk-interval')}?${ids}&metric_key=${encodeURIComponent(m)}&max_results=${buckets}`;
          return (await request('GET', url)).text;
        }),
      );
      const ms = performance.now() - t0;
      return { ms, points: texts.reduce((n, t) => n + (parseJson(t).metrics ?? []).length, 0) };
    },
  };

  /**
   * FastTrackML's sampled read is its Aim-UI endpoint; the body is Aim's binary stream encoding,
   * which we do not decode: the point count is unknown (null), the byte size is reported instead.
   * @param {string[]} runIds @param {string[]} metrics @param {number} steps
   */
  async function aimSearch(runIds, metrics, steps) {
    const query =
      runIds.length === 1 ? `run.hash == "${runIds[0]}"` : `run.hash in [${runIds.map((id) => `"${id}"`).join(', ')}]`;
    const body = { metrics: metrics.map((key) => ({ key, context: {} })), query, steps };
    const r = await request('POST', `${base}/aim/api/runs/search/metric`, { json: body });
    for (const id of runIds) {
      if (!r.text.includes(id)) throw new Error(`FastTrackML search/metric response lacks run ${id}`);
    }
    return { ms: r.ms, points: null, bytes: Buffer.byteLength(r.text) };
  }

  return driver;
}

/** @param {string} venv @param {'mlflow'|'fasttrackml'} flavor */
async function versionOf(venv, flavor) {
  const { runToEnd } = await import('../proc.mjs');
  const exe = flavor === 'fasttrackml' ? join(venv, 'bin', 'fml') : join(venv, 'bin', 'mlflow');
  const r = await runToEnd(exe, ['--version'], { timeoutMs: 60_000, capture: true });
  return (r.stdout || r.stderr).trim().split('\n')[0];
}
