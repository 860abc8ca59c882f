import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, createTestContext, type TestContext } from './support/test-context.js';

/** The web UI's build served at `/` beside the APIs (http/web-app.ts), on a build made up here. */

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-3f2a1b.js"></script></head></html>';
const SCRIPT = 'console.log("cairn web app");\n'.repeat(50);
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; font-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; " +
  "form-action 'self'; frame-ancestors 'none'";

function expectAppHeaders(response: LightMyRequestResponse): void {
  expect(response.headers['content-security-policy']).toBe(CSP);
  expect(response.headers['x-content-type-options']).toBe('nosniff');
  expect(response.headers['x-frame-options']).toBe('DENY');
  expect(response.headers['referrer-policy']).toBe('same-origin');
}

describe('the web app', () => {
  let dir: string;
  let t: TestContext;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-web-'));
    const web = join(dir, 'dist');
    await mkdir(join(web, 'assets'), { recursive: true });
    await writeFile(join(web, 'index.html'), INDEX);
    await writeFile(join(web, 'assets', 'app-3f2a1b.js'), SCRIPT);
    await writeFile(join(web, 'assets', 'app-3f2a1b.js.br'), brotliCompressSync(SCRIPT));
    await writeFile(join(web, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(web, '.env'), 'SECRET=1');
    await writeFile(join(dir, 'outside.txt'), 'outside the build');
    t = await createTestContext('sqlite', { config: { webDir: web } });
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  it('serves index.html at / and for deep links, revalidated on every load, with the security headers', async () => {
    for (const url of ['/', '/index.html', '/workspaces/default/projects/vision', '/experiments/abc?tab=html']) {
      const response = await get(url);
      expect({ url, status: response.statusCode }).toEqual({ url, status: 200 });
      expect(response.body).toBe(INDEX);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-cache');
      expectAppHeaders(response);
    }
    const head = await t.app.inject({ method: 'HEAD', url: '/projects' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
  });

  it('serves hashed assets as immutable and other files with a short cache, brotli when taken', async () => {
    const plain = await get('/assets/app-3f2a1b.js');
    expect(plain.statusCode).toBe(200);
    expect(plain.body).toBe(SCRIPT);
    expect(plain.headers['content-type']).toMatch(/^(text|application)\/javascript/);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expectAppHeaders(plain);

    const br = await get('/assets/app-3f2a1b.js', { 'accept-encoding': 'br, gzip' });
    expect(br.statusCode).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/^(text|application)\/javascript/);
    expect(br.headers.vary).toContain('accept-encoding');
    expect(br.rawPayload.equals(brotliCompressSync(SCRIPT))).toBe(true);
    // gzip is asked for but this build has no .gz: the plain file.
    expect((await get('/assets/app-3f2a1b.js', { 'accept-encoding': 'gzip' })).body).toBe(SCRIPT);

    const icon = await get('/favicon.svg');
    expect(icon.statusCode).toBe(200);
    expect(icon.headers['content-type']).toContain('image/svg+xml');
    expect(icon.headers['cache-control']).toBe('public, max-age=3600');
  });

  it('answers 404 for an asset of another build, and never serves dot-files or files outside the build', async () => {
    const gone = await get('/assets/app-000000.js');
    expect(gone.statusCode).toBe(404);
    expect(gone.body).not.toContain('<html');
    for (const url of ['/.env', '/../outside.txt', '/%2e%2e/outside.txt', '/assets/..%2f..%2foutside.txt']) {
      const response = await get(url);
      expect(response.body, url).not.toContain('SECRET');
      expect(response.body, url).not.toContain('outside the build');
    }
  });

  it('leaves the APIs their own 404s and the health check alone', async () => {
    const cairn = await get('/api/cairn/v1/no-such-thing', { authorization: `Bearer ${ADMIN_KEY}` });
    expect(cairn.statusCode).toBe(404);
    expect(cairn.headers['content-type']).toContain('application/problem+json');
    expect(cairn.json().detail).toBe('no Cairn API endpoint GET /api/cairn/v1/no-such-thing');
    // The API's own policy (security-headers.ts), not the web app's.
    expect(cairn.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'self'");
    const comet = await get('/api/rest/v2/no-such-thing', { authorization: ADMIN_KEY });
    expect(comet.statusCode).toBe(404);
    expect(comet.body).toContain('no Comet REST endpoint');
    const clientlib = await get('/clientlib/no-such-thing', { authorization: ADMIN_KEY });
    expect(clientlib.statusCode).toBe(404);
    expect(clientlib.body).toContain('no Comet clientlib endpoint');
    const foundry = await get('/api/v2/no-such-thing', { authorization: `Bearer ${ADMIN_KEY}` });
    expect(foundry.statusCode).toBe(404);
    expect(foundry.json().errorName).toBe('Default:NotFound');
    // Each API answers unknown paths under its own prefix, whatever the others check.
    const mlflow = await get('/api/2.0/mlflow/no-such-thing', { authorization: `Bearer ${ADMIN_KEY}` });
    expect(mlflow.statusCode).toBe(404);
    expect(mlflow.json()).toEqual({ error_code: 'ENDPOINT_NOT_FOUND', message: 'Not found' });
    const elsewhere = await get('/api/no-such-thing', { authorization: `Bearer ${ADMIN_KEY}` });
    expect(elsewhere.statusCode).toBe(404);
    expect(elsewhere.body).not.toContain('ApiFeaturePreviewUsageOnly');
    for (const url of ['/api', '/clientlib']) {
      const response = await get(url);
      expect(response.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(response.body, url).not.toBe(INDEX);
    }
    const health = await get('/healthz');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const post = await t.app.inject({ method: 'POST', url: '/projects', payload: {} });
    expect(post.statusCode).toBe(404);
    expect(post.body).not.toBe(INDEX);
  });

  it('answers 503 with how to build when there is no build', async () => {
    const empty = await createTestContext('sqlite', { config: { webDir: join(dir, 'not-built') } });
    try {
      for (const url of ['/', '/workspaces/default']) {
        const response = await empty.app.inject({ method: 'GET', url });
        expect({ url, status: response.statusCode }).toEqual({ url, status: 503 });
        expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(response.body).toContain('npm run build');
        expectAppHeaders(response);
      }
      const api = await empty.app.inject({
        method: 'GET',
        url: '/api/cairn/v1/me',
        headers: { authorization: ADMIN_KEY },
      });
      expect(api.statusCode).toBe(200);
    } finally {
      await empty.close();
    }
  });
});
