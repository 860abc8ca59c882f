import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cairn, syncSpool } from '../src/node.js';
import { expectExactPrefix, expectExactSteps } from './support/expect-points.js';
import { FaultProxy } from './support/proxy.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * Training scripts in child processes (through the built SDK, as users run it): ended by SIGTERM,
 * by process.exit(), by SIGKILL, or never ended at all; and two processes logging to one
 * experiment. After each, `syncSpool` uploads what the spool kept, and stored must equal logged.
 */

const SDK_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHILD = join(SDK_DIR, 'test/fixtures/child-writer.mjs');

let server: TestServer;
let proxy: FaultProxy | undefined;
let counter = 0;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  // The children import dist/: build it from the sources under test.
  execFileSync(process.execPath, [join(SDK_DIR, '../../node_modules/typescript/bin/tsc'), '-b', SDK_DIR]);
  server = await startTestServer();
}, 120_000);
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  await proxy?.close();
  proxy = undefined;
});

interface Child {
  process: ChildProcess;
  messages: Record<string, unknown>[];
  /** Resolves with the first message matching. */
  waitFor(test: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  stderr(): string;
}

function startChild(env: Record<string, string>): Child {
  const started = Date.now();
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, CAIRN_URL: server.url, CAIRN_API_KEY: server.apiKey, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const messages: Record<string, unknown>[] = [];
  const waiting: { test: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] =
    [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    messages.push(message);
    for (const w of [...waiting]) {
      if (w.test(message)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(message);
      }
    }
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - started })),
  );
  return {
    process: child,
    messages,
    waitFor: (test) => {
      const found = messages.find(test);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        waiting.push({ test, resolve });
        void exited.then(() => reject(new Error(`child exited first; stderr:\n${stderr}`)));
      });
    },
    exited,
    stderr: () => stderr,
  };
}

const spoolDir = () => join(server.dir, `children-${++counter}`);
const cairn = () => new Cairn({ url: server.url, apiKey: server.apiKey });

async function spoolFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => e.name);
}

describe('(d) a logging process that dies', () => {
  it('SIGTERM: the handler spools what was not acknowledged within its deadline and ends by the signal', async () => {
    // Metrics cannot get through: everything the child logs is still unacknowledged at the signal.
    proxy = await FaultProxy.start(server, (req) =>
      req.url?.endsWith('/metrics')
        ? { kind: 'respond', status: 503, headers: { 'retry-after': '1' } }
        : { kind: 'forward' },
    );
    const dir = spoolDir();
    const child = startChild({
      CHILD_MODE: 'sigterm',
      CAIRN_URL: proxy.url,
      CAIRN_SPOOL_DIR: dir,
      STEPS: '5000',
      METRICS: 'loss,acc',
      SIGNAL_TIMEOUT_MS: '1000',
    });
    const { key } = (await child.waitFor((m) => m.event === 'started')) as { key: string };
    await child.waitFor((m) => m.event === 'logged');
    child.process.kill('SIGTERM');
    const exit = await child.exited;
    expect(exit).toMatchObject({ code: null, signal: 'SIGTERM' });
    expect(await server.points(key, 'loss')).toHaveLength(0);

    const report = await syncSpool({ dir, client: cairn() });
    expect(report).toMatchObject({ points: 10_000, failed: [], skipped: [] });
    await expectExactSteps(server, key, 'loss', 5_000);
    await expectExactSteps(server, key, 'acc', 5_000);
    expect(await spoolFiles(dir)).toEqual([]);
  });

  it('SIGTERM with the server up: the handler delivers everything before the process ends', async () => {
    const dir = spoolDir();
    // Nothing is sealed before the signal (no batch is full, no interval passes): the handler sends it all.
    const child = startChild({
      CHILD_MODE: 'sigterm',
      CAIRN_SPOOL_DIR: dir,
      STEPS: '3000',
      BATCH_POINTS: '100000',
      FLUSH_INTERVAL_MS: '60000',
    });
    const { key } = (await child.waitFor((m) => m.event === 'started')) as { key: string };
    await child.waitFor((m) => m.event === 'logged');
    expect(await server.points(key, 'loss')).toHaveLength(0);
    child.process.kill('SIGTERM');
    expect(await child.exited).toMatchObject({ signal: 'SIGTERM' });
    await expectExactSteps(server, key, 'loss', 3_000);
    expect(await spoolFiles(dir)).toEqual([]);
  });

  it('process.exit(): the exit hook writes the unsent tail synchronously; the exit code stays', async () => {
    const dir = spoolDir();
    const child = startChild({ CHILD_MODE: 'exit', CAIRN_SPOOL_DIR: dir, STEPS: '20000', METRICS: 'loss,acc' });
    const { key } = (await child.waitFor((m) => m.event === 'started')) as { key: string };
    expect(await child.exited).toMatchObject({ code: 3 });
    const spooled = child.messages.filter((m) => m.event === 'spooled').at(-1);
    expect(spooled).toEqual({ event: 'spooled', total: 40_000 });
    expect(await server.points(key, 'loss')).toHaveLength(0);
    const report = await syncSpool({ dir, client: cairn() });
    expect(report).toMatchObject({ points: 40_000, failed: [] });
    await expectExactSteps(server, key, 'loss', 20_000);
    await expectExactSteps(server, key, 'acc', 20_000);
  });

  it('SIGKILL: what the process reported as spooled survives; after syncSpool every point is stored once', async () => {
    // A slow server: batches queue up in the spool while one is in flight.
    proxy = await FaultProxy.start(server, (req) =>
      req.url?.endsWith('/metrics') ? { kind: 'delay', ms: 100, next: { kind: 'forward' } } : { kind: 'forward' },
    );
    const dir = spoolDir();
    const child = startChild({
      CHILD_MODE: 'kill',
      CAIRN_URL: proxy.url,
      CAIRN_SPOOL_DIR: dir,
      BATCH_POINTS: '500',
      FLUSH_INTERVAL_MS: '50',
    });
    const { key } = (await child.waitFor((m) => m.event === 'started')) as { key: string };
    await child.waitFor((m) => m.event === 'spooled' && (m.total as number) >= 20_000);
    child.process.kill('SIGKILL');
    expect(await child.exited).toMatchObject({ signal: 'SIGKILL' });
    const reported = Math.max(...child.messages.filter((m) => m.event === 'spooled').map((m) => m.total as number));
    const report = await syncSpool({ dir, client: cairn() });
    expect(report.failed).toEqual([]);
    expect(report.points).toBeGreaterThan(0);
    const stored = await expectExactPrefix(server, key, 'loss', reported);
    // Batches acknowledged before the kill but not yet deleted are replayed as duplicates, not stored again.
    expect(stored).toBeGreaterThanOrEqual(reported);
    expect(await spoolFiles(dir)).toEqual([]);
  });
});

