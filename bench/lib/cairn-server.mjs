import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startGroup, waitHttp } from './proc.mjs';

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
