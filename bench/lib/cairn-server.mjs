import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, runToEnd, startGroup, waitHttp } from './proc.mjs';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../packages/cli/bin/cairn.js');

/**
 * Starts `cairn server` from this checkout, as `npm start` runs it, in its own process group on a
 * free port of 127.0.0.1, and waits until it answers /healthz (stopping it again if it never
 * does). `env` adds to or overrides the CAIRN_* settings (data dir, admin key, database URL).
 */
export async function startCairnServer({ workDir, env = {}, nodeArgs = [], waitMs = 60_000 }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(workDir, 'cairn.log');
  const proc = startGroup(process.execPath, [...nodeArgs, CLI, 'server'], {
    cwd: workDir,
    env: { ...process.env, CAIRN_HOST: '127.0.0.1', CAIRN_LOG_LEVEL: 'warn', ...env, CAIRN_PORT: String(port) },
    logFile,
  });
  try {
    await waitHttp(`${url}/healthz`, proc, waitMs, logFile);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return { proc, url, logFile };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh 40-character admin key for one benchmark server. */
export const randomApiKey = () => Array.from({ length: 40 }, () => ALNUM[randomInt(ALNUM.length)]).join('');

/**
 * The benchmarked Cairn: this checkout built (`npx tsc -b`, unless `build` is false and it is
 * already built), started on a fresh `<workDir>/data` with `apiKey` as its admin key. Returns the
 * process, its URL, the data dir and a version label (the checkout's commit).
 * `env` adds settings (CAIRN_DATABASE_URL for PostgreSQL).
 * `nodeArgs` are extra Node flags for the server (e.g. `--cpu-prof --cpu-prof-dir=DIR`).
 * @param {{ repoRoot: string, workDir: string, apiKey: string, build: boolean, nodeArgs?: string[], log: (s: string) => void, env?: Record<string, string> }} o
 */
export async function startCairnCheckout({ repoRoot, workDir, apiKey, build, nodeArgs = [], log, env = {} }) {
  if (build || !existsSync(join(repoRoot, 'packages', 'cli', 'dist', 'main.js'))) {
    log('building Cairn (npx tsc -b)');
    const r = await runToEnd('npx', ['tsc', '-b'], { cwd: repoRoot, timeoutMs: 600_000 });
    if (r.code !== 0) throw new Error('npx tsc -b failed: Cairn cannot be benchmarked from this checkout');
  }
  const dataDir = join(workDir, 'data');
  await mkdir(dataDir, { recursive: true });
  const { proc, url } = await startCairnServer({
    workDir,
    env: { CAIRN_DATA_DIR: dataDir, CAIRN_ADMIN_API_KEY: apiKey, ...env },
    nodeArgs,
  });
  const rev = await runToEnd('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: repoRoot,
    timeoutMs: 10_000,
    capture: true,
  }).catch(() => null);
  return { proc, url, dataDir, version: rev?.code === 0 ? `checkout ${rev.stdout.trim()}` : 'checkout' };
}
