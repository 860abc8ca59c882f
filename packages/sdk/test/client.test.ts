import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  Cairn,
  CairnError,
  ConflictError,
  InternalServerError,
  isAPIError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from '../src/node.js';
import { FaultProxy, type ProxyAction } from './support/proxy.js';
import { startTestServer, type TestServer } from './support/server.js';

const SDK_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

let server: TestServer;
let proxy: FaultProxy | undefined;

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

const client = (options: ConstructorParameters<typeof Cairn>[0] = {}) =>
  new Cairn({ url: server.url, apiKey: server.apiKey, ...options });

describe('errors', () => {
  it('has one class per status, with status, headers, the request id and the problem body', async () => {
    const cairn = client();
    const missing = await cairn.experiments.get('0'.repeat(32)).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toBeInstanceOf(APIError);
    expect(missing).toBeInstanceOf(CairnError);
    const error = missing as NotFoundError;
    expect(error.status).toBe(404);
    expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(error.headers?.get('x-request-id')).toBe(error.requestId);
    expect(error.problem).toMatchObject({ status: 404, title: 'Not Found', instance: error.requestId });
    expect(error.message).toContain(error.requestId as string);

    const badKey = await new Cairn({ url: server.url, apiKey: 'wrong' }).me().catch((e: unknown) => e);
    expect(badKey).toBeInstanceOf(AuthenticationError);
    expect((badKey as APIError).status).toBe(401);

    const principal = await server.principal();
    const readOnly = (await server.core.auth.createKey(principal.userName, 'ro', ['read'])).secret;
    const denied = await new Cairn({ url: server.url, apiKey: readOnly }).experiments
      .create('default', 'p')
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(PermissionDeniedError);

    const invalid = await cairn.projects.create('default', { name: '' }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(BadRequestError);
    expect((invalid as BadRequestError).problem?.detail).toBeTruthy();

    const key = 'a1'.repeat(16);
    await cairn.experiments.create('default', 'p', { key });
    const taken = await cairn.experiments.create('default', 'p', { key }, { maxRetries: 0 }).catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(ConflictError);
    expect(isAPIError(taken)).toBe(true);
    expect(taken).not.toBeInstanceOf(NotFoundError);
  });

  it('are recognised across two copies of the SDK (the dual-package hazard), by brand', async () => {
    execFileSync(process.execPath, [join(SDK_DIR, '../../node_modules/typescript/bin/tsc'), '-b', SDK_DIR]);
    const copy = (await import(join(SDK_DIR, 'dist/index.js'))) as typeof import('../src/index.js');
    const foreign = new copy.NotFoundError(404, 'not here');
    expect(copy.NotFoundError).not.toBe(NotFoundError);
    expect(foreign).toBeInstanceOf(NotFoundError);
    expect(foreign).toBeInstanceOf(APIError);
    expect(foreign).not.toBeInstanceOf(ConflictError);
    expect(isAPIError(foreign)).toBe(true);
    expect(new NotFoundError(404, 'x')).toBeInstanceOf(copy.APIError);
    expect(new Error('plain')).not.toBeInstanceOf(CairnError);
  });
});

describe('retries', () => {
  it('obeys Retry-After (seconds) on 429 and reuses one Idempotency-Key for every attempt of a POST', async () => {
    proxy = await FaultProxy.start(server, (_req, i) =>
      i < 2 ? { kind: 'respond', status: 429, headers: { 'retry-after': '1' } } : { kind: 'forward' },
    );
    const cairn = new Cairn({ url: proxy.url, apiKey: server.apiKey, retryBaseDelayMs: 1 });
    const started = Date.now();
    const project = await cairn.projects.create('default', { name: 'after-429' });
    expect(project.name).toBe('after-429');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    const keys = proxy.requests.map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^cairn-sdk-/);
    expect(proxy.requests.map((r) => r.headers['x-cairn-retry-count'])).toEqual([undefined, '1', '2']);
  });

  it('obeys retry-after-ms and an HTTP date, retries 503 and connection resets, and never keys a GET', async () => {
    const date = new Date(Date.now() + 1500).toUTCString();
    proxy = await FaultProxy.start(server, (_req, i): ProxyAction => {
      if (i === 0) return { kind: 'respond', status: 503, headers: { 'retry-after-ms': '50' } };
      if (i === 1) return { kind: 'reset' };
      if (i === 2) return { kind: 'respond', status: 503, headers: { 'retry-after': date } };
      return { kind: 'forward' };
    });
    const cairn = new Cairn({ url: proxy.url, apiKey: server.apiKey, maxRetries: 3, retryBaseDelayMs: 1 });
    const started = Date.now();
    const me = await cairn.me();
    expect(me.user.name).toBe('admin');
    // The date has one-second resolution: at least ~0.5 s of it was waited for.
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(proxy.requests.map((r) => r.action)).toEqual(['respond', 'reset', 'respond', 'forward']);
    expect(proxy.requests.every((r) => r.headers['idempotency-key'] === undefined)).toBe(true);
  });

  it('gives up after maxRetries with the last error, and does not retry a 4xx that will not change', async () => {
    proxy = await FaultProxy.start(server, () => ({ kind: 'respond', status: 500 }));
    const cairn = new Cairn({ url: proxy.url, apiKey: server.apiKey, maxRetries: 2, retryBaseDelayMs: 1 });
    const error = await cairn.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect(proxy.requests).toHaveLength(3);

    proxy.setRule(() => ({ kind: 'respond', status: 429, headers: { 'retry-after-ms': '1' } }));
    const limited = await cairn.me({ maxRetries: 1 }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).headers?.get('retry-after-ms')).toBe('1');

    proxy.setRule(() => ({ kind: 'forward' }));
    const before = proxy.requests.length;
    await expect(cairn.experiments.get('f'.repeat(32))).rejects.toBeInstanceOf(NotFoundError);
    expect(proxy.requests.length - before).toBe(1);
  });

  it('stops retrying when the client-wide retry quota is spent (no retry storm), and refills on success', async () => {
    proxy = await FaultProxy.start(server, () => ({
      kind: 'respond',
      status: 503,
      headers: { 'retry-after-ms': '1' },
    }));
    // 12 tokens: two retries of 5 each, then none.
    const cairn = new Cairn({ url: proxy.url, apiKey: server.apiKey, maxRetries: 5, retryQuota: 12 });
    await expect(cairn.me()).rejects.toBeInstanceOf(InternalServerError);
    expect(proxy.requests).toHaveLength(3);
    await expect(cairn.me()).rejects.toBeInstanceOf(InternalServerError);
    expect(proxy.requests).toHaveLength(4);
    proxy.setRule(() => ({ kind: 'forward' }));
    for (let i = 0; i < 3; i++) await cairn.me();
    proxy.setRule(() => ({ kind: 'respond', status: 503, headers: { 'retry-after-ms': '1' } }));
    const before = proxy.requests.length;
    await expect(cairn.me()).rejects.toBeInstanceOf(InternalServerError);
    // 2 + 3 successes = 5 tokens: one retry again.
    expect(proxy.requests.length - before).toBe(2);
  });

  it('reports a refused connection as APIConnectionError after its retries', async () => {
    const closed = await FaultProxy.start(server);
    const url = closed.url;
    await closed.close();
    const cairn = new Cairn({ url, apiKey: 'k', maxRetries: 1, retryBaseDelayMs: 1 });
    const error = await cairn.me().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });
});

