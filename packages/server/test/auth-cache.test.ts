import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrincipalCache } from '../src/core/principal-cache.js';
import { ADMIN_KEY, createTestContext, type TestContext } from './support/test-context.js';

describe('authentication cache', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext('sqlite');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('forgets a revoked key at once and sees a new workspace at once', async () => {
    const { key, secret } = await t.core.auth.createKey('bob', 'temp', ['read', 'write']);
    expect((await t.request('GET', '/api/rest/v2/workspaces', { key: secret })).statusCode).toBe(200);
    await t.core.auth.revokeKey(key.id);
    expect((await t.request('GET', '/api/rest/v2/workspaces', { key: secret })).statusCode).toBe(401);

    expect((await t.request('GET', '/api/rest/v2/workspaces', { key: ADMIN_KEY })).json().workspaceNames).toEqual([
      'default',
    ]);
    const created = await t.request('POST', '/api/rest/v2/write/workspace/new', { body: { name: 'team' } });
    expect(created.statusCode).toBe(200);
    const project = await t.request('POST', '/api/rest/v2/write/project/create', {
      body: { workspaceName: 'team', projectName: 'p', isPublic: false },
    });
    expect(project.statusCode).toBe(200);
  });

  it('expires entries after its TTL', () => {
    let now = 0;
    const cache = new PrincipalCache({ now: () => now });
    const principal = {
      userId: 'u',
      userName: 'u',
      isAdmin: false,
      scopes: new Set<'read'>(['read']),
      workspaceIds: new Set<string>(),
      defaultWorkspaceId: null,
      credentialId: 'key:test',
    };
    cache.set('h', principal);
    now = PrincipalCache.TTL_MILLIS - 1;
    expect(cache.get('h')).toBe(principal);
    now = PrincipalCache.TTL_MILLIS;
    expect(cache.get('h')).toBeUndefined();

    // A session's entry ends with the session when that comes first; one entry can be dropped alone.
    now = 0;
    cache.set('session', principal, 100);
    cache.set('other', principal);
    now = 99;
    expect(cache.get('session')).toBe(principal);
    now = 100;
    expect(cache.get('session')).toBeUndefined();
    cache.delete('other');
    expect(cache.get('other')).toBeUndefined();
  });

  it('forgets everything when the shared security epoch moves, looking at most every check interval', async () => {
    let now = 0;
    let epoch = 7;
    let reads = 0;
    let failing = false;
    const cache = new PrincipalCache({ now: () => now }, async () => {
      reads++;
      if (failing) throw new Error('store down');
      return epoch;
    });
    const principal = {
      userId: 'u',
      userName: 'u',
      isAdmin: false,
      scopes: new Set<'read'>(['read']),
      workspaceIds: new Set<string>(),
      defaultWorkspaceId: null,
      credentialId: 'key:test',
    };
    cache.set('h', principal, Number.POSITIVE_INFINITY, await cache.refresh());
    expect(reads).toBe(1);
    // Another node revokes a key: this one notices at its next look, not before.
    epoch = 8;
    now = PrincipalCache.EPOCH_CHECK_MILLIS - 1;
    await Promise.all([cache.refresh(), cache.refresh()]);
    expect(reads).toBe(1);
    expect(cache.get('h')).toBe(principal);
    now = PrincipalCache.EPOCH_CHECK_MILLIS;
    await Promise.all([cache.refresh(), cache.refresh()]);
    expect(reads).toBe(2);
    expect(cache.get('h')).toBeUndefined();

    // A principal read before a clear is not cached after it.
    const before = await cache.refresh();
    cache.clear();
    cache.set('h', principal, Number.POSITIVE_INFINITY, before);
    expect(cache.get('h')).toBeUndefined();

    // An epoch that cannot be read trusts nothing cached.
    cache.set('h', principal, Number.POSITIVE_INFINITY, await cache.refresh());
    failing = true;
    now += PrincipalCache.EPOCH_CHECK_MILLIS;
    await cache.refresh();
    expect(cache.get('h')).toBeUndefined();
  });
});
