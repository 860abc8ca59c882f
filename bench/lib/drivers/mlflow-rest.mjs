// MLflow's tracking REST API as the benchmark drives it: run creation, runs/log-batch writes and
// the reads. Shared by the MLflow server driver and the Cairn-through-MLflow driver, so both
// servers get byte-for-byte the same requests (plus an Authorization header for Cairn).

import { parseJson, request } from '../http.mjs';
import { metricName, timestamp, value } from '../workload.mjs';

/** MLflow refuses log-batch requests with more than 1000 metrics (MAX_METRICS_PER_BATCH). */
export const MLFLOW_MAX_BATCH = 1000;

/** What the Python client asks get-history for per call (and the UI too). */
export const HISTORY_PAGE = 25_000;

/** What each read measurement calls on a server that speaks MLflow 3's API. */
export const MLFLOW_CALLS = {
  full: `GET /api/2.0/mlflow/metrics/get-history?max_results=${HISTORY_PAGE}`,
  page: 'GET /api/2.0/mlflow/metrics/get-history?max_results=1000&page_token=… (offset pages)',
  downsample: 'GET /ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?max_results=1000',
  chart: '5 parallel GET get-history-bulk-interval (one per metric, 10 run_ids, max_results=1000), as the UI does',
};

/**
 * @param {{ base: () => string, headers?: Record<string, string> }} opts  base: the server's URL once started
 */
export function mlflowRest({ base, headers = {} }) {
  let experimentId = '';
  const api = (/** @type {string} */ path) => `${base()}/api/2.0/mlflow/${path}`;
  const ajax = (/** @type {string} */ path) => `${base()}/ajax-api/2.0/mlflow/${path}`;
  /** @param {string} method @param {string} url @param {object} [o] */
  const call = (method, url, o = {}) => request(method, url, { ...o, headers });
  /** @param {string} runId @param {string} metric */
  const historyUrl = (runId, metric) =>
    `${api('metrics/get-history')}?run_id=${runId}&metric_key=${encodeURIComponent(metric)}`;
  /** @type {Map<string, string[]>} page tokens per series, walked once (untimed). */
  const pageTokens = new Map();

  return {
    api,
    ajax,
    call,
    /** The experiment the runs are created in, once created. */
    experimentId: () => experimentId,

    /** @param {string} name */
    async createExperiment(name) {
      experimentId = parseJson((await call('POST', api('experiments/create'), { json: { name } })).text).experiment_id;
      return experimentId;
    },

    /** @param {string[]} names */
    async createRuns(names) {
      const ids = [];
      for (const name of names) {
        const body = { experiment_id: experimentId, run_name: name, start_time: Date.now() };
        ids.push(parseJson((await call('POST', api('runs/create'), { json: body })).text).run.info.run_id);
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
      return (await call('POST', api('runs/log-batch'), { json: { run_id: runId, metrics } })).ms;
    },

    /** Points stored for a series (verification, untimed). @param {string} runId @param {string} metric */
    async count(runId, metric) {
      const r = await call('GET', historyUrl(runId, metric), { timeoutMs: 900_000 });
      return (parseJson(r.text).metrics ?? []).length;
    },

    /** @param {string} runId @param {string} metric */
    async readFull(runId, metric) {
      const r = await call('GET', `${historyUrl(runId, metric)}&max_results=${HISTORY_PAGE}`);
      return { ms: r.ms, points: (parseJson(r.text).metrics ?? []).length };
    },

    /** @param {string} runId @param {string} metric @param {number} i @param {number} total */
    async readPage(runId, metric, i, total) {
      const key = `${runId}/${metric}`;
      if (!pageTokens.has(key)) {
        // Walk the pages once to learn their tokens; only fetching a known page is timed.
        const tokens = [''];
        while (tokens.length * 1000 < total) {
          const url = `${historyUrl(runId, metric)}&max_results=1000${tokens.at(-1) ? `&page_token=${encodeURIComponent(tokens.at(-1))}` : ''}`;
          const next = parseJson((await call('GET', url)).text).next_page_token;
          if (!next) break;
          tokens.push(next);
        }
        pageTokens.set(key, tokens);
      }
      const tokens = /** @type {string[]} */ (pageTokens.get(key));
      const token = tokens[Math.abs(i) % tokens.length];
      const url = `${historyUrl(runId, metric)}&max_results=1000${token ? `&page_token=${encodeURIComponent(token)}` : ''}`;
      const r = await call('GET', url);
      return { ms: r.ms, points: (parseJson(r.text).metrics ?? []).length };
    },

    /** @param {string} runId @param {string} metric @param {number} buckets */
    async readDownsampled(runId, metric, buckets) {
      const url = `${ajax('metrics/get-history-bulk-interval')}?run_ids=${runId}&metric_key=${encodeURIComponent(metric)}&max_results=${buckets}`;
      const r = await call('GET', url);
      return { ms: r.ms, points: (parseJson(r.text).metrics ?? []).length };
    },

    /** @param {string[]} runIds @param {string[]} metrics @param {number} buckets */
    async readChart(runIds, metrics, buckets) {
      const ids = runIds.map((id) => `run_ids=${id}`).join('&');
      const t0 = performance.now();
      const texts = await Promise.all(
        metrics.map(async (m) => {
          const url = `${ajax('metrics/get-history-bulk-interval')}?${ids}&metric_key=${encodeURIComponent(m)}&max_results=${buckets}`;
          return (await call('GET', url)).text;
        }),
      );
      const ms = performance.now() - t0;
      return { ms, points: texts.reduce((n, t) => n + (parseJson(t).metrics ?? []).length, 0) };
    },
  };
}
