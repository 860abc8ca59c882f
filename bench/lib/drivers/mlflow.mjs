// MLflow tracking server and FastTrackML, which speaks the same REST API. Writes use
// runs/log-batch; reads use each server's own closest call for every measurement (see README).

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJson, request } from '../http.mjs';
import { freePort, startGroup, waitHttp } from '../proc.mjs';
import { ensureVenv } from '../venv.mjs';
import { HISTORY_PAGE, MLFLOW_CALLS, mlflowRest } from './mlflow-rest.mjs';

export { MLFLOW_MAX_BATCH } from './mlflow-rest.mjs';

/**
 * @param {'mlflow'|'fasttrackml'} flavor
 * @param {{ venvRoot: string, mlflowWorkers: number, log: (s: string) => void }} opts
 */
export function mlflowDriver(flavor, opts) {
  const isFml = flavor === 'fasttrackml';
  /** @type {ReturnType<typeof startGroup>|undefined} */
  let proc;
  let base = '';
  const rest = mlflowRest({ base: () => base });
  const { ajax } = rest;

  const driver = {
    name: flavor,
    kind: 'http',
    pid: 0,
    dataDir: '',
    version: '',
    /** What each read measurement actually calls on this server. */
    calls: isFml
      ? {
          full: `GET /api/2.0/mlflow/metrics/get-history?max_results=${HISTORY_PAGE} (ignored: FastTrackML returns all)`,
          page: 'GET /ajax-api/2.0/mlflow/metrics/get-history-bulk?max_results=1000 (first page only: get-history ignores max_results and there is no offset)',
          downsample: 'POST /aim/api/runs/search/metric {steps:1000} (Aim-UI API, binary stream)',
          chart: 'POST /aim/api/runs/search/metric, one request for 10 runs x 5 metrics, steps=1000',
        }
      : MLFLOW_CALLS,

    /** The server's base URL, once started (its UI is served there too). */
    baseUrl: () => base,
    /** The experiment the runs are created in, once started. */
    experimentId: rest.experimentId,

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
      await rest.createExperiment('bench');
    },

    async stop() {
      await proc?.stop();
    },

    createRuns: rest.createRuns,
    writeBatch: rest.writeBatch,
    count: rest.count,
    readFull: rest.readFull,

    /** @param {string} runId @param {string} metric @param {number} i @param {number} total */
    async readPage(runId, metric, i, total) {
      if (!isFml) return rest.readPage(runId, metric, i, total);
      const url = `${ajax('metrics/get-history-bulk')}?run_id=${runId}&metric_key=${encodeURIComponent(metric)}&max_results=1000`;
      const r = await request('GET', url);
      return { ms: r.ms, points: (parseJson(r.text).metrics ?? []).length };
    },

    /** @param {string} runId @param {string} metric @param {number} buckets */
    async readDownsampled(runId, metric, buckets) {
      return isFml ? aimSearch([runId], [metric], buckets) : rest.readDownsampled(runId, metric, buckets);
    },

    /** @param {string[]} runIds @param {string[]} metrics @param {number} buckets */
    async readChart(runIds, metrics, buckets) {
      return isFml ? aimSearch(runIds, metrics, buckets) : rest.readChart(runIds, metrics, buckets);
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
