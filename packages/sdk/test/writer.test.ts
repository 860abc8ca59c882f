import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BufferOverflowError,
  Cairn,
  type ClientOptions,
  DeadLetterError,
  FlushTimeoutError,
  NotFoundError,
  type Run,
  syncSpool,
} from '../src/node.js';
import { expectExactSteps, valueAt } from './support/expect-points.js';
import { FaultProxy } from './support/proxy.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;
let spoolRoot: string;
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

/** A client whose runs spool under this test's own directory and leave the process hooks alone. */
function client(options: ClientOptions = {}, url = server.url): Cairn {
  spoolRoot = join(server.dir, `spool-${++counter}`);
  return new Cairn({
    url,
    apiKey: server.apiKey,
    ...options,
    writer: { spoolDir: spoolRoot, exitHandlers: false, retryBaseDelayMs: 20, retryMaxDelayMs: 200, ...options.writer },
  });
}

function logSteps(run: Run, names: string[], from: number, to: number, context?: string): void {
  for (let step = from; step < to; step++) {
    const values: Record<string, number> = {};
    for (const name of names) values[name] = valueAt(name, step);
    run.logMetrics(values, context === undefined ? { step } : { step, context });
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

describe('flush and end', () => {
  it('stores exactly what was logged: batches by point count, contexts, epochs, timestamps, NaN and infinities', async () => {
    const cairn = client({ writer: { maxBatchPoints: 1_000 } });
    const run = await cairn.startExperiment({ workspace: 'default', project: 'writer', name: 'exact' });
    logSteps(run, ['loss', 'acc'], 0, 3_000);
    logSteps(run, ['loss'], 0, 500, 'eval');
    run.logMetric('odd', Number.NaN, { step: 0, epoch: 1, timestamp: 1_000 });
    run.logMetric('odd', Number.POSITIVE_INFINITY, { epoch: 2 });
    run.logMetric('odd', Number.NEGATIVE_INFINITY);
    await run.flush();
    // flush() resolved: the server has every point already.
    await expectExactSteps(server, run.key, 'acc', 3_000);
    expect(await server.points(run.key, 'loss')).toHaveLength(3_500);
    const odd = await server.core.metrics.readMetric(await server.principal(), run.key, 'odd');
    expect(odd.map((p) => [p.value, p.step, p.epoch])).toEqual([
      [Number.NaN, 0, 1],
      [Number.POSITIVE_INFINITY, null, 2],
      [Number.NEGATIVE_INFINITY, null, null],
    ]);
    expect(odd[0]?.timestamp).toBe(1_000);
    expect(odd[2]?.timestamp).toBeGreaterThan(Date.now() - 60_000);
    const stats = run.stats();
    expect(stats).toMatchObject({ logged: 6_503, acknowledged: 6_503, pending: 0, dropped: 0, deadLettered: 0 });
    expect(stats.batches).toEqual({ sealed: 7, acknowledged: 7 });

    const summary = await run.end();
    expect(summary).toMatchObject({ ended: true, timedOut: false, logged: 6_503, sent: 6_503, pendingInSpool: 0 });
    expect((await cairn.experiments.get(run.key)).status).toBe('SUCCEEDED');
    // Every acknowledged batch file is gone, and so is the writer's directory.
    expect(await filesUnder(spoolRoot)).toEqual([]);
  });

  it('flush() waits for the acknowledgement, not for the request to leave', async () => {
    proxy = await FaultProxy.start(server, (req) =>
      req.url?.endsWith('/metrics') ? { kind: 'delay', ms: 600, next: { kind: 'forward' } } : { kind: 'forward' },
    );
    const cairn = client({}, proxy.url);
    const run = await cairn.startExperiment({ workspace: 'default', project: 'writer' });
    logSteps(run, ['loss'], 0, 100);
    const started = Date.now();
    await run.flush();
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    await expectExactSteps(server, run.key, 'loss', 100);
    await run.end();
  });

  it('end({ status: FAILED }) marks the run failed; logging after end is counted as dropped', async () => {
    const cairn = client();
    const run = await cairn.startExperiment({ workspace: 'default', project: 'writer' });
    logSteps(run, ['loss'], 0, 10);
    const summary = await run.end({ status: 'FAILED' });
    expect(summary.ended).toBe(true);
    expect((await cairn.experiments.get(run.key)).status).toBe('FAILED');
    const warnings: string[] = [];
    run.on('warning', (w) => warnings.push(w));
    run.logMetric('loss', 1, { step: 11 });
    expect(run.stats().dropped).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(await run.end()).toBe(await run.end());
  });

  it('end() gives up at its deadline: the rest stays in the spool, and syncSpool uploads it exactly', async () => {
    proxy = await FaultProxy.start(server, (req) =>
      req.url?.endsWith('/metrics')
        ? { kind: 'respond', status: 503, headers: { 'retry-after': '1' } }
        : { kind: 'forward' },
    );
    const cairn = client({ writer: { maxBatchPoints: 200 } }, proxy.url);
    const run = await cairn.startExperiment({ workspace: 'default', project: 'writer' });
    const errors: Error[] = [];
    run.on('error', (e) => errors.push(e));
    logSteps(run, ['loss', 'acc'], 0, 1_000);
    const flushing = run.flush({ timeoutMs: 300 });
    await expect(flushing).rejects.toBeInstanceOf(FlushTimeoutError);
    const summary = await run.end({ timeoutMs: 500 });
    expect(summary).toMatchObject({ ended: false, timedOut: true, logged: 2_000, sent: 0, pendingInSpool: 2_000 });
    // The outage was reported once, not once per retry.
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/503.*kept in .*retried until acknowledged/s);
    expect(await server.points(run.key, 'loss')).toHaveLength(0);

    const report = await syncSpool({ dir: spoolRoot, client: client() });
    expect(report).toMatchObject({ points: 2_000, duplicatePoints: 0, deadLettered: 0, failed: [] });
    await expectExactSteps(server, run.key, 'loss', 1_000);
    await expectExactSteps(server, run.key, 'acc', 1_000);
    // The end was spooled too, with the time it really ended.
    expect((await cairn.experiments.get(run.key)).status).toBe('SUCCEEDED');
    expect(await filesUnder(spoolRoot)).toEqual([]);
    const again = await syncSpool({ dir: spoolRoot, client: client() });
    expect(again).toMatchObject({ batches: 0, points: 0 });
  });

  it('beats while the run is open and stops at end', async () => {
    const cairn = client({ writer: { heartbeatIntervalMs: 50 } });
    const run = await cairn.startExperiment({ workspace: 'default', project: 'writer' });
    const created = run.experiment?.lastHeartbeat ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const beat = (await cairn.experiments.get(run.key)).lastHeartbeat ?? 0;
    expect(beat).toBeGreaterThan(created);
    await run.end();
    const ended = await cairn.experiments.get(run.key);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const later = await cairn.experiments.get(run.key);
    // No beat after the end (a beat would resume the run).
    expect(later.status).toBe('SUCCEEDED');
    expect(later.lastHeartbeat).toBe(ended.lastHeartbeat);
  });
});

describe('batch failures', () => {
  it('splits a batch the server finds too large (413) in halves until it fits, exactly once', async () => {
    const small = await startTestServer({ bodyLimitBytes: 64 * 1024 });
    try {
      const cairn = new Cairn({
        url: small.url,
        apiKey: small.apiKey,
        writer: { spoolDir: join(small.dir, 'spool'), exitHandlers: false, maxBatchPoints: 20_000 },
      });
      const run = await cairn.startExperiment({ workspace: 'default', project: 'split' });
      logSteps(run, ['loss'], 0, 20_000);
      await run.flush();
      await expectExactSteps(small, run.key, 'loss', 20_000);
      expect(run.stats()).toMatchObject({ acknowledged: 20_000, deadLettered: 0 });
      await run.end();
    } finally {
      await small.close();
    }
  });

  it('dead-letters a part the server refuses for good, with its problem, and flush() rejects with it', async () => {
    const cairn = client();
    const run = cairn.attach('9'.repeat(32));
    const deadLetters: DeadLetterError[] = [];
    run.on('deadLetter', (d) => deadLetters.push(d));
    run.on('error', () => {});
    logSteps(run, ['loss'], 0, 10);
    const error = await run.flush().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    const [first] = (error as AggregateError).errors as DeadLetterError[];
    expect(first).toBeInstanceOf(DeadLetterError);
    expect(first?.error).toBeInstanceOf(NotFoundError);
    expect(first?.part).toBe('metrics');
    expect(deadLetters).toEqual([first]);
    const record = JSON.parse(await readFile(first?.file as string, 'utf8'));
    expect(record).toMatchObject({ status: 404, seq: first?.seq, part: { part: 'metrics', points: 10 } });
    expect(record.problem.detail).toContain('9'.repeat(32));
    expect(record.requestId).toBe(first?.error.requestId);
    expect(record.part.body.series[0].values).toHaveLength(10);
    // Reported once: a second flush has nothing new to reject with.
    await run.flush();
    const summary = await run.end();
    expect(summary).toMatchObject({ deadLettered: 10, sent: 0, pendingInSpool: 0 });
    expect(summary.errors).toEqual([first]);
    expect(existsSync(first?.file as string)).toBe(true);
  });
});

describe('bounded memory', () => {
  it('with a spool, a full buffer spills batches to disk; all of them arrive once the server is back', async () => {
    proxy = await FaultProxy.start(server, (req) =>
      req.url?.endsWith('/metrics')
        ? { kind: 'respond', status: 503, headers: { 'retry-after-ms': '100' } }
        : { kind: 'forward' },
    );
    const cairn = client({ writer: { maxBufferedPoints: 5_000, maxBatchPoints: 1_000 } }, proxy.url);
    const run = await cairn.startExperiment({ workspace: 'default', project: 'spill' });
    run.on('error', () => {});
    // Synchronously, far past the cap: nothing can be sent meanwhile.
    logSteps(run, ['loss'], 0, 30_000);
    const stats = run.stats();
    expect(stats.dropped).toBe(0);
    expect(stats.spooled).toBeGreaterThanOrEqual(25_000);
    const files = (await filesUnder(run.spoolDir as string)).filter((f) => /\d+\.json/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(25);
    proxy.setRule(() => ({ kind: 'forward' }));
    await run.flush({ timeoutMs: 20_000 });
    await expectExactSteps(server, run.key, 'loss', 30_000);
    await run.end();
  });

  it('without a spool, the overflow policy is visible: drop-oldest, drop-newest and throw', async () => {
    proxy = await FaultProxy.start(server, (req) =>
      req.url?.endsWith('/metrics')
        ? { kind: 'respond', status: 503, headers: { 'retry-after-ms': '100' } }
        : { kind: 'forward' },
    );
    const base = { spool: false, maxBufferedPoints: 1_000, maxBatchPoints: 100 } as const;
    const oldest = client({ writer: { ...base, overflow: 'drop-oldest' } }, proxy.url).attach('1'.repeat(32));
    const warnings: string[] = [];
    oldest.on('warning', (w) => warnings.push(w)).on('error', () => {});
    logSteps(oldest, ['loss'], 0, 3_000);
    expect(oldest.stats().dropped).toBeGreaterThanOrEqual(2_000);
    expect(oldest.stats().logged).toBe(3_000);
    expect(warnings.filter((w) => w.includes('drop-oldest'))).toHaveLength(1);
    const oldestSummary = await oldest.end({ timeoutMs: 100 });
    expect(oldestSummary.dropped).toBe(3_000);

    const newest = client({ writer: { ...base, overflow: 'drop-newest' } }, proxy.url).attach('2'.repeat(32));
    newest.on('error', () => {});
    logSteps(newest, ['loss'], 0, 3_000);
    expect(newest.stats()).toMatchObject({ logged: 1_000, dropped: 2_000 });
    await newest.end({ timeoutMs: 100 });

    const strict = client({ writer: { ...base, overflow: 'throw' } }, proxy.url).attach('3'.repeat(32));
    strict.on('error', () => {});
    expect(() => logSteps(strict, ['loss'], 0, 3_000)).toThrow(BufferOverflowError);
    expect(strict.stats().logged).toBe(1_000);
    await strict.end({ timeoutMs: 100 });
  });
});

describe('lazy, offline and attached writers', () => {
  it('lazy start: logging begins before the experiment exists; its creation is the stream first request', async () => {
    proxy = await FaultProxy.start(server);
    const cairn = client({}, proxy.url);
    const run = await cairn.startExperiment({ workspace: 'default', project: 'lazy', name: 'later', lazy: true });
    expect(run.key).toMatch(/^[0-9a-f]{32}$/);
    logSteps(run, ['loss'], 0, 500);
    await run.end();
    const posts = proxy.requests.filter((r) => r.method === 'POST').map((r) => r.url.replace(run.key, 'KEY'));
    expect(posts[0]).toBe('/api/cairn/v1/workspaces/default/projects/lazy/experiments');
    expect(posts.at(-1)).toBe('/api/cairn/v1/experiments/KEY/end');
    expect(run.experiment?.name).toBe('later');
    await expectExactSteps(server, run.key, 'loss', 500);
    expect((await cairn.experiments.get(run.key)).status).toBe('SUCCEEDED');
  });

  it('offline: only spools (gzipped when large); syncSpool creates, fills and ends the experiment, and re-running is harmless', async () => {
    const refused = await FaultProxy.start(server, () => ({ kind: 'reset' }));
    const cairn = client({ writer: { mode: 'offline', maxBatchPoints: 5_000 } }, refused.url);
    const run = await cairn.startExperiment({ workspace: 'default', project: 'offline', name: 'plane' });
    logSteps(run, ['loss', 'acc'], 0, 10_000);
    await run.flush();
    expect(run.stats().spooled).toBe(20_000);
    const summary = await run.end();
    expect(summary).toMatchObject({ ended: false, sent: 0, pendingInSpool: 20_000 });
    expect(refused.requests).toHaveLength(0);
    await refused.close();
    const files = await filesUnder(spoolRoot);
    expect(files.some((f) => f.endsWith('.json.gz'))).toBe(true);
    await expect(cairn.experiments.get(run.key)).rejects.toThrow();

    const seen: number[] = [];
    const report = await syncSpool({ dir: spoolRoot, client: client(), onBatch: (b) => seen.push(b.seq) });
    expect(report).toMatchObject({ experiments: 1, writers: 1, points: 20_000, failed: [], skipped: [] });
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    await expectExactSteps(server, run.key, 'loss', 10_000);
    await expectExactSteps(server, run.key, 'acc', 10_000);
    const experiment = await client().experiments.get(run.key);
    expect(experiment).toMatchObject({ name: 'plane', project: 'offline', status: 'SUCCEEDED' });
    expect(experiment.endTime).toBeLessThan(Date.now() - 1);
    expect(await syncSpool({ dir: spoolRoot, client: client() })).toMatchObject({ batches: 0, points: 0 });
  });

  it('syncSpool leaves the directory of a writer that is still running alone unless forced', async () => {
    const cairn = client({ writer: { mode: 'offline' } });
    const experiment = await cairn.experiments.create('default', 'live');
    const run = cairn.attach(experiment.key);
    logSteps(run, ['loss'], 0, 100);
    await run.flush();
    const report = await syncSpool({ dir: spoolRoot, client: cairn });
    expect(report.skipped).toEqual([run.spoolDir]);
    expect(report.points).toBe(0);
    const forced = await syncSpool({ dir: spoolRoot, client: cairn, force: true });
    expect(forced.points).toBe(100);
    await expectExactSteps(server, experiment.key, 'loss', 100);
    await run.end();
  });

  it('attached writers to one experiment in one process: each has its own id and its batches are exact', async () => {
    const cairn = client();
    const experiment = await cairn.experiments.create('default', 'ranks');
    const ranks = [0, 1, 2].map((rank) => cairn.attach(experiment.key, { writerId: `rank-${rank}` }));
    for (let step = 0; step < 2_000; step++) {
      for (const [rank, writer] of ranks.entries())
        writer.logMetric('loss', valueAt('loss', step), { step, context: `rank-${rank}` });
    }
    const summaries = await Promise.all(ranks.map((r) => r.end()));
    expect(summaries.map((s) => [s.writerId, s.sent, s.ended])).toEqual([
      ['rank-0', 2_000, false],
      ['rank-1', 2_000, false],
      ['rank-2', 2_000, false],
    ]);
    await expectExactSteps(server, experiment.key, 'loss', 2_000, ['rank-0', 'rank-1', 'rank-2']);
    // Attached writers do not end the experiment: its starter does.
    expect((await cairn.experiments.get(experiment.key)).status).toBe('RUNNING');
  });

  it('rejects what the server would refuse with the whole batch, at the log call', () => {
    const run = client().attach('4'.repeat(32), { mode: 'offline' });
    expect(() => run.logMetric('loss', 1, { step: 1.5 })).toThrow(TypeError);
    expect(() => run.logMetric('', 1)).toThrow(TypeError);
    expect(() => run.logMetric('x', 1, { timestamp: -1 })).toThrow(TypeError);
    run.logMetrics({ ok: 1, bad: 'x' as unknown as number });
    expect(run.stats()).toMatchObject({ logged: 1, invalid: 1 });
    void run.end();
  });
});

describe('logged values in the stream', () => {
  it('sends params, others and tags in order with the metrics, coalesced, each part exactly once', async () => {
    // The params part's first answer is lost after the server stored it: its retry must store nothing.
    let lost = false;
    proxy = await FaultProxy.start(server, (req) => {
      if (!lost && req.method === 'POST' && req.url?.endsWith('/params')) {
        lost = true;
        return { kind: 'drop-response' };
      }
      return { kind: 'forward' };
    });
    const cairn = client({}, proxy.url);
    const run = await cairn.startExperiment({ workspace: 'default', project: 'values' });
    run.logParams({ lr: 0.1, optimizer: { name: 'sgd' } });
    run.logParams({ lr: 0.01, optimizer: { name: 'adam', betas: [0.9, 0.99] } });
    run.logParam('batch', 32);
    run.logOthers({ seed: 7 });
    run.addTags(['baseline', 'mnist']);
    run.addTag('baseline');
    logSteps(run, ['loss'], 0, 100);
    await run.end();
    const params = await cairn.params.list(run.key);
    expect(Object.fromEntries(params.map((p) => [p.name, p.value]))).toEqual({
      batch: 32,
      lr: 0.01,
      'optimizer.betas': '[0.9,0.99]',
      'optimizer.name': 'adam',
    });
    // Coalesced: one logged value per name, not one per call.
    expect(await cairn.params.list(run.key, { history: true })).toHaveLength(4);
    expect((await cairn.others.list(run.key)).map((o) => [o.name, o.value])).toEqual([['seed', 7]]);
    expect((await cairn.tags.list(run.key)).sort()).toEqual(['baseline', 'mnist']);
    const keys = proxy.matching('/params').map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[0]).toBe(`${run.writerId}:1:params`);
    await expectExactSteps(server, run.key, 'loss', 100);
  });
});