describe('(e) several processes, one experiment', () => {
  it('two attached writer processes both complete, exactly', async () => {
    const experiment = await cairn().experiments.create('default', 'children', { name: 'ddp' });
    const dir = spoolDir();
    const ranks = [0, 1].map((rank) =>
      startChild({
        CHILD_MODE: 'attach',
        CAIRN_SPOOL_DIR: dir,
        EXPERIMENT_KEY: experiment.key,
        WRITER_ID: `rank-${rank}-${experiment.key.slice(0, 8)}`,
        CONTEXT: `rank-${rank}`,
        STEPS: '15000',
        METRICS: 'loss,acc',
        BATCH_POINTS: '2000',
      }),
    );
    const exits = await Promise.all(ranks.map((r) => r.exited));
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    for (const rank of ranks) {
      const ended = (await rank.waitFor((m) => m.event === 'ended')) as { summary: Record<string, unknown> };
      expect(ended.summary).toMatchObject({ logged: 30_000, sent: 30_000, pendingInSpool: 0, ended: false });
    }
    await expectExactSteps(server, experiment.key, 'loss', 15_000, ['rank-0', 'rank-1']);
    await expectExactSteps(server, experiment.key, 'acc', 15_000, ['rank-0', 'rank-1']);
  });
});

describe('a script that never calls end()', () => {
  it('exits on its own; the run is flushed and ended for it', async () => {
    const dir = spoolDir();
    const child = startChild({ CHILD_MODE: 'forget', CAIRN_SPOOL_DIR: dir, STEPS: '5000' });
    const { key } = (await child.waitFor((m) => m.event === 'started')) as { key: string };
    const exit = await child.exited;
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(8_000);
    expect(child.stderr()).toContain('was not ended');
    await expectExactSteps(server, key, 'loss', 5_000);
    expect((await cairn().experiments.get(key)).status).toBe('SUCCEEDED');
  });

  it('exits on its own when the server cannot be reached, with every point kept in the spool', async () => {
    const gone = await FaultProxy.start(server);
    const url = gone.url;
    await gone.close();
    const dir = spoolDir();
    const child = startChild({
      CHILD_MODE: 'forget',
      CAIRN_URL: url,
      CAIRN_SPOOL_DIR: dir,
      LAZY: '1',
      STEPS: '5000',
      EXIT_TIMEOUT_MS: '1500',
    });
    const { key } = (await child.waitFor((m) => m.event === 'started')) as { key: string };
    const exit = await child.exited;
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(8_000);
    const report = await syncSpool({ dir, client: cairn() });
    expect(report).toMatchObject({ points: 5_000, failed: [] });
    await expectExactSteps(server, key, 'loss', 5_000);
    expect((await cairn().experiments.get(key)).status).toBe('SUCCEEDED');
  });
});
