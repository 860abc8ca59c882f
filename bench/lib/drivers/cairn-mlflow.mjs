// Cairn through MLflow's REST API: the same server as the `cairn` peer, written and read with
// exactly the requests the `mlflow` peer sends to MLflow's server (drivers/mlflow-rest.mjs), plus
// MLflow's token header. `--peers cairn-mlflow,mlflow` compares the two servers on one API.

import { randomApiKey, startCairnCheckout } from '../cairn-server.mjs';
import { MLFLOW_CALLS, mlflowRest } from './mlflow-rest.mjs';

/** @param {{ repoRoot: string, build: boolean, log: (s: string) => void }} opts */
export function cairnMlflowDriver(opts) {
  /** @type {{ stop(): Promise<void>, pid: number }|undefined} */
  let proc;
  let base = '';
  const apiKey = randomApiKey();
  // What MLFLOW_TRACKING_TOKEN makes the Python client send.
  const rest = mlflowRest({ base: () => base, headers: { authorization: `Bearer ${apiKey}` } });

  const driver = {
    name: 'cairn-mlflow',
    kind: 'http',
    pid: 0,
    dataDir: '',
    version: '',
    /** @type {string|undefined} why the benchmark cannot run on this checkout */
    unavailable: undefined,
    calls: MLFLOW_CALLS,

    /** @param {string} workDir */
    async start(workDir) {
      const started = await startCairnCheckout({ ...opts, workDir, apiKey });
      proc = started.proc;
      base = started.url;
      driver.pid = proc.pid;
      driver.dataDir = started.dataDir;
      driver.version = started.version;
      // A checkout without the tracking routes answers ENDPOINT_NOT_FOUND (or Fastify's 404).
      const probe = await fetch(rest.api('experiments/search'), {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: '{"max_results":1}',
      });
      if (probe.status === 404) {
        driver.unavailable = `this Cairn checkout does not serve MLflow's tracking API yet (${(await probe.text()).slice(0, 200)})`;
        return;
      }
      await rest.createExperiment('bench');
    },

    async stop() {
      await proc?.stop();
    },

    createRuns: rest.createRuns,
    writeBatch: rest.writeBatch,
    count: rest.count,
    readFull: rest.readFull,
    readPage: rest.readPage,
    readDownsampled: rest.readDownsampled,
    readChart: rest.readChart,
  };
  return driver;
}