describe('abort and timeouts', () => {
  it('aborts with the caller signal, at once, also while waiting to retry', async () => {
    proxy = await FaultProxy.start(server, () => ({ kind: 'delay', ms: 5_000, next: { kind: 'forward' } }));
    const cairn = new Cairn({ url: proxy.url, apiKey: server.apiKey });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    await expect(cairn.me({ signal: controller.signal })).rejects.toBeInstanceOf(APIUserAbortError);
    expect(Date.now() - started).toBeLessThan(2_000);

    proxy.setRule(() => ({ kind: 'respond', status: 429, headers: { 'retry-after': '30' } }));
    const waiting = new AbortController();
    setTimeout(() => waiting.abort(), 200);
    const t = Date.now();
    await expect(cairn.me({ signal: waiting.signal })).rejects.toBeInstanceOf(APIUserAbortError);
    expect(Date.now() - t).toBeLessThan(2_000);
  });

  it('times out each attempt (then retries), and the whole call with totalTimeout', async () => {
    proxy = await FaultProxy.start(server, (_req, i) =>
      i === 0 ? { kind: 'delay', ms: 2_000, next: { kind: 'forward' } } : { kind: 'forward' },
    );
    const cairn = new Cairn({ url: proxy.url, apiKey: server.apiKey, timeout: 300, retryBaseDelayMs: 1 });
    expect((await cairn.me()).user.name).toBe('admin');
    expect(proxy.requests).toHaveLength(2);

    proxy.setRule(() => ({ kind: 'delay', ms: 2_000, next: { kind: 'forward' } }));
    const started = Date.now();
    const error = await cairn.me({ maxRetries: 10, totalTimeout: 800 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});

describe('pagination', () => {
  it('pages with for await, pages(), hasNextPage() and getNextPage()', async () => {
    const cairn = client();
    await cairn.workspaces.create('paging');
    const names = Array.from({ length: 7 }, (_, i) => `project-${i}`);
    for (const name of names) await cairn.projects.create('paging', { name });

    const seen: string[] = [];
    for await (const project of cairn.projects.list('paging', { limit: 3 })) seen.push(project.name);
    expect(seen).toEqual(names);

    const first = await cairn.projects.list('paging', { limit: 3 });
    expect(first.items.map((p) => p.name)).toEqual(names.slice(0, 3));
    expect(first.total).toBe(7);
    expect(first.hasNextPage()).toBe(true);
    const second = await first.getNextPage();
    expect(second.items.map((p) => p.name)).toEqual(names.slice(3, 6));
    const third = await second.getNextPage();
    expect(third.items.map((p) => p.name)).toEqual(names.slice(6));
    expect(third.hasNextPage()).toBe(false);
    await expect(third.getNextPage()).rejects.toThrow(/no next page/);

    const sizes: number[] = [];
    for await (const page of cairn.projects.list('paging', { limit: 3 }).pages()) sizes.push(page.items.length);
    expect(sizes).toEqual([3, 3, 1]);

    const filtered: string[] = [];
    for await (const p of cairn.projects.list('paging', { search: 'ECT-6' })) filtered.push(p.name);
    expect(filtered).toEqual(['project-6']);
  });
});

describe('resources', () => {
  it('reads a series whole, over several pages, with non-finite values as numbers again', async () => {
    const cairn = client();
    const experiment = await cairn.experiments.create('default', 'series');
    const values = Array.from({ length: 2_500 }, (_, i) => (i === 7 ? 'NaN' : i === 8 ? '-Infinity' : i / 10));
    const steps = values.map((_, i) => i);
    const logged = await cairn.metrics.log(experiment.key, {
      series: [{ name: 'loss', values, steps }],
      allowNonFinite: true,
    });
    expect(logged).toEqual({ points: 2_500, duplicate: false });
    const series = await cairn.series(experiment.key, 'loss', { pageSize: 1_000 });
    expect(series.total).toBe(2_500);
    expect(series.steps).toEqual(steps);
    expect(series.values[7]).toBeNaN();
    expect(series.values[8]).toBe(Number.NEGATIVE_INFINITY);
    expect(series.values[2_499]).toBe(249.9);
    const ranged = await cairn.series(experiment.key, 'loss', { stepFrom: 100, stepTo: 1_299, pageSize: 500 });
    expect(ranged.steps).toEqual(steps.slice(100, 1_300));
    const summaries = await cairn.metrics.list(experiment.key);
    expect(summaries.map((s) => [s.name, s.count])).toEqual([['loss', 2_500]]);
  });

  it('sends a caller-given Idempotency-Key: a replayed bulk batch is stored once', async () => {
    const cairn = client();
    const experiment = await cairn.experiments.create('default', 'replay');
    const body = { series: [{ name: 'acc', values: [1, 2, 3] }] };
    expect(await cairn.metrics.log(experiment.key, body, { idempotencyKey: 'w:1' })).toEqual({
      points: 3,
      duplicate: false,
    });
    expect(await cairn.metrics.log(experiment.key, body, { idempotencyKey: 'w:1' })).toEqual({
      points: 3,
      duplicate: true,
    });
    expect(await server.points(experiment.key, 'acc')).toHaveLength(3);
  });

  it('manages experiments and projects, tables and the webhook log', async () => {
    const cairn = client();
    const experiment = await cairn.experiments.create('default', 'life', { name: 'first' });
    expect(experiment).toMatchObject({ name: 'first', status: 'RUNNING', project: 'life', workspace: 'default' });
    await cairn.experiments.heartbeat(experiment.key);
    expect((await cairn.experiments.get(experiment.key)).lastHeartbeat).not.toBeNull();
    expect((await cairn.experiments.update(experiment.key, { name: 'renamed' })).name).toBe('renamed');
    expect((await cairn.experiments.end(experiment.key, { status: 'FAILED' })).status).toBe('FAILED');
    expect((await cairn.projects.get('default', 'life')).experimentCount).toBe(1);
    expect((await cairn.projects.update('default', 'life', { notes: 'n' })).notes).toBe('n');

    const table = await cairn.tables.put(experiment.key, 'scores', {
      columns: [
        { name: 'name', type: 'string' },
        { name: 'score', type: 'double' },
      ],
      rows: [
        ['a', 1.5],
        ['b', 2],
      ],
    });
    expect(table.rowCount).toBe(2);
    await cairn.tables.put(experiment.key, 'csv', { format: 'csv', data: 'x,y\n1,2\n3,4\n' });
    expect((await cairn.tables.list(experiment.key)).map((t) => t.name)).toEqual(['csv', 'scores']);
    expect((await cairn.tables.rows(experiment.key, 'scores')).rows).toEqual([
      ['a', 1.5],
      ['b', 2],
    ]);
    const parquet = await cairn.tables.parquet(experiment.key, 'csv');
    expect(new TextDecoder().decode(parquet.slice(0, 4))).toBe('PAR1');
    await cairn.tables.delete(experiment.key, 'csv');
    expect(await cairn.webhooks.deliveries({ workspace: 'default' })).toEqual([]);

    await cairn.experiments.delete(experiment.key);
    await expect(cairn.experiments.get(experiment.key)).rejects.toBeInstanceOf(NotFoundError);
    expect((await cairn.workspaces.list()).map((w) => w.name)).toContain('default');
  });
});
