import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cairn, type ClientOptions, type Run } from '../src/node.js';
import { expectExactSteps, valueAt } from './support/expect-points.js';
import { FaultProxy } from './support/proxy.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * The fault tests: each compares what the server stored with what was logged, exactly — every
 * point once, none missing, none twice.
 */

let server: TestServer;
let proxy: FaultProxy | undefined;
let counter = 0;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

function client(url: string, options: ClientOptions = {}): Cairn {
  return new Cairn({
    url,
    apiKey: server.apiKey,
    ...options,
    writer: {
      spoolDir: join(server.dir, `faults-${++counter}`),
      exitHandlers: false,
      maxBatchPoints: 1_000,
      ...options.writer,
    },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function logSteps(run: Run, from: number, to: number, pauseEvery = 0): Promise<void> {
  for (let step = from; step < to; step++) {
    run.logMetrics({ loss: valueAt('loss', step), acc: valueAt('acc', step) }, { step });
    if (pauseEvery > 0 && step % pauseEvery === 0) await sleep(20);
  }
}

describe('faults', () => {
  it('(a) an answer lost after the server committed: the retry stores nothing twice', async () => {
    let dropped = 0;
    proxy = await FaultProxy.start(server, (req) => {
      if (req.method === 'POST' && req.url?.endsWith('/metrics') && dropped < 2) {
        dropped++;
        return { kind: 'drop-response' };
      }
      return { kind: 'forward' };
    });
    const cairn = client(proxy.url);
    const run = await cairn.startExperiment({ workspace: 'default', project: 'faults', name: 'lost-ack' });
    await logSteps(run, 0, 3_000);
    await run.flush();
    await expectExactSteps(server, run.key, 'loss', 3_000);
    await expectExactSteps(server, run.key, 'acc', 3_000);
    const posts = proxy.matching('/metrics');
    // Both lost answers were to committed batches: their retries repeat the same key.
    expect(posts.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
    expect(new Set(posts.slice(0, 3).map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(posts).toHaveLength(6 + 2);
    const stats = run.stats();
    expect(stats).toMatchObject({ logged: 6_000, acknowledged: 6_000, duplicates: 1_000, pending: 0 });
    await run.end();
  });

  it('(b) the server down for 30 s mid-run: everything arrives once, and the outage is reported once', {
    timeout: 120_000,
  }, async () => {
    const cairn = client(server.url, { writer: { retryMaxDelayMs: 2_000 } });
    const run = await cairn.startExperiment({ workspace: 'default', project: 'faults', name: 'outage' });
    const errors: Error[] = [];
    const recovered: number[] = [];
    run.on('error', (e) => errors.push(e));
    run.on('recovered', (r) => recovered.push(r.downMs));
    await logSteps(run, 0, 5_000, 500);
    await run.flush();
    expect(await server.points(run.key, 'loss')).toHaveLength(5_000);

    await server.stop();
    const down = Date.now();
    // Logging goes on during the outage, at its own pace: nothing blocks.
    const before = performance.now();
    await logSteps(run, 5_000, 15_000, 500);
    expect(performance.now() - before).toBeLessThan(5_000);
    await sleep(30_000 - (Date.now() - down));
    expect(await server.points(run.key, 'loss')).toHaveLength(5_000);
    await server.start();

    await logSteps(run, 15_000, 20_000, 500);
    const summary = await run.end({ timeoutMs: 60_000 });
    expect(summary).toMatchObject({ ended: true, timedOut: false, logged: 40_000, sent: 40_000, pendingInSpool: 0 });
    await expectExactSteps(server, run.key, 'loss', 20_000);
    await expectExactSteps(server, run.key, 'acc', 20_000);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/cannot deliver/);
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toBeGreaterThanOrEqual(25_000);
    expect((await cairn.experiments.get(run.key)).status).toBe('SUCCEEDED');
  });

  it('(c) a 429 storm with Retry-After: waits as told, then stores everything once', async () => {
    let stormUntil = 0;
    proxy = await FaultProxy.start(server, (req) => {
      if (req.method !== 'POST' || !req.url?.endsWith('/metrics')) return { kind: 'forward' };
      stormUntil ||= Date.now() + 3_000;
      return Date.now() < stormUntil
        ? { kind: 'respond', status: 429, headers: { 'retry-after': '1' } }
        : { kind: 'forward' };
    });
    const cairn = client(proxy.url, { writer: { retryBaseDelayMs: 1 } });
    const run = await cairn.startExperiment({ workspace: 'default', project: 'faults', name: 'storm' });
    const errors: Error[] = [];
    run.on('error', (e) => errors.push(e));
    await logSteps(run, 0, 3_000);
    await run.flush({ timeoutMs: 20_000 });
    await expectExactSteps(server, run.key, 'loss', 3_000);
    await expectExactSteps(server, run.key, 'acc', 3_000);
    const limited = proxy.matching('/metrics').filter((r) => r.action === 'respond');
    expect(limited.length).toBeGreaterThanOrEqual(3);
    // One batch in flight, each retry after the second the server asked for: no storm from the client.
    for (let i = 1; i < limited.length; i++) {
      expect((limited[i] as { at: number }).at - (limited[i - 1] as { at: number }).at).toBeGreaterThanOrEqual(950);
    }
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/asks to slow down.*429/s);
    expect(run.stats()).toMatchObject({ acknowledged: 6_000, duplicates: 0, throttled: false });
    await run.end();
  });

  it('connection resets and 503s on every kind of part: the stream is retried in order, exactly', async () => {
    let n = 0;
    proxy = await FaultProxy.start(server, (req) => {
      if (req.method !== 'POST') return { kind: 'forward' };
      n++;
      if (n % 3 === 1) return { kind: 'reset' };
      if (n % 3 === 2) return { kind: 'respond', status: 503, headers: { 'retry-after-ms': '10' } };
      return { kind: 'forward' };
    });
    const cairn = client(proxy.url, { maxRetries: 5, retryBaseDelayMs: 1, writer: { retryBaseDelayMs: 1 } });
    const run = await cairn.startExperiment({ workspace: 'default', project: 'faults', lazy: true });
    run.on('error', () => {});
    await logSteps(run, 0, 2_500);
    const summary = await run.end({ timeoutMs: 20_000 });
    expect(summary).toMatchObject({ ended: true, sent: 5_000 });
    await expectExactSteps(server, run.key, 'loss', 2_500);
    await expectExactSteps(server, run.key, 'acc', 2_500);
    const forwarded = proxy.requests.filter((r) => r.method === 'POST' && r.action === 'forward').map((r) => r.url);
    expect(forwarded[0]).toMatch(/\/projects\/faults\/experiments$/);
    expect(forwarded.at(-1)).toMatch(/\/end$/);
  });
});
