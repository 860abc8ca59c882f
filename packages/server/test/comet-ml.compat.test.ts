import { join } from 'node:path';
import { describePythonClientSuite, ROOT } from './support/python-compat.js';

/**
 * The official Python client, comet_ml 3.32.5, against a real Cairn server process: every
 * `compat/comet_ml/*_check.py` script drives comet_ml.API / APIExperiment (and the live-logging
 * Experiment) and checks what comes back.
 *
 * The client lives in `<repo>/.venv/comet-ml-3.32.5` (gitignored), created on first use and reused
 * while it holds exactly that version. urllib3 is held below 2: comet_ml 3.32.5 builds its retry
 * policy with `Retry(method_whitelist=...)`, which urllib3 2 removed, so `API()` fails to construct
 * with the urllib3 a bare `pip install comet_ml==3.32.5` picks today.
 */
const COMET_ML_VERSION = '3.32.5';

describePythonClientSuite({
  title: `comet_ml ${COMET_ML_VERSION} against a running Cairn server`,
  venv: {
    suite: 'comet_ml',
    dir: join(ROOT, `.venv/comet-ml-${COMET_ML_VERSION}`),
    requirements: [`comet_ml==${COMET_ML_VERSION}`, 'urllib3<2'],
    accepts: (versions) =>
      versions.comet_ml === COMET_ML_VERSION &&
      versions.urllib3 !== undefined &&
      Number.parseInt(versions.urllib3, 10) < 2,
  },
  scriptsDir: join(ROOT, 'packages/server/test/compat/comet_ml'),
  expectedScripts: ['projects_check.py', 'experiments_check.py', 'query_check.py', 'registry_check.py'],
  stripPrefixes: ['CAIRN_', 'COMET_'],
  env: (port, adminKey) => ({
    COMET_URL_OVERRIDE: `http://127.0.0.1:${port}/clientlib/`,
    COMET_API_KEY: adminKey,
    CAIRN_WORKSPACE: 'default',
  }),
  // comet_ml reports failures it swallows (e.g. an upload it gave up on) as "COMET ERROR" lines.
  failOn: 'COMET ERROR',
});
