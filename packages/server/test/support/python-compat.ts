import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * What the suites that drive an official Python client share: a pinned venv, a real Cairn server
 * process started the way `npm start` starts it, and running check scripts against it.
 */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const BIN = join(ROOT, 'packages/cli/bin/cairn.js');

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  /** stdout alone. */
  stdout: string;
}

/** Runs a command to completion, stdout and stderr interleaved as they arrive. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', fail);
    child.once('close', (code, signal) => done({ code, signal, output, stdout }));
  });
}

/** A missing python3 fails the suite (never skips it): the client checks are part of `npm test`. */
async function requirePython3(suite: string): Promise<void> {
  try {
    const probe = await run('python3', ['--version']);
    if (probe.code === 0) return;
    throw new Error(probe.output);
  } catch (error) {
    throw new Error(`the ${suite} compatibility suite needs python3 (with the venv module) on PATH: ${String(error)}`);
  }
}

export interface VenvSpec {
  /** Named in errors. */
  suite: string;
  /** `<repo>/.venv/<name>` (gitignored), created on first use and reused while it still fits. */
  dir: string;
  /** pip requirement specifiers; pin the clients exactly (`name==version`). */
  requirements: string[];
  /**
   * Whether the installed versions (distribution name → version, for every requirement) are the
   * wanted ones. By default every `name==version` requirement must be installed at that version.
   */
  accepts?(versions: Record<string, string>): boolean;
}

/** The distribution a requirement names (`urllib3<2` → `urllib3`). */
function distributionOf(requirement: string): string {
  return requirement.split(/[<>=!~;[\s]/, 1)[0] ?? requirement;
}

function pinnedVersionsMatch(requirements: string[], versions: Record<string, string>): boolean {
  return requirements.every((requirement) => {
    const [name, version] = requirement.split('==');
    return version === undefined || (name !== undefined && versions[name] === version);
  });
}

/**
 * The venv's python, after making sure the venv holds exactly the requirements: a ready marker
 * listing them is written after a complete install, so an interrupted install is never taken for a
 * usable venv, and a changed pin rebuilds it.
 */
export async function ensureVenv(spec: VenvSpec): Promise<string> {
  await mkdir(dirname(spec.dir), { recursive: true });
  return withLock(`${spec.dir}.lock`, () => ensureVenvLocked(spec));
}

async function ensureVenvLocked(spec: VenvSpec): Promise<string> {
  const python = join(spec.dir, 'bin/python');
  const marker = join(spec.dir, 'cairn-ready');
  const wanted = spec.requirements.join('\n');
  const accepts = spec.accepts ?? ((versions) => pinnedVersionsMatch(spec.requirements, versions));
  const versions = await installedVersions(python, marker, spec.requirements.map(distributionOf));
  if (versions && (await readFile(marker, 'utf8')) === wanted && accepts(versions)) return python;

  await requirePython3(spec.suite);
  await rm(spec.dir, { recursive: true, force: true });
  const created = await run('python3', ['-m', 'venv', spec.dir]);
  if (created.code !== 0) throw new Error(`python3 -m venv ${spec.dir} failed:\n${created.output}`);
  const installed = await run(python, [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--no-input',
    ...spec.requirements,
  ]);
  if (installed.code !== 0) throw new Error(`pip install ${spec.requirements.join(' ')} failed:\n${installed.output}`);
  await writeFile(marker, wanted);
  return python;
}

/**
 * Runs `work` while holding a lock directory, so test files starting at once do not build the
 * same venv over each other. A lock older than `staleMillis` is from a killed run and is taken over.
 */
async function withLock<T>(lock: string, work: () => Promise<T>, staleMillis = 600_000): Promise<T> {
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const since = await stat(lock).then(
        (info) => Date.now() - info.mtimeMs,
        () => 0,
      );
      if (since > staleMillis) await rmdir(lock).catch(() => {});
      else await new Promise((done) => setTimeout(done, 250));
    }
  }
  try {
    return await work();
  } finally {
    await rmdir(lock).catch(() => {});
  }
}

/** Installed versions by distribution name, or undefined when the venv is missing or broken. */
async function installedVersions(
  python: string,
  marker: string,
  distributions: string[],
): Promise<Record<string, string> | undefined> {
  if (!existsSync(python) || !existsSync(marker)) return undefined;
  const probe = await run(python, [
    '-c',
    'import importlib.metadata as m, json, sys; print(json.dumps({d: m.version(d) for d in sys.argv[1:]}))',
    ...distributions,
  ]).catch(() => undefined);
  if (probe?.code !== 0) return undefined;
  return JSON.parse(probe.output.trim()) as Record<string, string>;
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

/**
 * This process's environment without variables whose names start with one of `prefixes` (Cairn's
 * and the client's settings), so a developer's environment cannot leak into a run.
 */
export function cleanEnv(prefixes: string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!prefixes.some((prefix) => name.startsWith(prefix))) env[name] = value;
  }
  return env;
}

export interface Server {
  child: ChildProcess;
  port: number;
  exited: Promise<void>;
  output(): string;
}

/**
 * A Cairn server on a free port over SQLite in `dataDir`, once its health check answers. The
 * environment loses every variable starting with one of `stripPrefixes` (default: Cairn's own).
 */
