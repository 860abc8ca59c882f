import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_KEY, backends, createTestContext, type TestContext } from './support/test-context.js';

/** The HTTP edge (issue #13): security headers, CORS, 5xx bodies without internals, keys kept out of logs. */

const API_CSP = "default-src 'none';frame-ancestors 'self'";
const UI_CSP_START = "default-src 'self'; script-src 'self'";

/** Collects the JSON lines a logger writes. */
class LogCapture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
  lines(): Record<string, unknown>[] {
    return this.text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  }
}

function expectCommonHeaders(response: LightMyRequestResponse, what: string): void {
  expect(response.headers['x-content-type-options'], what).toBe('nosniff');
  expect(response.headers['referrer-policy'], what).toBe('same-origin');
  expect(response.headers['x-frame-options'], what).toMatch(/^(SAMEORIGIN|DENY)$/);
  expect(response.headers['content-security-policy'], what).toMatch(/frame-ancestors '(self|none)'/);
  expect(response.headers['strict-transport-security'], what).toBeUndefined();
  expect(response.headers['access-control-allow-origin'], what).toBeUndefined();
}

describe.each(backends)('HTTP hardening (%s)', (backend) => {
  let t: TestContext;
  let dir: string;
  const log = new LogCapture();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-edge-'));
    const web = join(dir, 'dist');
    await mkdir(join(web, 'assets'), { recursive: true });
    await writeFile(join(web, 'index.html'), '<!doctype html><title>Cairn</title>');
    t = await createTestContext(backend, {
      config: { webDir: web },
      logger: { level: 'trace', stream: log },
    });
    // A route that logs what a careless debugging line would: the request's headers and body.
    t.app.post('/test/log-everything', async (request) => {
      request.log.info({ headers: request.headers, body: request.body }, 'what came in');
      request.log.info({ request: { headers: request.headers, body: request.body } }, 'nested');
      return { ok: true };
    });
    t.app.get('/test/boom', async () => {
      throw new Error('ENOENT: open /var/lib/cairn/secret-path/cairn.db (SQLITE_CANTOPEN select * from api_keys)');
    });
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  describe('security headers', () => {
    it('are on every answer: API success and errors of every facade, 404s, the health check and the web UI', async () => {
      const cases: [string, LightMyRequestResponse][] = [
        ['cairn 200', await t.request('GET', '/api/cairn/v1/me')],
        ['cairn 401', await t.request('GET', '/api/cairn/v1/me', { key: null })],
        ['cairn 404', await t.request('GET', '/api/cairn/v1/nowhere')],
        ['comet 200', await t.request('GET', '/api/rest/v2/workspaces')],
        ['comet 400', await t.request('GET', '/api/rest/v2/experiment/metrics/summary')],
        ['clientlib 401', await t.request('POST', '/clientlib/logger/add/run', { key: null, body: {} })],
        ['mlflow 404', await t.request('GET', '/api/2.0/mlflow/experiments/get?experiment_id=999999')],
        ['mlflow artifacts', await t.request('GET', '/api/2.0/mlflow-artifacts/artifacts')],
        ['foundry 404', await t.request('GET', '/api/v2/models/ri.models.main.model.nope?preview=true')],
        ['root 404', await t.request('POST', '/nowhere')],
        ['healthz', await t.request('GET', '/healthz')],
        ['root 500', await t.request('GET', '/test/boom')],
        ['web ui', await t.request('GET', '/experiments/abc')],
      ];
      for (const [what, response] of cases) expectCommonHeaders(response, what);
      const byName = new Map(cases);
      expect(byName.get('cairn 200')?.statusCode).toBe(200);
      expect(byName.get('cairn 200')?.headers['content-security-policy']).toBe(API_CSP);
      expect(byName.get('foundry 404')?.headers['content-security-policy']).toBe(API_CSP);
      expect(byName.get('root 404')?.statusCode).toBe(404);
      // The web UI keeps its own policy: its scripts and styles from itself, framed by nobody.
      expect(byName.get('web ui')?.headers['content-security-policy']).toMatch(new RegExp(`^${UI_CSP_START}`));
      expect(byName.get('web ui')?.headers['x-frame-options']).toBe('DENY');
    });

    it('leave the sandboxed html document its own policy', async () => {
      const created = await t.request('POST', '/api/rest/v2/write/experiment/create', {
        body: { workspaceName: 'default', projectName: 'edge' },
      });
      const key = created.json().experimentKey;
      const put = await t.request('PUT', `/api/cairn/v1/experiments/${key}/documents/html`, {
        body: { content: '<p>hi</p>' },
      });
      expect(put.statusCode, put.body).toBe(204);
      const raw = await t.request('GET', `/api/cairn/v1/experiments/${key}/documents/html/raw`);
      expect(raw.statusCode).toBe(200);
      expect(raw.headers['content-security-policy']).toBe(
        "sandbox allow-scripts allow-popups allow-forms; frame-ancestors 'self'",
      );
      expect(raw.headers['x-content-type-options']).toBe('nosniff');
    });

    it('include HSTS only when the public URL is https', async () => {
      const secure = await createTestContext(backend, { config: { publicUrl: 'https://cairn.example' } });
      try {
        for (const url of ['/api/cairn/v1/me', '/api/rest/v2/nowhere', '/healthz']) {
          const response = await secure.request('GET', url);
          expect(response.headers['strict-transport-security'], url).toBe('max-age=31536000');
        }
      } finally {
        await secure.close();
      }
    });
  });

  describe('CORS', () => {
    const preflight = (ctx: TestContext, origin: string) =>
      ctx.app.inject({
        method: 'OPTIONS',
        url: '/api/cairn/v1/projects',
        headers: {
          origin,
          'access-control-request-method': 'DELETE',
          'access-control-request-headers': 'authorization, content-type',
        },
      });

    it('is off unless origins are configured: no Access-Control-Allow-Origin, preflights not answered', async () => {
      const response = await t.request('GET', '/api/cairn/v1/me', { headers: { origin: 'https://evil.example' } });
      expect(response.statusCode).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      const options = await preflight(t, 'https://evil.example');
      expect(options.headers['access-control-allow-origin']).toBeUndefined();
      expect(options.headers['access-control-allow-methods']).toBeUndefined();
    });

    it('answers preflights and requests of the listed origins only', async () => {
      const allowed = 'https://notebooks.example';
      const ctx = await createTestContext(backend, {
        config: { corsOrigins: [allowed, 'http://localhost:5173'] },
      });
      try {
        const ok = await preflight(ctx, allowed);
        expect(ok.statusCode).toBe(204);
        expect(ok.headers['access-control-allow-origin']).toBe(allowed);
        expect(ok.headers['access-control-allow-methods']).toContain('DELETE');
        expect(ok.headers['access-control-allow-headers']).toBe('authorization, content-type');
        expect(ok.headers['access-control-allow-credentials']).toBeUndefined();
        expect(ok.headers['access-control-max-age']).toBe('600');
        expectCommonHeaders(
          { ...ok, headers: { ...ok.headers, 'access-control-allow-origin': undefined } },
          'preflight',
        );

        // Without Access-Control-Allow-Origin naming it, a browser refuses the page the request.
        const foreign = await preflight(ctx, 'https://evil.example');
        expect(foreign.headers['access-control-allow-origin']).toBeUndefined();

        const simple = await ctx.request('GET', '/api/cairn/v1/me', { headers: { origin: allowed } });
        expect(simple.statusCode).toBe(200);
        expect(simple.headers['access-control-allow-origin']).toBe(allowed);
        expect(simple.headers.vary).toContain('Origin');
        expect(simple.headers['access-control-expose-headers']).toContain('x-request-id');
        const mlflow = await ctx.request('GET', '/api/2.0/mlflow/experiments/search?max_results=1', {
          headers: { origin: 'http://localhost:5173' },
        });
        expect(mlflow.headers['access-control-allow-origin']).toBe('http://localhost:5173');

        const other = await ctx.request('GET', '/api/cairn/v1/me', { headers: { origin: 'https://evil.example' } });
        expect(other.statusCode).toBe(200);
        expect(other.headers['access-control-allow-origin']).toBeUndefined();
      } finally {
        await ctx.close();
      }
    });
  });

  describe('5xx bodies', () => {
    const INTERNAL =
      'relation "api_keys" does not exist at /srv/cairn/node_modules/pg/lib/client.js:545 SELECT key_hash';

    it('say nothing of the cause on any facade, only the request id; the log keeps the cause', async () => {
      // A key nobody presented yet, so its lookup reaches the store (the principal cache is empty for it).
      const { secret } = await t.core.auth.createKey('admin', 'fault', ['read', 'write', 'admin']);
      vi.spyOn(t.store.tenancy, 'getApiKeyByHash').mockRejectedValue(new Error(INTERNAL));
      const calls: [string, () => Promise<LightMyRequestResponse>][] = [
        ['cairn', () => t.request('GET', '/api/cairn/v1/me', { key: secret })],
        ['comet', () => t.request('GET', '/api/rest/v2/workspaces', { key: secret })],
        ['clientlib', () => t.request('POST', '/clientlib/logger/add/run', { key: null, body: { apiKey: secret } })],
        ['mlflow', () => t.request('GET', '/api/2.0/mlflow/experiments/search', { key: `Bearer ${secret}` })],
        [
          'mlflow-artifacts',
          () => t.request('GET', '/api/2.0/mlflow-artifacts/artifacts', { key: `Bearer ${secret}` }),
        ],
        [
          'foundry',
          () => t.request('GET', '/api/v2/models/ri.models.main.model.x?preview=true', { key: `Bearer ${secret}` }),
        ],
        ['root', () => t.request('GET', '/test/boom')],
      ];
      for (const [facade, call] of calls) {
        const before = log.text.length;
        const response = await call();
        const id = response.headers['x-request-id'] as string;
        expect({ facade, status: response.statusCode }).toEqual({ facade, status: 500 });
        expect(response.body, facade).toContain(id);
        for (const internal of ['api_keys', 'node_modules', 'SELECT', 'client.js', 'secret-path', 'SQLITE', '/srv/']) {
          expect(response.body, `${facade}: ${response.body}`).not.toContain(internal);
        }
        expect(response.body, facade).not.toMatch(/at .*\(.*:\d+:\d+\)/);
        const logged = log.text.slice(before);
        expect(logged, facade).toContain(id);
        expect(logged, facade).toMatch(/api_keys|secret-path/);
        expect(logged, facade).toContain('"stack"');
      }
    });

    it('keep each facade its own error shape', async () => {
      vi.spyOn(t.store.tenancy, 'getApiKeyByHash').mockRejectedValue(new Error(INTERNAL));
      const { secret } = await t.core.auth.createKey('admin', 'shape', ['read', 'write', 'admin']);
      const cairn = await t.request('GET', '/api/cairn/v1/me', { key: secret });
      expect(cairn.headers['content-type']).toContain('application/problem+json');
      expect(cairn.json()).toEqual({
        type: 'about:blank',
        title: 'Internal Server Error',
        status: 500,
        detail: `internal server error (request ${cairn.headers['x-request-id']})`,
        instance: cairn.headers['x-request-id'],
      });
      const comet = await t.request('GET', '/api/rest/v2/workspaces', { key: secret });
      expect(comet.json()).toEqual({
        msg: `internal server error (request ${comet.headers['x-request-id']})`,
        code: 500,
        sdk_error_code: 0,
        data: null,
      });
      const mlflow = await t.request('GET', '/api/2.0/mlflow/experiments/search', { key: `Bearer ${secret}` });
      expect(mlflow.json()).toEqual({
        error_code: 'INTERNAL_ERROR',
        message: `internal server error (request ${mlflow.headers['x-request-id']})`,
      });
      const foundry = await t.request('GET', '/api/v2/models/ri.models.main.model.x?preview=true', {
        key: `Bearer ${secret}`,
      });
      expect(foundry.json()).toEqual({
        errorCode: 'INTERNAL',
        errorName: 'Default:Internal',
        errorInstanceId: foundry.headers['x-request-id'],
        parameters: {},
      });
    });
  });

  describe('the log', () => {
    it('never holds a key, wherever a client put it', async () => {
      const key = ADMIN_KEY;
      const before = log.text.length;
      const basic = Buffer.from(`admin:${key}`).toString('base64');
      const responses = [
        await t.request('GET', '/api/cairn/v1/me', { key: `Bearer ${key}` }),
        await t.request('GET', '/api/rest/v2/workspaces', { key }),
        await t.request('GET', '/api/rest/v2/workspaces', { key: null, headers: { 'comet-sdk-api': key } }),
        await t.request('GET', '/api/2.0/mlflow/experiments/search?max_results=1', { key: `Basic ${basic}` }),
        await t.request('GET', '/api/v2/models/ri.models.main.model.x?preview=true', { key: `Bearer ${key}` }),
        await t.request('POST', '/clientlib/logger/add/run', {
          key: null,
          body: { apiKey: key, projectName: 'p', workspaceName: 'default', local_timestamp: 1, offline: false },
        }),
        await t.request('POST', '/clientlib/notification/experiment', { key: null, body: { api_key: key } }),
        await t.request('GET', `/clientlib/rpc/get-pending-rpcs?apiKey=${key}&experimentKey=nope`, { key: null }),
        // Unparsable JSON: parsers quote the text they failed on in their messages.
        await t.request('POST', '/clientlib/logger/add/run', {
          key: null,
          headers: { 'content-type': 'application/json' },
          payload: `{"apiKey":"${key}",`,
        }),
        await t.request('GET', '/api/cairn/v1/me', { key: null, headers: { cookie: `cairn_session=${key}` } }),
        await t.request('POST', '/test/log-everything', {
          key: `Bearer ${key}`,
          headers: { 'x-api-key': key, cookie: `cairn_session=${key}`, 'user-agent': 'edge-test/1' },
          body: { apiKey: key, api_key: key, keep: 'visible' },
        }),
      ];
      expect(responses[0]?.statusCode).toBe(200);
      expect(responses[3]?.statusCode).toBe(200);
      const logged = log.text.slice(before);
      // The capture works: the lines are there, with what is not secret.
      expect(logged).toContain('/clientlib/rpc/get-pending-rpcs?apiKey=[redacted]');
      expect(logged).toContain('edge-test/1');
      expect(logged).toContain('visible');
      const careless = log.lines().filter((line) => line.msg === 'what came in');
      expect(careless.at(-1)).toMatchObject({
        headers: { authorization: '[redacted]', cookie: '[redacted]', 'x-api-key': '[redacted]' },
        body: { apiKey: '[redacted]', api_key: '[redacted]', keep: 'visible' },
      });
      expect(
        log
          .lines()
          .filter((line) => line.msg === 'nested')
          .at(-1),
      ).toMatchObject({
        request: { headers: { authorization: '[redacted]' }, body: { apiKey: '[redacted]' } },
      });
      expect(logged).not.toContain(key);
      expect(logged).not.toContain(basic);
    });
  });
});
