import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type RunningServer, startServer } from '@cairn/server';

/** The built `cairn` command (build first: `npx tsc -b`). */
export const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/cairn.js');

export function requireBuilt(): void {
  if (!existsSync(resolve(dirname(BIN), '../dist/main.js'))) {
    throw new Error('the CLI is not built: run `npx tsc -b` first');
  }
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cairn` as a subprocess with the caller's environment less every CAIRN_* variable, plus
 * `env`; `input` is piped to its stdin (closed at once otherwise).
 */
export function cairn(args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  const base: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('CAIRN_')) base[name] = value;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...base, ...env }, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** A real server on a free port of 127.0.0.1 with its own data folder. */
export interface TestServer {
  url: string;
  adminKey: string;
  server: RunningServer;
  close(): Promise<void>;
}

export async function startTestServer(adminKey: string): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-cli-server-'));
  const server = await startServer(
    loadConfig({
      CAIRN_DATA_DIR: dir,
      CAIRN_PORT: '0',
      CAIRN_ADMIN_API_KEY: adminKey,
      CAIRN_LOG_LEVEL: 'silent',
      CAIRN_SQLITE_SYNCHRONOUS: 'normal',
    }),
  );
  return {
    url: `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`,
    adminKey,
    server,
    async close() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
