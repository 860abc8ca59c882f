import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'packages/cli/bin/cairn.js');
const SCRIPTS = join(ROOT, 'packages/server/test/compat/comet_ml');
const COMET_ML_VERSION = '3.32.5';
const VENV = join(ROOT, `.venv/comet-ml-${COMET_ML_VERSION}`);
const PYTHON = join(VENV, 'bin/python');
const REQUIREMENTS = [`comet_ml==${COMET_ML_VERSION}`, 'urllib3<2'];
/** Written after a complete install, so an interrupted one is never taken for a usable venv. */
const READY_MARKER = join(VENV, 'cairn-ready');
const ADMIN_KEY = 'CompatAdminKey000000000000000000000000000';
const WORKSPACE = 'default';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs a command to completion, stdout and stderr interleaved as they arrive. */
function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', fail);
    child.once('close', (code, signal) => done({ code, signal, output }));
  });
}

async function requirePython3(): Promise<void> {
  try {
    const probe = await run('python3', ['--version']);
    if (probe.code === 0) return;
    throw new Error(probe.output);
  } catch (error) {
    throw new Error(`the comet_ml compatibility suite needs python3 (with the venv module) on PATH: ${String(error)}`);
  }
}

/** The venv's installed versions, or undefined when it is missing or broken. */
async function installedVersions(): Promise<string | undefined> {
  if (!existsSync(PYTHON) || !existsSync(READY_MARKER)) return undefined;
  const probe = await run(PYTHON, [
    '-c',
    'import importlib.metadata as m; print(m.version("comet_ml"), m.version("urllib3"))',
  ]).catch(() => undefined);
  return probe?.code === 0 ? probe.output.trim() : undefined;
}

async function ensureVenv(): Promise<void> {
  const versions = await installedVersions();
  if (versions && (await readFile(READY_MARKER, 'utf8')) === REQUIREMENTS.join('\n')) {
    const [comet, urllib3] = versions.split(' ');
    if (comet === COMET_ML_VERSION && urllib3 !== undefined && Number.parseInt(urllib3, 10) < 2) return;
  }
  await requirePython3();
  await rm(VENV, { recursive: true, force: true });
  const created = await run('python3', ['-m', 'venv', VENV]);
  if (created.code !== 0) throw new Error(`python3 -m venv ${VENV} failed:\n${created.output}`);
  const installed = await run(PYTHON, [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--no-input',
    ...REQUIREMENTS,
  ]);
  if (installed.code !== 0) throw new Error(`pip install ${REQUIREMENTS.join(' ')} failed:\n${installed.output}`);
  await writeFile(READY_MARKER, REQUIREMENTS.join('\n'));
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

/** Everything but our own and comet_ml's settings, so a developer's environment cannot leak in. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('CAIRN_') && !name.startsWith('COMET_')) env[name] = value;
  }
  return env;
}

interface Server {
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
  output(): string;
}

async function startServer(dataDir: string): Promise<Server> {
  if (!existsSync(join(ROOT, 'packages/cli/dist/main.js'))) {
    throw new Error('the CLI is not built: run `npx tsc -b` first');
  }
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'server'], {
    cwd: ROOT,
    env: {
      ...cleanEnv(),
      CAIRN_PORT: String(port),
      CAIRN_DATA_DIR: dataDir,
      CAIRN_ADMIN_API_KEY: ADMIN_KEY,
      CAIRN_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let dead = false;
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      dead = true;
      done();
    }),
  );
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !dead) {
    try {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (health.status === 200) return { child, port, exited, output: () => output };
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not become healthy:\n${output}`);
}

const scripts = existsSync(SCRIPTS)
  ? readdirSync(SCRIPTS)
      .filter((name) => name.endsWith('_check.py'))
      .sort()
  : [];

describe('comet_ml 3.32.5 against a running Cairn server', () => {
  let server: Server | undefined;
  let dataDir: string | undefined;
  let workDir: string | undefined;

  beforeAll(async () => {
    // Generous: a cold venv downloads comet_ml and its dependencies from PyPI (about a minute).
    await ensureVenv();
    dataDir = await mkdtemp(join(tmpdir(), 'cairn-compat-data-'));
    // Scripts run from an empty directory: comet_ml reads ./.env and ./.comet.config.
    workDir = await mkdtemp(join(tmpdir(), 'cairn-compat-cwd-'));
    server = await startServer(dataDir);
  }, 600_000);

  afterAll(async () => {
    if (server) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    for (const dir of [dataDir, workDir]) if (dir) await rm(dir, { recursive: true, force: true });
  }, 30_000);

  it('finds the check scripts', () => {
    expect(scripts).toContain('projects_check.py');
    expect(scripts).toContain('experiments_check.py');
  });

  it.each(scripts)(
    '%s',
    async (script) => {
      if (!server) throw new Error('the server did not start');
      const result = await run(PYTHON, [join(SCRIPTS, script)], {
        cwd: workDir,
        env: {
          ...cleanEnv(),
          COMET_URL_OVERRIDE: `http://127.0.0.1:${server.port}/clientlib/`,
          COMET_API_KEY: ADMIN_KEY,
          CAIRN_WORKSPACE: WORKSPACE,
          PYTHONUNBUFFERED: '1',
          PYTHONDONTWRITEBYTECODE: '1',
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
