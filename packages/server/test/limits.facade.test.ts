import { Readable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../src/core/clock.port.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';
import { multipart } from './support/wire-bodies.js';

const V2 = '/api/rest/v2';
const CAIRN = '/api/cairn/v1';
const MLFLOW = '/api/2.0/mlflow';
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';
const MODELS = '/api/v2/models';

/** Each facade's own error body for a status (what its clients parse). */
const formats = {
  comet: (r: LightMyRequestResponse, status: number) => {
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.json()).toMatchObject({ code: status, sdk_error_code: 0, data: null, msg: expect.any(String) });
  },
  cairn: (r: LightMyRequestResponse, status: number) => {
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(r.json()).toMatchObject({ type: 'about:blank', status, detail: expect.any(String) });
  },
  mlflow: (r: LightMyRequestResponse, status: number) => {
    const code = { 413: 'INVALID_PARAMETER_VALUE', 429: 'REQUEST_LIMIT_EXCEEDED', 507: 'RESOURCE_EXHAUSTED' }[status];
    expect(r.json()).toMatchObject({ error_code: code, message: expect.any(String) });
  },
  foundry: (r: LightMyRequestResponse, status: number) => {
    const [code, name] =
      status === 413
        ? ['REQUEST_ENTITY_TOO_LARGE', 'Default:RequestEntityTooLarge']
        : ['INTERNAL', 'Default:TooManyRequests'];
    expect(r.json()).toMatchObject({ errorCode: code, errorName: name, errorInstanceId: expect.any(String) });
  },
} as const;
type Facade = keyof typeof formats;

function expectRefused(r: LightMyRequestResponse, facade: Facade, status: 413 | 429 | 507) {
  expect(r.statusCode, r.body).toBe(status);
  formats[facade](r, status);
}

/** A 429 from a rate limit: Retry-After and the draft-10 RateLimit fields of its policy. */
function expectRateLimited(
  r: LightMyRequestResponse,
  facade: Facade,
  policy: string,
  quota: number,
  window: number,
  remaining = 0,
) {
  expectRefused(r, facade, 429);
  const retryAfter = Number(r.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(r.headers['ratelimit-policy']).toBe(`"${policy}";q=${quota};w=${window}`);
  expect(r.headers.ratelimit).toMatch(new RegExp(`^"${policy}";r=${remaining};t=\\d+$`));
  return retryAfter;
}

async function newKey(t: TestContext, name: string): Promise<string> {
  return (await t.core.auth.createKey('admin', name, ['read', 'write'])).secret;
}

async function newExperiment(t: TestContext): Promise<string> {
  return (await newRun(t)).key;
}

/** An experiment and where MLflow clients put its artifacts (`<project id>/<run id>/artifacts`). */
async function newRun(t: TestContext): Promise<{ key: string; root: string }> {
  const principal = await t.core.auth.authenticate(t.adminKey);
  const view = await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'limits' });
  return { key: view.experiment.id, root: `${view.project.id}/${view.experiment.id}/artifacts` };
}

