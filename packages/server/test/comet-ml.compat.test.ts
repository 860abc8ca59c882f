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
 * The official Python client, comet_ml 3.32.5, against a real Cairn server process: every
 * `compat/comet_ml/*_check.py` script runs as its own test against one server started the way
 * `npm start` starts it (SQLite; the facades are tested on both backends elsewhere).
 *
 * The client lives in `<repo>/.venv/comet-ml-3.32.5` (gitignored), created on first use and reused
 * while it holds exactly that version. urllib3 is held below 2: comet_ml 3.32.5 builds its retry
 * policy with `Retry(method_whitelist=...)`, which urllib3 2 removed, so `API()` fails to construct
 * with the urllib3 a bare `pip install comet_ml==3.32.5` picks today.
 */
const SCRIPTS = join(ROOT, 'packages/server/test/compat/comet_ml');
const COMET_ML_VERSION = '3.32.5';
const ADMIN_KEY = 'CompatAdminKey000000000000000000000000000';
const WORKSPACE = 'default';
/** Our own and comet_ml's settings: neither may leak in from a developer's environment. */
const STRIP = ['CAIRN_', 'COMET_'];

const scripts = checkScripts(SCRIPTS);

describe('comet_ml 3.32.5 against a running Cairn server', () => {
  let python: string | undefined;
  let server: Server | undefined;
  let dataDir: string | undefined;
  let workDir: string | undefined;

  beforeAll(async () => {
    // Generous: a cold venv downloads comet_ml and its dependencies from PyPI (about a minute).
    python = await ensureVenv({
      suite: 'comet_ml',
      dir: join(ROOT, `.venv/comet-ml-${COMET_ML_VERSION}`),
      requirements: [`comet_ml==${COMET_ML_VERSION}`, 'urllib3<2'],
      accepts: (versions) =>
        versions.comet_ml === COMET_ML_VERSION &&
        versions.urllib3 !== undefined &&
        Number.parseInt(versions.urllib3, 10) < 2,
    });
    dataDir = await mkdtemp(join(tmpdir(), 'cairn-compat-data-'));
    // Scripts run from an empty directory: comet_ml reads ./.env and ./.comet.config.
    workDir = await mkdtemp(join(tmpdir(), 'cairn-compat-cwd-'));
    server = await startServer({ dataDir, adminKey: ADMIN_KEY, stripPrefixes: STRIP });
  }, 600_000);

  afterAll(async () => {
    await stopServer(server);
    for (const dir of [dataDir, workDir]) if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('finds the check scripts', () => {
    expect(scripts).toContain('projects_check.py');
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
          COMET_URL_OVERRIDE: `http://127.0.0.1:${server.port}/clientlib/`,
          COMET_API_KEY: ADMIN_KEY,
          CAIRN_WORKSPACE: WORKSPACE,
        },
      });
      const report = `${script} exited ${result.code ?? result.signal}:\n${result.output}\n--- server log ---\n${server.output()}`;
      if (result.code !== 0) throw new Error(report);
      // comet_ml reports failures it swallows (e.g. an upload it gave up on) as "COMET ERROR" lines.
      if (result.output.includes('COMET ERROR')) throw new Error(`comet_ml logged an error; ${report}`);
      expect(result.output, report).toContain(`OK ${script.replace(/\.py$/, '')}`);
    },
    120_000,
  );
});
