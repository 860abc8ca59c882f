import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cairn, type Run } from '../src/node.js';
import { expectExactSteps, valueAt } from './support/expect-points.js';
import { FaultProxy } from './support/proxy.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * The SDK against the server's own rate limits (not a proxy's made-up 429s): the server refuses
 * with 429, Retry-After and RateLimit headers; the writer waits as told, retries, and in the end
 * every point is stored exactly once. A forwarding proxy records what the server answered.
 */

let server: TestServer | undefined;
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await server?.close();
  proxy = undefined;
  server = undefined;
});

async function logSteps(run: Run, count: number): Promise<void> {
  for (let step = 0; step < count; step++) {
    run.logMetrics({ loss: valueAt('loss', step), acc: valueAt('acc', step) }, { step });
  }
}

function client(target: TestServer, url: string): Cairn {
  return new Cairn({
    url,
    apiKey: target.apiKey,
    writer: { spoolDir: join(target.dir, 'spool'), exitHandlers: false, maxBatchPoints: 1_000, retryBaseDelayMs: 1 },
  });
}

describe('the SDK against the server rate limits', () => {
  it('metric points: batches refused with 429 wait their Retry-After and are all stored once', {
    timeout: 60_000,
  }, async () => {
    // 2,000 points a second, bursts of 2,000: 8,000 points need at least three seconds.
    server = await startTestServer({ pointsRateLimit: { perSecond: 2_000, burst: 2_000 } });
    proxy = await FaultProxy.start(server);
    const cairn = client(server, proxy.url);
    const run = await cairn.startExperiment({ workspace: 'default', project: 'limits', name: 'points' });
    const errors: Error[] = [];
    run.on('error', (e) => errors.push(e));
    await logSteps(run, 4_000);
    await run.flush({ timeoutMs: 45_000 });

    await expectExactSteps(server, run.key, 'loss', 4_000);
    await expectExactSteps(server, run.key, 'acc', 4_000);
    const posts = proxy.matching('/metrics');
    const refused = posts.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    // Each refusal was followed by a wait of at least the second the server asked for.
    for (const r of refused) {
      const next = posts.find((p) => p.at > r.at);
      if (next) expect(next.at - r.at).toBeGreaterThanOrEqual(950);
    }
    expect(errors.some((e) => /429/.test(e.message))).toBe(true);
    expect(run.stats()).toMatchObject({ acknowledged: 8_000, duplicates: 0, throttled: false });
    await run.end();
  });

  it('requests: a key over its request rate is told to wait and loses nothing', { timeout: 60_000 }, async () => {
    // Four requests a second, bursts of four: starting the run and its batches go over it.
    server = await startTestServer({ requestsRateLimit: { perSecond: 4, burst: 4 } });
    proxy = await FaultProxy.start(server);
    const cairn = client(server, proxy.url);
    const run = await cairn.startExperiment({ workspace: 'default', project: 'limits', name: 'requests' });
    for (let part = 0; part < 6; part++) {
      for (let step = part * 500; step < (part + 1) * 500; step++) {
        run.logMetrics({ loss: valueAt('loss', step), acc: valueAt('acc', step) }, { step });
      }
      await run.flush({ timeoutMs: 30_000 });
    }
    await expectExactSteps(server, run.key, 'loss', 3_000);
    await expectExactSteps(server, run.key, 'acc', 3_000);
    const refused = proxy.matching('/metrics').filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(run.stats()).toMatchObject({ acknowledged: 6_000, duplicates: 0 });
    await run.end();
  });
});