/** A clock the test moves by hand: the points buckets refill only when it says so. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = Date.now();
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
  };
}

describe.each(backends)('limits that protect the service (%s)', (backend) => {
  describe('requests per second per API key', () => {
    let t: TestContext;
    beforeAll(async () => {
      // One request a second, bursts of three: the fourth in a row is refused.
      t = await createTestContext(backend, { config: { rateLimitRequestsPerSecond: 1, rateLimitRequestsBurst: 3 } });
    });
    afterAll(async () => {
      await t?.close();
    });

    const reads: [Facade, string][] = [
      ['comet', `${V2}/workspaces`],
      ['comet', '/clientlib/rest/v2/workspaces'],
      ['cairn', `${CAIRN}/workspaces`],
      ['mlflow', `${MLFLOW}/experiments/search?max_results=1`],
      ['foundry', `${MODELS}/ri.models.main.model.00000000-0000-0000-0000-000000000000?preview=true`],
    ];

    it.each(reads)(
      'answers the burst, then 429 in the %s format with Retry-After and RateLimit (%s)',
      async (facade, url) => {
        const key = await newKey(t, `requests ${url}`);
        for (let i = 2; i >= 0; i--) {
          const admitted = await t.request('GET', url, { key: `Bearer ${key}` });
          expect(admitted.statusCode).not.toBe(429);
          expect(admitted.headers['ratelimit-policy']).toBe('"requests";q=3;w=3');
          expect(admitted.headers.ratelimit).toMatch(new RegExp(`^"requests";r=${i};t=\\d+$`));
        }
        const refused = await t.request('GET', url, { key: `Bearer ${key}` });
        expect(expectRateLimited(refused, facade, 'requests', 3, 3)).toBe(1);

        // Another key has a bucket of its own; the health check is never limited.
        const other = await t.request('GET', url, { key: `Bearer ${await newKey(t, `other ${url}`)}` });
        expect(other.statusCode).not.toBe(429);
        for (let i = 0; i < 5; i++)
          expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      },
    );

    it('admits the key again once the bucket has refilled for the Retry-After it was given', async () => {
      const key = await newKey(t, 'refill');
      const get = () => t.request('GET', `${CAIRN}/workspaces`, { key: `Bearer ${key}` });
      for (let i = 0; i < 3; i++) expect((await get()).statusCode).toBe(200);
      const refused = await get();
      const wait = expectRateLimited(refused, 'cairn', 'requests', 3, 3);
      await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 50));
      expect((await get()).statusCode).toBe(200);
    });

    it('counts comet_ml uploads by the key in their query, and keyless requests by address', async () => {
      const key = await newKey(t, 'query key');
      const url = `/clientlib/asset/upload?experimentId=${'0'.repeat(32)}&fileName=a&apiKey=${key}`;
      for (let i = 0; i < 3; i++) expect((await t.request('POST', url, { key: null })).statusCode).not.toBe(429);
      expectRateLimited(await t.request('POST', url, { key: null }), 'comet', 'requests', 3, 3);
      for (let i = 0; i < 3; i++)
        expect((await t.request('GET', `${V2}/workspaces`, { key: null })).statusCode).toBe(401);
      expectRateLimited(await t.request('GET', `${V2}/workspaces`, { key: null }), 'comet', 'requests', 3, 3);
    });
  });

  describe('metric points per second per API key', () => {
    let t: TestContext;
    const clock = manualClock();
    beforeAll(async () => {
      // Ten points a second, bursts of twenty.
      t = await createTestContext(backend, { clock, pointsRateLimit: { perSecond: 10, burst: 20 } });
    });
    afterAll(async () => {
      await t?.close();
    });

    async function storedPoints(experimentKey: string, name: string): Promise<number> {
      const principal = await t.core.auth.authenticate(t.adminKey);
      return (await t.core.metrics.readMetric(principal, experimentKey, name)).length;
    }

    it('Comet: one point per request until the burst is spent, then 429 and nothing stored', async () => {
      const key = await newKey(t, 'comet points');
      const experimentKey = await newExperiment(t);
      const log = (step: number, as = key) =>
        t.request('POST', `${V2}/write/experiment/metric`, {
          key: as,
          body: { experimentKey, metricName: 'loss', metricValue: step, step },
        });
      for (let step = 0; step < 20; step++) expect((await log(step)).statusCode).toBe(200);
      expect(expectRateLimited(await log(20), 'comet', 'points', 20, 2)).toBe(1);
      expect(await storedPoints(experimentKey, 'loss')).toBe(20);
      // The admin key's bucket is untouched; a second later the key has ten points again.
      expect((await log(20, t.adminKey)).statusCode).toBe(200);
      clock.advance(1000);
      for (let step = 21; step < 31; step++) expect((await log(step)).statusCode).toBe(200);
      expectRateLimited(await log(31), 'comet', 'points', 20, 2);
      expect(await storedPoints(experimentKey, 'loss')).toBe(31);
    });

    it('MLflow: a log-batch larger than the burst goes in whole and leaves the key waiting its points out', async () => {
      const key = await newKey(t, 'mlflow points');
      const runId = await newExperiment(t);
      const metrics = Array.from({ length: 30 }, (_, step) => ({ key: 'acc', value: step, timestamp: 1, step }));
      const batch = await t.request('POST', `${MLFLOW}/runs/log-batch`, {
        key: `Bearer ${key}`,
        body: { run_id: runId, metrics },
      });
      expect(batch.statusCode, batch.body).toBe(200);
      // 30 taken from 20: ten points in debt, so one more point waits (10 + 1) / 10 s, rounded up.
      const one = { run_id: runId, key: 'acc', value: 1, timestamp: 1, step: 30 };
      const refused = await t.request('POST', `${MLFLOW}/runs/log-metric`, { key: `Bearer ${key}`, body: one });
      expect(expectRateLimited(refused, 'mlflow', 'points', 20, 2)).toBe(2);
      expect(refused.headers.ratelimit).toBe('"points";r=0;t=3');
      expect(await storedPoints(runId, 'acc')).toBe(30);
      clock.advance(2000);
      expect(
        (await t.request('POST', `${MLFLOW}/runs/log-metric`, { key: `Bearer ${key}`, body: one })).statusCode,
      ).toBe(200);
    });

    it('Cairn bulk and the Comet clientlib batch count every point of the request', async () => {
      const key = await newKey(t, 'bulk points');
      const experimentKey = await newExperiment(t);
      const bulk = (name: string, count: number) =>
        t.request('POST', `${CAIRN}/experiments/${experimentKey}/metrics`, {
          key: `Bearer ${key}`,
          body: { series: [{ name, values: Array.from({ length: count }, (_, i) => i) }] },
        });
      expect((await bulk('a', 15)).statusCode).toBe(200);
      // Five points left, ten asked for: refused, and the five are still there.
      expectRateLimited(await bulk('b', 10), 'cairn', 'points', 20, 2, 5);
      expect(await storedPoints(experimentKey, 'b')).toBe(0);

      const batch = await t.request('POST', `/clientlib/batch/logger/experiment/metric`, {
        key,
        body: {
          experimentKey,
          values: Array.from({ length: 10 }, (_, step) => ({ metricName: 'c', metricValue: step, step })),
        },
      });
      expectRateLimited(batch, 'comet', 'points', 20, 2, 5);
      expect(await storedPoints(experimentKey, 'c')).toBe(0);
      clock.advance(1000);
      expect((await bulk('b', 10)).statusCode).toBe(200);
      expect(await storedPoints(experimentKey, 'b')).toBe(10);
    });
  });

  describe('413 for bodies and uploads over the limits', () => {
    let t: TestContext;
    beforeAll(async () => {
      // JSON bodies up to 4 KiB; uploads up to the test core's asset limit, 1 MiB.
      t = await createTestContext(backend, { config: { bodyLimitBytes: 4096 } });
    });
    afterAll(async () => {
      await t?.close();
    });

    const big = JSON.stringify({ padding: 'x'.repeat(5000) });
    const bodies: [Facade, string][] = [
      ['comet', `${V2}/write/experiment/metric`],
      ['comet', '/clientlib/batch/logger/experiment/metric'],
      ['cairn', `${CAIRN}/experiments/${'0'.repeat(32)}/metrics`],
      ['mlflow', `${MLFLOW}/runs/log-batch`],
      ['mlflow', '/ajax-api/2.0/mlflow/runs/log-batch'],
      [
        'foundry',
        `${MODELS}/ri.models.main.model.00000000-0000-0000-0000-000000000000/experiments/search?preview=true`,
      ],
    ];

    it.each(bodies)('answers a JSON body over the body limit with 413 in the %s format (%s)', async (facade, url) => {
      const response = await t.request('POST', url, {
        key: `Bearer ${t.adminKey}`,
        payload: big,
        headers: { 'content-type': 'application/json' },
      });
      expectRefused(response, facade, 413);
    });

    it('answers uploads over the asset limit with 413 in each facade format and stores nothing', async () => {
      const { key, root } = await newRun(t);
      const tooBig = Buffer.alloc(1024 * 1024 + 1, 3);
      const principal = await t.core.auth.authenticate(t.adminKey);

      const form = await multipart([['file', tooBig, 'big.bin']]);
      const comet = await t.request(
        'POST',
        `${V2}/write/experiment/upload-asset?experimentKey=${key}&fileName=big.bin`,
        form,
      );
      expectRefused(comet, 'comet', 413);
      const clientlib = await t.request(
        'POST',
        `/clientlib/asset/upload?experimentId=${key}&fileName=big.bin`,
        await multipart([['file', tooBig, 'big.bin']]),
      );
      expectRefused(clientlib, 'comet', 413);
      const cairn = await t.request('POST', `${CAIRN}/experiments/${key}/assets`, {
        key: `Bearer ${t.adminKey}`,
        ...(await multipart([['file', tooBig, 'big.bin']])),
      });
      expectRefused(cairn, 'cairn', 413);
      const artifacts = await t.request('PUT', `${ARTIFACTS}/${root}/big.bin`, {
        payload: tooBig,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expectRefused(artifacts, 'mlflow', 413);
      const uiUpload = await t.request('POST', `/ajax-api/2.0/mlflow/upload-artifact?run_uuid=${key}&path=big.bin`, {
        payload: tooBig,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expectRefused(uiUpload, 'mlflow', 413);
      expect(await t.core.assets.list(principal, key)).toEqual([]);
    });
  });

  describe('concurrent uploads', () => {
    let t: TestContext;
    beforeAll(async () => {
      t = await createTestContext(backend, { config: { maxConcurrentUploadsPerKey: 1, maxConcurrentUploads: 2 } });
    });
    afterAll(async () => {
      await t?.close();
    });

    /** An upload whose body the test releases; `started` once the server reads it. */
    function heldUpload(url: string, key: string, bytes: Buffer, headers: Record<string, string>) {
      let markStarted: () => void = () => {};
      const started = new Promise<void>((resolve) => {
        markStarted = resolve;
      });
      const stream = new Readable({ read: () => markStarted() });
      const response = t.app.inject({
        method: url.includes('mlflow-artifacts') ? 'PUT' : 'POST',
        url,
        headers: { authorization: key, 'content-length': String(bytes.length), ...headers },
        payload: stream,
      });
      return {
        started,
        response,
        release() {
          stream.push(bytes);
          stream.push(null);
        },
      };
    }

    it('refuses a second upload of the same key with 429 and Retry-After, in each facade format', async () => {
      const { key, root } = await newRun(t);
      const first = await multipart([['file', Buffer.alloc(1000, 1), 'one.bin']]);
      const held = heldUpload(
        `${V2}/write/experiment/upload-asset?experimentKey=${key}&fileName=one.bin`,
        t.adminKey,
        first.payload,
        first.headers,
      );
      await held.started;

      const second = async (url: string, method: 'POST' | 'PUT', key_: string) => {
        const form = await multipart([['file', Buffer.alloc(10, 2), 'two.bin']]);
        return method === 'PUT'
          ? t.request('PUT', url, {
              key: key_,
              payload: Buffer.alloc(10, 2),
              headers: { 'content-type': 'text/plain' },
            })
          : t.request('POST', url, { key: key_, ...form });
      };
      const comet = await second(
        `${V2}/write/experiment/upload-asset?experimentKey=${key}&fileName=two.bin`,
        'POST',
        t.adminKey,
      );
      expectRefused(comet, 'comet', 429);
      expect(comet.headers['retry-after']).toBe('1');
      const cairn = await second(`${CAIRN}/experiments/${key}/assets`, 'POST', `Bearer ${t.adminKey}`);
      expectRefused(cairn, 'cairn', 429);
      const mlflow = await second(`${ARTIFACTS}/${root}/two.bin`, 'PUT', t.adminKey);
      expectRefused(mlflow, 'mlflow', 429);
      expect(mlflow.headers['retry-after']).toBe('1');

      // Another key may upload (the server allows two at once); a third key is refused then.
      const bob = await newKey(t, 'uploader');
      const otherHeld = heldUpload(`${CAIRN}/experiments/${key}/assets`, `Bearer ${bob}`, first.payload, first.headers);
      await otherHeld.started;
      const third = await second(`${CAIRN}/experiments/${key}/assets`, 'POST', `Bearer ${await newKey(t, 'third')}`);
      expectRefused(third, 'cairn', 429);

      held.release();
      otherHeld.release();
      const heldAnswer = await held.response;
      expect(heldAnswer.statusCode, heldAnswer.body).toBe(200);
      const otherAnswer = await otherHeld.response;
      expect(otherAnswer.statusCode, otherAnswer.body).toBe(201);
      // Slots are given back: the refused upload goes in now.
      expect(
        (await second(`${V2}/write/experiment/upload-asset?experimentKey=${key}&fileName=two.bin`, 'POST', t.adminKey))
          .statusCode,
      ).toBe(200);
      const principal = await t.core.auth.authenticate(t.adminKey);
      const names = (await t.core.assets.list(principal, key)).map((a) => a.fileName).sort();
      expect(names).toEqual(['one.bin', 'one.bin', 'two.bin']);
    });
  });

  describe('workspace storage quota', () => {
    let t: TestContext;
    beforeAll(async () => {
      t = await createTestContext(backend, { workspaceQuotaBytes: 3000 });
    });
    afterAll(async () => {
      await t?.close();
    });

    const cometUpload = async (key: string, name: string, bytes: number, as?: string) =>
      t.request('POST', `${V2}/write/experiment/upload-asset?experimentKey=${key}&fileName=${name}`, {
        ...(as ? { key: as } : {}),
        ...(await multipart([['file', Buffer.alloc(bytes, 5), name]])),
      });

    it('refuses uploads beyond the quota with 507 in each facade format, storing nothing, until space is freed', async () => {
      const { key, root } = await newRun(t);
      const principal = await t.core.auth.authenticate(t.adminKey);
      const { workspaceId } = (await t.core.experiments.get(principal, key)).experiment;
      const first = await cometUpload(key, 'first.bin', 2000);
      expect(first.statusCode, first.body).toBe(200);

      expectRefused(await cometUpload(key, 'over.bin', 1500), 'comet', 507);
      const cairn = await t.request('POST', `${CAIRN}/experiments/${key}/assets`, {
        key: `Bearer ${t.adminKey}`,
        ...(await multipart([['file', Buffer.alloc(1500, 5), 'over.bin']])),
      });
      expectRefused(cairn, 'cairn', 507);
      expect(cairn.json().title).toBe('Insufficient Storage');
      const mlflow = await t.request('PUT', `${ARTIFACTS}/${root}/over.bin`, {
        payload: Buffer.alloc(1500, 5),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expectRefused(mlflow, 'mlflow', 507);
      expect((await t.core.assets.list(principal, key)).map((a) => a.fileName)).toEqual(['first.bin']);
      expect(await t.store.assets.workspaceBytes(workspaceId)).toBe(2000);

      // What still fits goes in; another tenant's workspace has a quota of its own.
      expect((await cometUpload(key, 'small.bin', 1000)).statusCode).toBe(200);
      expectRefused(await cometUpload(key, 'one-more.bin', 1), 'comet', 507);
      const bob = await t.core.auth.authenticate(t.otherKey);
      const bobs = (await t.core.experiments.create(bob, { workspaceName: 'bob', projectName: 'quota' })).experiment.id;
      expect((await cometUpload(bobs, 'theirs.bin', 2500, t.otherKey)).statusCode).toBe(200);

      // Deleting frees the room at once.
      const assets = await t.core.assets.list(principal, key);
      await t.core.assets.delete(principal, key, (assets[0] as { id: string }).id);
      expect(await t.store.assets.workspaceBytes(workspaceId)).toBe(1000);
      expect((await cometUpload(key, 'over.bin', 1500)).statusCode).toBe(200);
      expect(await t.store.assets.workspaceBytes(workspaceId)).toBe(2500);
    });

    it('counts uploads that each fitted when they began: the one that commits over the quota is refused', async () => {
      const { key } = await newRun(t);
      const principal = await t.core.auth.authenticate(t.adminKey);
      const { workspaceId } = (await t.core.experiments.get(principal, key)).experiment;
      const room = 3000 - (await t.store.assets.workspaceBytes(workspaceId));
      const size = Math.ceil(room * 0.75);
      const held = await Promise.all(
        ['a.bin', 'b.bin'].map(async (name) => {
          const form = await multipart([['file', Buffer.alloc(size, 6), name]]);
          let started: () => void = () => {};
          const reading = new Promise<void>((resolve) => {
            started = resolve;
          });
          const stream = new Readable({ read: () => started() });
          const response = t.app.inject({
            method: 'POST',
            url: `${CAIRN}/experiments/${key}/assets`,
            headers: {
              authorization: `Bearer ${t.adminKey}`,
              ...form.headers,
              'content-length': String(form.payload.length),
            },
            payload: stream,
          });
          const release = () => {
            stream.push(form.payload);
            stream.push(null);
          };
          return { reading, response, release };
        }),
      );
      await Promise.all(held.map((h) => h.reading));
      for (const h of held) h.release();
      const statuses = (await Promise.all(held.map((h) => h.response))).map((r) => r.statusCode).sort();
      expect(statuses).toEqual([201, 507]);
      expect((await t.core.assets.list(principal, key)).length).toBe(1);
      expect(await t.store.assets.workspaceBytes(workspaceId)).toBeLessThanOrEqual(3000);
    });
  });
});
