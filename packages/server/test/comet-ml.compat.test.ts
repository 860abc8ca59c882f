import { join } from 'node:path';
import { COMET_ML_CLIENTS, cometMlEnv } from './support/comet-ml-venv.js';
import { describePythonClientSuite, ROOT } from './support/python-compat.js';

/**
 * The official Python client, comet_ml 3.32.5 and the newest release, against a real Cairn server
 * process: every `compat/comet_ml/*_check.py` script drives comet_ml.API / APIExperiment (and the
 * live-logging Experiment) and checks what comes back. The venvs and their pins:
 * support/comet-ml-venv.ts.
 */
for (const client of COMET_ML_CLIENTS) {
  describePythonClientSuite({
    title: `comet_ml ${client.version} against a running Cairn server`,
    venv: client.venv,
    scriptsDir: join(ROOT, 'packages/server/test/compat/comet_ml'),
    expectedScripts: ['projects_check.py', 'experiments_check.py', 'query_check.py', 'registry_check.py'],
    stripPrefixes: ['CAIRN_', 'COMET_'],
    env: cometMlEnv,
    // comet_ml reports failures it swallows (e.g. an upload it gave up on) as "COMET ERROR" lines.
    failOn: 'COMET ERROR',
  });
}