export async function startServer(options: {
  dataDir: string;
  adminKey: string;
  stripPrefixes?: string[];
  /** More server settings (e.g. limits), on top of the ones every suite needs. */
  env?: Record<string, string>;
}): Promise<Server> {
  if (!existsSync(join(ROOT, 'packages/cli/dist/main.js'))) {
    throw new Error('the CLI is not built: run `npx tsc -b` first');
  }
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'server'], {
    cwd: ROOT,
    env: {
      ...cleanEnv(options.stripPrefixes ?? ['CAIRN_']),
      CAIRN_PORT: String(port),
      CAIRN_DATA_DIR: options.dataDir,
      CAIRN_ADMIN_API_KEY: options.adminKey,
      CAIRN_LOG_LEVEL: 'warn',
      ...options.env,
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

export async function stopServer(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.child.kill('SIGTERM');
  await server.exited;
}

/** The `*_check.py` scripts of a folder, sorted. */
export function checkScripts(dir: string): string[] {
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith('_check.py'))
        .sort()
    : [];
}

/**
 * Runs the `cairn` CLI on the store in `dataDir` (as an operator would beside a running server)
 * and returns its stdout, trimmed; a non-zero exit fails with the output.
 */
export async function runCli(dataDir: string, args: string[], stripPrefixes: string[] = ['CAIRN_']): Promise<string> {
  const result = await run(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...cleanEnv(stripPrefixes), CAIRN_DATA_DIR: dataDir, CAIRN_LOG_LEVEL: 'warn' },
  });
  if (result.code !== 0) throw new Error(`cairn ${args.join(' ')} exited ${result.code}:\n${result.output}`);
  return result.stdout.trim();
}

/** Runs one check script with `env` (on top of a clean environment), unbuffered, leaving no bytecode. */
export function runScript(
  python: string,
  script: string,
  options: { cwd: string; env: NodeJS.ProcessEnv; stripPrefixes: string[] },
): Promise<Run> {
  return run(python, [script], {
    cwd: options.cwd,
    env: {
      ...cleanEnv(options.stripPrefixes),
      ...options.env,
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
    },
  });
}

export interface PythonClientSuite {
  /** The describe title. */
  title: string;
  venv: VenvSpec;
  /** Folder of the `*_check.py` scripts, each run as its own test. */
  scriptsDir: string;
  /** Scripts that must be there (a typo in a file name must not pass as "nothing to run"). */
  expectedScripts: string[];
  /** Environment prefixes kept from the scripts and the server: a developer's settings must not leak in. */
  stripPrefixes: string[];
  /** Each script's environment, given the running server's port and its admin key. */
  env(port: number, adminKey: string): Record<string, string>;
  /**
   * Runs once after the server started, before any script (e.g. users and keys made with the
   * `cairn` CLI on the server's store); what it returns is added to every script's environment.
   */
  prepare?(server: { port: number; adminKey: string; dataDir: string }): Promise<Record<string, string>>;
  /** Output that fails a script even when it exits 0 (a client logging an error it swallowed). */
  failOn?: string;
  /** The server's own settings for this suite (limits under test). */
  serverEnv?: Record<string, string>;
}

/**
 * One official Python client against one real Cairn server process (SQLite; the facades are
 * tested on both backends elsewhere): builds the client's venv, starts the server, runs every
 * check script from an empty directory, and fails a script that exits non-zero, prints `failOn`
 * or never prints `OK <script>`.
 */
export function describePythonClientSuite(suite: PythonClientSuite): void {
  const scripts = checkScripts(suite.scriptsDir);
  const adminKey = 'CompatAdminKey000000000000000000000000000';
  describe(suite.title, () => {
    let python: string | undefined;
    let server: Server | undefined;
    let dataDir: string | undefined;
    let workDir: string | undefined;
    let prepared: Record<string, string> = {};

    beforeAll(async () => {
      // Generous: a cold venv downloads the client and its dependencies from PyPI.
      python = await ensureVenv(suite.venv);
      dataDir = await mkdtemp(join(tmpdir(), 'cairn-compat-data-'));
      // An empty working directory: clients read config files (./.env, ./.comet.config) from it.
      workDir = await mkdtemp(join(tmpdir(), 'cairn-compat-cwd-'));
      server = await startServer({
        dataDir,
        adminKey,
        stripPrefixes: suite.stripPrefixes,
        ...(suite.serverEnv ? { env: suite.serverEnv } : {}),
      });
      if (suite.prepare) prepared = await suite.prepare({ port: server.port, adminKey, dataDir });
    }, 600_000);

    afterAll(async () => {
      await stopServer(server);
      for (const dir of [dataDir, workDir]) if (dir) await rm(dir, { recursive: true, force: true });
    }, 30_000);

    it('finds the check scripts', () => {
      for (const expected of suite.expectedScripts) expect(scripts).toContain(expected);
    });

    it.each(scripts)(
      '%s',
      async (script) => {
        if (!server || !python || !workDir) throw new Error('the server did not start');
        const result = await runScript(python, join(suite.scriptsDir, script), {
          cwd: workDir,
          stripPrefixes: suite.stripPrefixes,
          env: { ...suite.env(server.port, adminKey), ...prepared },
        });
        const report = `${script} exited ${result.code ?? result.signal}:\n${result.output}\n--- server log ---\n${server.output()}`;
        if (result.code !== 0) throw new Error(report);
        if (suite.failOn && result.output.includes(suite.failOn)) {
          throw new Error(`the client printed "${suite.failOn}"; ${report}`);
        }
        expect(result.output, report).toContain(`OK ${script.replace(/\.py$/, '')}`);
      },
      300_000,
    );
  });
}
