import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Cairn } from '@cairn/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cairn, requireBuilt, startTestServer, type TestServer } from './support/cli.js';

/**
 * `cairn sync` end to end: training scripts in child processes log through the built SDK while
 * the server cannot be reached — one is SIGKILLed once all it logged is on disk, one ends with
 * process.exit() — then `cairn sync` uploads their spool: stored equals logged, exactly, and a
 * second sync sends nothing.
 */

const CHILD = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures/spool-writer.mjs');
const ADMIN_KEY = 'SyncTestAdminKey0000000000000000000000000';
const STEPS = 1_250;

interface Child {
  process: ChildProcess;
  waitFor(event: string): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startChild(env: Record<string, string>): Child {
  const child = spawn(process.execPath, [CHILD], {
    // A port nothing listens on: every batch stays in the spool.
    env: { ...process.env, CAIRN_URL: 'http://127.0.0.1:1', CAIRN_API_KEY: ADMIN_KEY, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const messages: Record<string, unknown>[] = [];
  const waiting: { event: string; resolve: (m: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    messages.push(message);
    for (const w of waiting.filter((w) => w.event === message.event)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(message);
    }
  });
  return {
    process: child,
    waitFor: (event) =>
      new Promise((resolve) => {
        const seen = messages.find((m) => m.event === event);
        if (seen) resolve(seen);
        else waiting.push({ event, resolve });
      }),
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  };
}

describe('cairn sync', { timeout: 180_000 }, () => {
  let dir: string;
  let spool: string;
  let server: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    requireBuilt();
    dir = await mkdtemp(join(tmpdir(), 'cairn-cli-sync-'));
    spool = join(dir, 'spool');
    server = await startTestServer(ADMIN_KEY);
    env = { CAIRN_URL: server.url, CAIRN_API_KEY: ADMIN_KEY, CAIRN_CONFIG: join(dir, 'no-config.json') };
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads what a killed run and an exited run left in the spool, exactly once', async () => {
    const killed = startChild({ CHILD_MODE: 'kill', STEPS: String(STEPS), CAIRN_SPOOL_DIR: spool });
    const killedKey = (await killed.waitFor('started')).key as string;
    expect(await killed.waitFor('spooled')).toMatchObject({ points: 2 * STEPS });
    killed.process.kill('SIGKILL');
    expect(await killed.exited).toEqual({ code: null, signal: 'SIGKILL' });

    const exited = startChild({ CHILD_MODE: 'exit', STEPS: String(STEPS), CAIRN_SPOOL_DIR: spool });
    const exitedKey = (await exited.waitFor('started')).key as string;
    expect(await exited.waitFor('logged')).toMatchObject({ points: 2 * STEPS });
    expect(await exited.exited).toEqual({ code: 3, signal: null });
    expect((await readdir(spool)).sort()).toEqual([killedKey, exitedKey].sort());

    const synced = await cairn(['sync', spool, '--json'], env);
    expect(synced.stderr).toBe('');
    expect(synced.code).toBe(0);
    const report = JSON.parse(synced.stdout);
    expect(report).toMatchObject({
      dir: spool,
      experiments: 2,
      writers: 2,
      points: 4 * STEPS,
      duplicatePoints: 0,
      deadLettered: 0,
      skipped: [],
      failed: [],
    });

    // Stored equals logged: every point, in order, with its step, epoch, context and value.
    const client = new Cairn({ url: server.url, apiKey: ADMIN_KEY, logLevel: 'off' });
    for (const [key, context] of [
      [killedKey, null],
      [exitedKey, 'rank-1'],
    ] as const) {
      const experiment = await client.experiments.get(key);
      expect(experiment).toMatchObject({ workspace: 'default', project: 'spooled' });
      const loss = await client.series(key, 'loss');
      const acc = await client.series(key, 'acc');
      const steps = Array.from({ length: STEPS }, (_, i) => i);
      expect(loss.steps).toEqual(steps);
      expect(loss.values).toEqual(steps.map((i) => 1 / (i + 1)));
      expect(loss.epochs).toEqual(steps.map((i) => Math.floor(i / 100)));
      expect(loss.contexts).toEqual(steps.map(() => context));
      expect(acc.values).toEqual(steps.map((i) => (i === 7 ? Number.NaN : i / STEPS)));
      expect((await client.params.list(key)).map((p) => [p.name, p.value])).toEqual([
        ['mode', context ? 'exit' : 'kill'],
        ['steps', STEPS],
      ]);
    }
    // Both experiments were created by the sync (lazy runs), with their names.
    expect((await client.experiments.get(exitedKey)).name).toBe('exit');
    await expect(readdir(spool)).resolves.toEqual([]);

    // Re-running is harmless: nothing left to send, nothing stored twice.
    const again = await cairn(['sync', spool], env);
    expect(again).toMatchObject({ code: 0, stderr: '' });
    expect(again.stdout).toBe(`nothing to send in ${spool}\n`);
    expect((await client.series(killedKey, 'loss')).total).toBe(STEPS);
    expect((await client.series(exitedKey, 'acc')).total).toBe(STEPS);
  });

  it('reports a server it cannot reach in one line with status 1, keeping the spool', async () => {
    const child = startChild({ CHILD_MODE: 'exit', STEPS: '10', CAIRN_SPOOL_DIR: join(dir, 'spool-2') });
    const key = (await child.waitFor('started')).key as string;
    await child.exited;
    const down = await cairn(['sync', join(dir, 'spool-2')], { ...env, CAIRN_URL: 'http://127.0.0.1:1' });
    expect(down.code).toBe(1);
    expect(down.stdout).toContain(`failed: ${join(dir, 'spool-2', key)}`);
    expect(down.stderr).toBe(
      'cairn: 1 writer could not be synced: run "cairn sync" again once the server takes them\n',
    );
    expect(await readdir(join(dir, 'spool-2'))).toEqual([key]);
    const up = await cairn(['sync', join(dir, 'spool-2')], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/^sent \d+ batch(es)? \(20 points\) of 1 experiment, 1 writer, from /);
  });
});
