import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkScripts,
  ensureVenv,
  ROOT,
  runScript,
  type Server,
  startServer,
  stopServer,
} from './support/python-compat.js';

/**
 * The official Foundry Python client, foundry-platform-sdk, against a real Cairn server process:
 * every `compat/foundry_sdk/*_check.py` script runs as its own test against one server (SQLite;
 * the facade is tested on both backends in foundry-experiments.facade.test.ts). The scripts seed
 * data through the Comet REST writes and read it back through `client.models.Model.Experiment`.
 *
 * The client lives in `<repo>/.venv/foundry-sdk-<version>` (gitignored), with pyarrow to read
 * Parquet responses. Both are pinned exactly: the experiments API is a preview, and the SDK's
 * models (required fields, union variants) change between releases.
 */
const SCRIPTS = join(ROOT, 'packages/server/test/compat/foundry_sdk');
const FOUNDRY_SDK_VERSION = '1.111.0';
const PYARROW_VERSION = '26.0.1';
const ADMIN_KEY = 'CompatAdminKey000000000000000000000000000';
/** Our own settings and the client's (FOUNDRY_TOKEN, FOUNDRY_HOSTNAME…) must not leak in. */
const STRIP = ['CAIRN_', 'FOUNDRY_'];

const scripts = checkScripts(SCRIPTS);

describe(`foundry-platform-sdk ${FOUNDRY_SDK_VERSION} against a running Cairn server`, () => {
  let python: string | undefined;
  let server: Server | undefined;
  let dataDir: string | undefined;
  let workDir: string | undefined;

  beforeAll(async () => {
    // Generous: a cold venv downloads the SDK, pydantic, httpx and pyarrow from PyPI.
    python = await ensureVenv({
      suite: 'foundry-platform-sdk',
      dir: join(ROOT, `.venv/foundry-sdk-${FOUNDRY_SDK_VERSION}`),
      requirements: [`foundry-platform-sdk==${FOUNDRY_SDK_VERSION}`, `pyarrow==${PYARROW_VERSION}`],
    });
    dataDir = await mkdtemp(join(tmpdir(), 'cairn-fcompat-data-'));
    workDir = await mkdtemp(join(tmpdir(), 'cairn-fcompat-cwd-'));
    server = await startServer({ dataDir, adminKey: ADMIN_KEY, stripPrefixes: STRIP });
  }, 600_000);

  afterAll(async () => {
    await stopServer(server);
    for (const dir of [dataDir, workDir]) if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('finds the check scripts', () => {
    expect(scripts).toContain('experiments_check.py');
  });

  it.each(scripts)(
    '%s',
    async (script) => {
      if (!server || !python || !workDir) throw new Error('the server did not start');
      const result = await runScript(python, join(SCRIPTS, script), {
        cwd: workDir,
        stripPrefixes: STRIP,
        env: {
          CAIRN_URL: `http://127.0.0.1:${server.port}`,
          CAIRN_API_KEY: ADMIN_KEY,
          CAIRN_HOST: `127.0.0.1:${server.port}`,
        },
      });
      const report = `${script} exited ${result.code ?? result.signal}:\n${result.output}\n--- server log ---\n${server.output()}`;
      if (result.code !== 0) throw new Error(report);
      expect(result.output, report).toContain(`OK ${script.replace(/\.py$/, '')}`);
    },
    120_000,
  );
});
