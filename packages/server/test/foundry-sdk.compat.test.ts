import { join } from 'node:path';
import { describePythonClientSuite, ROOT } from './support/python-compat.js';

/**
 * The official Foundry Python client, foundry-platform-sdk, against a real Cairn server process:
 * every `compat/foundry_sdk/*_check.py` script seeds data through the Comet REST writes and reads it
 * back through `client.models.Model.Experiment`.
 *
 * The client lives in `<repo>/.venv/foundry-sdk-<version>` (gitignored), with pyarrow to read
 * Parquet responses. Both are pinned exactly: the experiments API is a preview, and the SDK's
 * models (required fields, union variants) change between releases.
 */
const FOUNDRY_SDK_VERSION = '1.111.0';
const PYARROW_VERSION = '26.0.1';

describePythonClientSuite({
  title: `foundry-platform-sdk ${FOUNDRY_SDK_VERSION} against a running Cairn server`,
  venv: {
    suite: 'foundry-platform-sdk',
    dir: join(ROOT, `.venv/foundry-sdk-${FOUNDRY_SDK_VERSION}`),
    requirements: [`foundry-platform-sdk==${FOUNDRY_SDK_VERSION}`, `pyarrow==${PYARROW_VERSION}`],
  },
  scriptsDir: join(ROOT, 'packages/server/test/compat/foundry_sdk'),
  expectedScripts: ['experiments_check.py'],
  // Our own settings and the client's (FOUNDRY_TOKEN, FOUNDRY_HOSTNAME…) must not leak in.
  stripPrefixes: ['CAIRN_', 'FOUNDRY_'],
  env: (port, adminKey) => ({
    CAIRN_URL: `http://127.0.0.1:${port}`,
    CAIRN_API_KEY: adminKey,
    CAIRN_HOST: `127.0.0.1:${port}`,
  }),
});
