import { join } from 'node:path';
import { describePythonClientSuite, ROOT, runCli } from './support/python-compat.js';

/**
 * The official MLflow Python client against a real Cairn server process, in two releases: the
 * newest 3.x and the last 2.x. Every `compat/mlflow/*_check.py` script runs under both with only
 * MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN set for MLflow (a plain user's read,write key, so
 * the user's own workspace is used), and reads what it logged back through MLflow, Comet's REST
 * API and Foundry's (the same user's read,api:models-read key).
 *
 * Both are the full `mlflow` distribution (its model flavours, pyfunc and dataset support need
 * pandas, scikit-learn and friends), pinned with scikit-learn. mlflow 3.18.0 is on PyPI but does
 * not install (its mlflow-tracing 3.18.0 is missing), so 3.17.2 is the newest usable 3.x.
 * The venvs live in `<repo>/.venv/mlflow-<version>` (gitignored), about 850 MB each; a cold build
 * takes about a minute each.
 */
const CLIENTS = [
  { mlflow: '3.17.2', sklearn: '1.9.1' },
  { mlflow: '2.22.5', sklearn: '1.9.1' },
];
const SCRIPTS = ['tracking_check.py', 'search_check.py', 'history_check.py', 'artifacts_check.py', 'models_check.py'];

for (const client of CLIENTS) {
  describePythonClientSuite({
    title: `mlflow ${client.mlflow} against a running Cairn server`,
    venv: {
      suite: 'mlflow',
      dir: join(ROOT, `.venv/mlflow-${client.mlflow}`),
      requirements: [`mlflow==${client.mlflow}`, `scikit-learn==${client.sklearn}`],
    },
    scriptsDir: join(ROOT, 'packages/server/test/compat/mlflow'),
    expectedScripts: SCRIPTS,
    // Our settings and the client's (a developer's MLFLOW_EXPERIMENT_NAME…) must not leak in.
    stripPrefixes: ['CAIRN_', 'MLFLOW_'],
    env: (port) => ({
      MLFLOW_TRACKING_URI: `http://127.0.0.1:${port}`,
      CAIRN_URL: `http://127.0.0.1:${port}`,
    }),
    async prepare({ dataDir }) {
      // A plain user (not the admin) with a key per API, made the way an operator makes them.
      const user = `mlflow-${client.mlflow.replaceAll('.', '-')}`;
      await runCli(dataDir, ['users', 'create', user]);
      return {
        MLFLOW_TRACKING_TOKEN: await runCli(dataDir, ['keys', 'create', user, '--scopes', 'read,write']),
        CAIRN_FOUNDRY_KEY: await runCli(dataDir, ['keys', 'create', user, '--scopes', 'read,api:models-read']),
        CAIRN_WORKSPACE: user,
      };
    },
  });
}
