import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES } from '../src/core/entities.js';
import { SIGN_IN_TOKEN_TTL_MILLIS } from '../src/core/sessions.service.js';
import { buildApp } from '../src/http/app.js';
import { backends, createTestContext, PUBLIC_URL, type TestContext } from './support/test-context.js';

const API = '/api/cairn/v1';
const TTL_MILLIS = 60 * 60 * 1000;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The Set-Cookie header of a response, split into its value and attributes. */
function setCookie(response: LightMyRequestResponse) {
  const header = response.headers['set-cookie'];
  const text = Array.isArray(header) ? header.join('\n') : (header ?? '');
  const [pair = '', ...attributes] = text.split(/;\s*/);
  const [name, value] = pair.split('=');
  return { text, name, value: value ?? '', attributes };
}

describe.each(backends)('Cairn API: browser sessions and the caller’s keys (%s)', (backend) => {
  let t: TestContext;
  /** The core's clock: tests move it to expire sessions and sign-in links. */
  let now = Date.UTC(2026, 0, 5);
  beforeAll(async () => {
    t = await createTestContext(backend, { clock: { now: () => now }, sessionTtlMillis: TTL_MILLIS });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A request with the session cookie (and the CSRF token when given), no Authorization. */
  const withCookie = (
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    path: string,
    secret: string,
    options: { csrf?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) =>
    t.request(method, `${API}${path}`, {
      key: null,
      headers: {
        cookie: `cairn_session=${secret}`,
        ...(options.csrf === undefined ? {} : { 'x-csrf-token': options.csrf }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: options.body }),
    });

  const signIn = async (credentials: { apiKey: string } | { signInToken: string }) => {
    const response = await t.request('POST', `${API}/sessions`, { key: null, body: credentials });
    expect(response.statusCode, response.body).toBe(201);
    return { secret: setCookie(response).value, session: response.json(), response };
  };

  it('trades an API key for an HttpOnly, SameSite=Strict session cookie that authenticates reads', async () => {
    const { secret, session, response } = await signIn({ apiKey: t.adminKey });
    const cookie = setCookie(response);
    expect(cookie.name).toBe('cairn_session');
    expect(cookie.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cookie.attributes.sort()).toEqual(
      ['HttpOnly', `Max-Age=${TTL_MILLIS / 1000}`, 'Path=/', 'SameSite=Strict'].sort(),
    );
    expect(session).toEqual({
      user: { id: expect.any(String), name: 'admin', email: null, isAdmin: true },
      scopes: [...ALL_SCOPES].sort(),
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expiresAt: now + TTL_MILLIS,
    });

    const me = await withCookie('GET', '/me', secret);
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json()).toMatchObject({ user: { name: 'admin' }, defaultWorkspace: 'default' });
    const current = await withCookie('GET', '/sessions/current', secret);
    expect(current.statusCode).toBe(200);
    expect(current.json()).toEqual(session);
    // The cookie is Cairn's API's alone: the Comet facade does not take it.
    const comet = await t.request('GET', '/api/rest/v2/workspaces', {
      key: null,
      headers: { cookie: `cairn_session=${secret}` },
    });
    expect(comet.statusCode).toBe(401);
  });

  it('refuses cookie writes without the CSRF token or from a foreign origin, with 403 problem details', async () => {
    const { secret, session } = await signIn({ apiKey: t.adminKey });
    const body = { name: 'from-browser' };
    const missing = await withCookie('POST', '/workspaces', secret, { body });
    expect(missing.statusCode).toBe(403);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.json()).toMatchObject({ status: 403, title: 'Forbidden', detail: expect.stringContaining('CSRF') });
    const wrong = `${session.csrfToken.slice(0, -1)}${session.csrfToken.endsWith('A') ? 'B' : 'A'}`;
    expect((await withCookie('POST', '/workspaces', secret, { body, csrf: wrong })).statusCode).toBe(403);
    // Another session's token is no good either.
    const other = await signIn({ apiKey: t.adminKey });
    expect((await withCookie('POST', '/workspaces', secret, { body, csrf: other.session.csrfToken })).statusCode).toBe(
      403,
    );
    for (const origin of ['https://evil.example', 'null', 'http://cairn.test.evil.example']) {
      const foreign = await withCookie('POST', '/workspaces', secret, {
        body,
        csrf: session.csrfToken,
        headers: { origin },
      });
      expect({ origin, status: foreign.statusCode }).toEqual({ origin, status: 403 });
      expect(foreign.json().detail).toContain('cross-origin');
    }
    expect((await t.request('GET', `${API}/workspaces`)).json().items.map((w: { name: string }) => w.name)).toEqual([
      'default',
    ]);

    const created = await withCookie('POST', '/workspaces', secret, { body, csrf: session.csrfToken });
    expect(created.statusCode, created.body).toBe(201);
    // The public URL's origin, and the origin of the Host asked for, are the server's own.
    const own = await withCookie('POST', '/workspaces', secret, {
      body: { name: 'from-public-url' },
      csrf: session.csrfToken,
      headers: { origin: PUBLIC_URL },
    });
    expect(own.statusCode, own.body).toBe(201);
    const local = await withCookie('POST', '/workspaces', secret, {
      body: { name: 'from-localhost' },
      csrf: session.csrfToken,
      headers: { origin: 'http://localhost:5173', host: 'localhost:5173' },
    });
    expect(local.statusCode, local.body).toBe(201);
  });

  it('lets Authorization win over the cookie, without CSRF checks', async () => {
    const { secret } = await signIn({ apiKey: t.adminKey });
    const both = (method: 'GET' | 'POST', path: string, body?: unknown) =>
      t.request(method, `${API}${path}`, {
        key: `Bearer ${t.readOnlyKey}`,
        headers: { cookie: `cairn_session=${secret}` },
        ...(body === undefined ? {} : { body }),
      });
    expect((await both('GET', '/me')).json().scopes).toEqual(['read']);
    // The read-only key's scope decides (403 for the scope, not for CSRF).
    const write = await both('POST', '/workspaces', { name: 'nope' });
    expect(write.statusCode).toBe(403);
    expect(write.json().detail).toContain('"write" scope');
    // A key is not a session.
    expect((await both('GET', '/sessions/current')).statusCode).toBe(401);
    const admin = await t.request('POST', `${API}/workspaces`, {
      headers: { cookie: `cairn_session=${secret}` },
      body: { name: 'by-key' },
    });
    expect(admin.statusCode, admin.body).toBe(201);
  });

  it('signs out: the session ends at once and the cookie is cleared', async () => {
    const { secret, session } = await signIn({ apiKey: t.adminKey });
    expect((await withCookie('GET', '/me', secret)).statusCode).toBe(200);
    // Signing out is a write: it needs the token too.
    expect((await withCookie('DELETE', '/sessions/current', secret)).statusCode).toBe(403);
    const out = await withCookie('DELETE', '/sessions/current', secret, { csrf: session.csrfToken });
    expect(out.statusCode, out.body).toBe(204);
    const cleared = setCookie(out);
    expect(cleared.name).toBe('cairn_session');
    expect(cleared.value).toBe('');
    expect(cleared.attributes).toEqual(expect.arrayContaining(['Max-Age=0', 'Path=/', 'HttpOnly', 'SameSite=Strict']));
    // The principal was cached a moment ago; it must not outlive the sign-out.
    const after = await withCookie('GET', '/me', secret);
    expect(after.statusCode).toBe(401);
    expect(after.headers['content-type']).toContain('application/problem+json');
    expect((await withCookie('GET', '/sessions/current', secret)).statusCode).toBe(401);
    expect((await withCookie('DELETE', '/sessions/current', secret, { csrf: session.csrfToken })).statusCode).toBe(401);
  });

  it('ends a session at its expiry, cached or not', async () => {
    const { secret } = await signIn({ apiKey: t.adminKey });
    now += TTL_MILLIS - 1;
    // Cached now, one millisecond before the end.
    expect((await withCookie('GET', '/me', secret)).statusCode).toBe(200);
    now += 1;
    expect((await withCookie('GET', '/me', secret)).statusCode).toBe(401);
    expect((await withCookie('GET', '/sessions/current', secret)).statusCode).toBe(401);
  });

  it('ends the sessions opened with a key when the key is revoked', async () => {
    const { key, secret: apiKey } = await t.core.auth.createKey('bob', 'laptop', ['read', 'write']);
    const a = await signIn({ apiKey });
    const b = await signIn({ apiKey });
    const fromOtherKey = await signIn({ apiKey: t.otherKey });
    expect(a.session.scopes).toEqual(['read', 'write']);
    expect((await withCookie('GET', '/me', a.secret)).json().user.name).toBe('bob');
    expect((await withCookie('GET', '/me', b.secret)).statusCode).toBe(200);

    await t.core.auth.revokeKey(key.id);
    expect((await withCookie('GET', '/me', a.secret)).statusCode).toBe(401);
    expect((await withCookie('GET', '/me', b.secret)).statusCode).toBe(401);
    expect((await withCookie('GET', '/me', fromOtherKey.secret)).statusCode).toBe(200);
    // A revoked key opens no session.
    const refused = await t.request('POST', `${API}/sessions`, { key: null, body: { apiKey } });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['set-cookie']).toBeUndefined();
  });

  it('opens one session per sign-in link, with every scope, within 24 hours', async () => {
    const { token, expiresAt } = await t.core.sessions.createSignInToken('bob');
    expect(expiresAt).toBe(now + SIGN_IN_TOKEN_TTL_MILLIS);
    const { secret, session } = await signIn({ signInToken: token });
    expect(session.user.name).toBe('bob');
    expect(session.scopes).toEqual([...ALL_SCOPES].sort());
    expect((await withCookie('GET', '/me', secret)).json().user.name).toBe('bob');
    const again = await t.request('POST', `${API}/sessions`, { key: null, body: { signInToken: token } });
    expect(again.statusCode).toBe(401);
    expect(again.json().detail).toContain('sign-in link');

    const late = await t.core.sessions.createSignInToken('bob');
    now += SIGN_IN_TOKEN_TTL_MILLIS;
    const expired = await t.request('POST', `${API}/sessions`, { key: null, body: { signInToken: late.token } });
    expect(expired.statusCode).toBe(401);
    await expect(t.core.sessions.createSignInToken('nobody')).rejects.toThrow('not found');
  });

  it('refuses bad credentials (401), bad bodies (400) and foreign origins (403) when opening a session', async () => {
    const open = (body: unknown, headers: Record<string, string> = {}) =>
      t.request('POST', `${API}/sessions`, { key: null, body, headers });
    expect((await open({ apiKey: 'NoSuchKey000000000000000000000000000000' })).statusCode).toBe(401);
    expect((await open({ signInToken: 'no-such-token' })).statusCode).toBe(401);
    for (const body of [{}, { apiKey: '' }, { apiKey: t.adminKey, signInToken: 'x' }, { password: 'x' }]) {
      const response = await open(body);
      expect({ body, status: response.statusCode }).toEqual({ body, status: 400 });
    }
    const foreign = await open({ apiKey: t.adminKey }, { origin: 'https://evil.example' });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.headers['set-cookie']).toBeUndefined();
    expect((await open({ apiKey: t.adminKey }, { origin: PUBLIC_URL })).statusCode).toBe(201);
  });

  it('stores only hashes of session secrets and sign-in tokens', async () => {
    const { secret, session } = await signIn({ apiKey: t.adminKey });
    const { token } = await t.core.sessions.createSignInToken('admin');
    const sessions = await t.rows('sessions');
    const tokens = await t.rows('sign_in_tokens');
    const stored = JSON.stringify([sessions, tokens]);
    for (const plain of [secret, session.csrfToken, token]) expect(stored).not.toContain(plain);
    expect(sessions.map((row) => row.secret_hash)).toContain(sha256(secret));
    expect(tokens.map((row) => row.token_hash)).toContain(sha256(token));
  });

  it('marks the cookie Secure when the public URL is https', async () => {
    const app = await buildApp({
      core: t.core,
      config: { bodyLimitBytes: 1024 * 1024, publicUrl: 'https://cairn.example' },
    });
    try {
      const response = await app.inject({
        method: 'POST',
        url: `${API}/sessions`,
        payload: { apiKey: t.adminKey },
      });
      expect(response.statusCode).toBe(201);
      expect(setCookie(response).attributes).toContain('Secure');
      const secret = setCookie(response).value;
      const csrf = response.json().csrfToken;
      const write = (origin: string) =>
        app.inject({
          method: 'POST',
          url: `${API}/workspaces`,
          headers: { cookie: `cairn_session=${secret}`, 'x-csrf-token': csrf, origin, host: 'cairn.internal:8080' },
          payload: { name: `ws-${origin.length}` },
        });
      expect((await write('https://cairn.example')).statusCode).toBe(201);
      expect((await write('http://cairn.example')).statusCode).toBe(403);
    } finally {
      await app.close();
    }
  });

  describe('the caller’s API keys', () => {
    const bobKeys = (key = t.otherKey) =>
      t.request('GET', `${API}/me/api-keys`, { key: null, headers: { authorization: `Bearer ${key}` } });

    it('creates a key (secret shown once, usable as Bearer), lists it newest first and revokes it', async () => {
      const { secret: cookie, session } = await signIn({ apiKey: t.otherKey });
      const created = await withCookie('POST', '/me/api-keys', cookie, {
        csrf: session.csrfToken,
        body: { name: 'notebook', scopes: ['read'] },
      });
      expect(created.statusCode, created.body).toBe(201);
      const { key, secret } = created.json();
      expect(key).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        name: 'notebook',
        prefix: secret.slice(0, 6),
        scopes: ['read'],
        createdAt: now,
        lastUsedAt: null,
        revokedAt: null,
        expiresAt: null,
      });
      const me = await t.request('GET', `${API}/me`, { key: null, headers: { authorization: `Bearer ${secret}` } });
      expect(me.json()).toMatchObject({ user: { name: 'bob' }, scopes: ['read'] });

      now += 1;
      const defaults = await withCookie('POST', '/me/api-keys', cookie, {
        csrf: session.csrfToken,
        body: { name: 'defaults' },
      });
      expect(defaults.statusCode).toBe(201);
      expect(defaults.json().key.scopes).toEqual(['read', 'write']);

      const listed = await withCookie('GET', '/me/api-keys', cookie);
      expect(listed.statusCode).toBe(200);
      const names = listed.json().items.map((k: { name: string }) => k.name);
      expect(names.slice(0, 2)).toEqual(['defaults', 'notebook']);
      expect(names).toContain('test');
      expect(listed.body).not.toContain(secret);
      expect(listed.body).not.toContain(sha256(secret));
      // Only the caller's own keys.
      expect(names).not.toContain('bootstrap admin key');

      const revoked = await withCookie('DELETE', `/me/api-keys/${key.id}`, cookie, { csrf: session.csrfToken });
      expect(revoked.statusCode, revoked.body).toBe(204);
      expect(
        (await t.request('GET', `${API}/me`, { key: null, headers: { authorization: `Bearer ${secret}` } })).statusCode,
      ).toBe(401);
      const after = (await bobKeys()).json().items.find((k: { id: string }) => k.id === key.id);
      expect(after.revokedAt).toBe(now);
      // Again: nothing more to do.
      expect(
        (await withCookie('DELETE', `/me/api-keys/${key.id}`, cookie, { csrf: session.csrfToken })).statusCode,
      ).toBe(204);
    });

    it("hides other users' keys (404) and ends a session whose own key is revoked", async () => {
      const admins = (await t.request('GET', `${API}/me/api-keys`)).json().items;
      const adminKeyId = admins.find((k: { name: string }) => k.name === 'bootstrap admin key').id;
      const foreign = await t.request('DELETE', `${API}/me/api-keys/${adminKeyId}`, {
        key: null,
        headers: { authorization: `Bearer ${t.otherKey}` },
      });
      expect(foreign.statusCode).toBe(404);
      expect(foreign.headers['content-type']).toContain('application/problem+json');
      expect((await t.request('GET', `${API}/me`)).statusCode).toBe(200);
      expect(
        (
          await t.request('DELETE', `${API}/me/api-keys/0123456789abcdef0123456789abcdef`, {
            key: null,
            headers: { authorization: `Bearer ${t.otherKey}` },
          })
        ).statusCode,
      ).toBe(404);

      const { key, secret } = await t.core.auth.createKey('bob', 'browser', ['read', 'write']);
      const { secret: cookie, session } = await signIn({ apiKey: secret });
      const own = await withCookie('DELETE', `/me/api-keys/${key.id}`, cookie, { csrf: session.csrfToken });
      expect(own.statusCode).toBe(204);
      expect((await withCookie('GET', '/me', cookie)).statusCode).toBe(401);
    });

    it('never gives a key scopes its creator lacks (403); unknown scopes are 400', async () => {
      const create = (key: string, body: unknown) =>
        t.request('POST', `${API}/me/api-keys`, { key: null, headers: { authorization: `Bearer ${key}` }, body });
      for (const scopes of [['admin'], ['read', 'api:models-read']]) {
        const response = await create(t.otherKey, { name: 'more', scopes });
        expect({ scopes, status: response.statusCode }).toEqual({ scopes, status: 403 });
        expect(response.json().detail).toContain('lacks');
      }
      expect((await create(t.otherKey, { name: 'odd', scopes: ['root'] })).statusCode).toBe(400);
      expect((await create(t.otherKey, { name: 'none', scopes: [] })).statusCode).toBe(400);
      expect((await create(t.otherKey, { name: '' })).statusCode).toBe(400);
      expect((await create(t.otherKey, { name: '   ' })).statusCode).toBe(400);
      // An admin-scoped caller holds every scope.
      expect((await create(t.adminKey, { name: 'ops', scopes: ['admin'] })).statusCode).toBe(201);
      // Creating is a write: a read-only caller may only list.
      expect((await create(t.readOnlyKey, { name: 'x', scopes: ['read'] })).statusCode).toBe(403);
      const readOnly = await signIn({ apiKey: t.readOnlyKey });
      expect(readOnly.session.scopes).toEqual(['read']);
      expect((await withCookie('GET', '/me/api-keys', readOnly.secret)).statusCode).toBe(200);
      expect(
        (
          await withCookie('POST', '/me/api-keys', readOnly.secret, {
            csrf: readOnly.session.csrfToken,
            body: { name: 'escalate', scopes: ['read'] },
          })
        ).statusCode,
      ).toBe(403);
    });
  });

  it('serves a logged html document raw, sandboxed, with the cookie', async () => {
    const { secret } = await signIn({ apiKey: t.adminKey });
    const experiment = await t.request('POST', `${API}/workspaces/default/projects/html-docs/experiments`, {
      body: {},
    });
    expect(experiment.statusCode, experiment.body).toBe(201);
    const key = experiment.json().key as string;
    expect((await withCookie('GET', `/experiments/${key}/documents/html/raw`, secret)).statusCode).toBe(404);
    const html = '<h1>Report</h1><script>document.title = "ünïcode"</script>';
    const put = await t.request('PUT', `${API}/experiments/${key}/documents/html`, { body: { content: html } });
    expect(put.statusCode, put.body).toBe(204);

    const raw = await withCookie('GET', `/experiments/${key}/documents/html/raw`, secret);
    expect(raw.statusCode).toBe(200);
    expect(raw.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(raw.headers['content-security-policy']).toBe(
      "sandbox allow-scripts allow-popups allow-forms; frame-ancestors 'self'",
    );
    expect(raw.headers['x-content-type-options']).toBe('nosniff');
    expect(raw.body).toBe(html);
    const bob = await t.request('GET', `${API}/experiments/${key}/documents/html/raw`, { key: t.otherKey });
    expect(bob.statusCode).toBe(404);
  });
});
