import { join } from 'node:path';
import { COMET_ML_CLIENTS, cometMlEnv } from './support/comet-ml-venv.js';
import { describePythonClientSuite, ROOT } from './support/python-compat.js';

/**
 * comet_ml against a server whose metric-points limit is tiny: the live Experiment's metric
 * batches are refused with 429 and Retry-After, and the client (urllib3's Retry, which honours
 * Retry-After on 429) waits and sends them again, so every point ends up stored, once. See
 * `compat/comet_ml_limits/backoff_check.py` for what it checks and docs/operations.md "Limits" for
 * the comet_ml paths that do not retry a 429.
 */
for (const client of COMET_ML_CLIENTS) {
  describePythonClientSuite({
    title: `comet_ml ${client.version} backing off from a rate-limited Cairn server`,
    venv: client.venv,
    scriptsDir: join(ROOT, 'packages/server/test/compat/comet_ml_limits'),
    expectedScripts: ['backoff_check.py'],
    stripPrefixes: ['CAIRN_', 'COMET_'],
    // 40 points a second, bursts of 100: a 300-point batch leaves the key 5 s in debt.
    serverEnv: { CAIRN_RATE_LIMIT_POINTS_PER_SECOND: '40', CAIRN_RATE_LIMIT_POINTS_BURST: '100' },
    env: cometMlEnv,
    // A batch the client gave up on is a "COMET ERROR" line: it must not happen here.
    failOn: 'COMET ERROR',
  });
}
