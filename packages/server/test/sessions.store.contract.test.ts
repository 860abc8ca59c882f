import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ApiKeyRecord, SessionRecord, SignInTokenRecord, Store } from '../src/core/store.port.js';
import { hex, newUser, T0 } from './support/store-fixtures.js';
import { backends, useTestStore } from './support/test-context.js';

/**
 * The contract of the session repository and the key lookups it leans on (core/store.port.ts),
 * run against every backend with fresh ids per test.
 */

const hash = () => randomBytes(32).toString('hex');

function newKey(userId: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: hex(),
    userId,
    name: 'k',
    prefix: 'AbCdEf',
    scopes: ['read', 'write'],
    createdAt: T0,
    lastUsedAt: null,
    revokedAt: null,
    expiresAt: null,
    hash: hash(),
    ...overrides,
  };
}

function newSession(userId: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: hex(),
    hash: hash(),
    userId,
    scopes: ['read'],
    apiKeyId: null,
    createdAt: T0,
    expiresAt: T0 + 1_000,
    revokedAt: null,
    ...overrides,
  };
}

function newToken(userId: string, overrides: Partial<SignInTokenRecord> = {}): SignInTokenRecord {
  return { id: hex(), hash: hash(), userId, createdAt: T0, expiresAt: T0 + 1_000, usedAt: null, ...overrides };
}

describe.each(backends)('Session store contract (%s)', (backend) => {
  let store: Store;
  useTestStore(backend, (opened) => {
    store = opened;
  });

  async function seedUser() {
    const user = newUser();
    await store.tenancy.insertUser(user);
    return user;
  }

  it('gets an API key by id, revoked or not; absent ids are undefined', async () => {
    const user = await seedUser();
    const key = newKey(user.id);
    await store.tenancy.insertApiKey(key);
    const { hash: _hash, ...stored } = key;
    expect(await store.tenancy.getApiKey(key.id)).toEqual(stored);
    await store.tenancy.revokeApiKey(key.id, T0 + 5);
    expect(await store.tenancy.getApiKey(key.id)).toEqual({ ...stored, revokedAt: T0 + 5 });
    expect(await store.tenancy.getApiKey(hex())).toBeUndefined();
  });

  it('stores sessions by hash with every field; hashes are unique', async () => {
    const user = await seedUser();
    const key = newKey(user.id);
    await store.tenancy.insertApiKey(key);
    const fromKey = newSession(user.id, { apiKeyId: key.id, scopes: ['read', 'write'], expiresAt: T0 + 99 });
    const fromLink = newSession(user.id, { scopes: ['read', 'write', 'admin', 'api:models-read'] });
    await store.sessions.insert(fromKey);
    await store.sessions.insert(fromLink);
    expect(await store.sessions.getByHash(fromKey.hash)).toEqual(fromKey);
    expect(await store.sessions.getByHash(fromLink.hash)).toEqual(fromLink);
    expect(await store.sessions.getByHash(hash())).toBeUndefined();
    await expect(store.sessions.insert(newSession(user.id, { hash: fromKey.hash }))).rejects.toThrow();
  });

  it('revokes a session once; revoked sessions are still found, with their revocation time', async () => {
    const user = await seedUser();
    const session = newSession(user.id);
    await store.sessions.insert(session);
    expect(await store.sessions.revoke(session.id, T0 + 10)).toBe(true);
    expect(await store.sessions.revoke(session.id, T0 + 20)).toBe(false);
    expect(await store.sessions.revoke(hex(), T0 + 20)).toBe(false);
    expect(await store.sessions.getByHash(session.hash)).toEqual({ ...session, revokedAt: T0 + 10 });
  });

  it('revokes the un-revoked sessions of one API key and no others', async () => {
    const user = await seedUser();
    const key = newKey(user.id);
    const other = newKey(user.id);
    await store.tenancy.insertApiKey(key);
    await store.tenancy.insertApiKey(other);
    const a = newSession(user.id, { apiKeyId: key.id });
    const b = newSession(user.id, { apiKeyId: key.id });
    const earlier = newSession(user.id, { apiKeyId: key.id, revokedAt: T0 + 1 });
    const ofOther = newSession(user.id, { apiKeyId: other.id });
    const ofLink = newSession(user.id);
    for (const s of [a, b, earlier, ofOther, ofLink]) await store.sessions.insert(s);

    expect(await store.sessions.revokeOfApiKey(key.id, T0 + 50)).toBe(2);
    expect((await store.sessions.getByHash(a.hash))?.revokedAt).toBe(T0 + 50);
    expect((await store.sessions.getByHash(b.hash))?.revokedAt).toBe(T0 + 50);
    expect((await store.sessions.getByHash(earlier.hash))?.revokedAt).toBe(T0 + 1);
    expect((await store.sessions.getByHash(ofOther.hash))?.revokedAt).toBeNull();
    expect((await store.sessions.getByHash(ofLink.hash))?.revokedAt).toBeNull();
    expect(await store.sessions.revokeOfApiKey(key.id, T0 + 60)).toBe(0);
  });

  it('spends a sign-in token once, only before it expires', async () => {
    const user = await seedUser();
    const token = newToken(user.id, { expiresAt: T0 + 100 });
    await store.sessions.insertSignInToken(token);
    await expect(store.sessions.insertSignInToken(newToken(user.id, { hash: token.hash }))).rejects.toThrow();

    expect(await store.sessions.useSignInToken(hash(), T0 + 1)).toBeUndefined();
    expect(await store.sessions.useSignInToken(token.hash, T0 + 1)).toEqual({ ...token, usedAt: T0 + 1 });
    expect(await store.sessions.useSignInToken(token.hash, T0 + 2)).toBeUndefined();

    const expiring = newToken(user.id, { expiresAt: T0 + 100 });
    await store.sessions.insertSignInToken(expiring);
    // Expiry is exclusive: at expiresAt the token is already dead.
    expect(await store.sessions.useSignInToken(expiring.hash, T0 + 100)).toBeUndefined();
    expect(await store.sessions.useSignInToken(expiring.hash, T0 + 99)).toEqual({ ...expiring, usedAt: T0 + 99 });
  });

  it('lets one of many concurrent uses of a token win', async () => {
    const user = await seedUser();
    const token = newToken(user.id);
    await store.sessions.insertSignInToken(token);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.sessions.useSignInToken(token.hash, T0 + i)),
    );
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
  });

  it('deletes sessions and tokens that expired at or before a time, and nothing else', async () => {
    const user = await seedUser();
    // Far in the future so that rows of other tests (which expire near T0) are gone at once here.
    const base = T0 + 10_000_000;
    const gone = newSession(user.id, { expiresAt: base });
    const kept = newSession(user.id, { expiresAt: base + 1 });
    const goneToken = newToken(user.id, { expiresAt: base - 5 });
    const keptToken = newToken(user.id, { expiresAt: base + 1 });
    for (const s of [gone, kept]) await store.sessions.insert(s);
    for (const t of [goneToken, keptToken]) await store.sessions.insertSignInToken(t);

    expect(await store.sessions.deleteExpired(base)).toBeGreaterThanOrEqual(2);
    expect(await store.sessions.getByHash(gone.hash)).toBeUndefined();
    expect(await store.sessions.getByHash(kept.hash)).toEqual(kept);
    expect(await store.sessions.useSignInToken(goneToken.hash, T0)).toBeUndefined();
    expect(await store.sessions.useSignInToken(keptToken.hash, base)).toMatchObject({ id: keptToken.id });
    expect(await store.sessions.deleteExpired(base)).toBe(0);
  });
});
