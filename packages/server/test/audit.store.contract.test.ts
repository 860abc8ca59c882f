import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEventInput, Store } from '../src/core/store.port.js';
import { hex, newUser, T0 } from './support/store-fixtures.js';
import { backends, useTestStore } from './support/test-context.js';

/**
 * The contract of the audit log and of the key columns added with it (expiry, last use),
 * core/store.port.ts, run against every backend. Tests share one store, so each names its own
 * actor and filters by it.
 */

function newEvent(actorName: string, overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    at: T0,
    actorUserId: null,
    actorName,
    action: 'user.create',
    targetType: 'user',
    targetId: hex(),
    targetName: 'carol',
    workspaceId: null,
    workspaceName: null,
    details: {},
    source: 'cli',
    requestId: null,
    ...overrides,
  };
}

const actor = () => `actor-${hex().slice(0, 8)}`;

describe.each(backends)('Audit store contract (%s)', (backend) => {
  let store: Store;
  useTestStore(backend, (opened) => {
    store = opened;
  });

  it('numbers events in increasing order and gives every field back as written', async () => {
    const name = actor();
    const details = {
      prefix: 'AbCdEf',
      scopes: ['read', 'write'],
      expiresAt: null,
      nested: { n: 3, ok: true },
      ü: 'ß',
    };
    const first = await store.audit.insert(
      newEvent(name, {
        actorUserId: 'u-1',
        action: 'key.create',
        targetType: 'api-key',
        targetId: 'k-1',
        targetName: 'ci',
        workspaceId: 'w-1',
        workspaceName: 'team',
        details,
        source: 'api',
        requestId: 'req-1',
      }),
    );
    const second = await store.audit.insert(newEvent(name, { targetName: null }));
    expect(second.id).toBeGreaterThan(first.id);
    const listed = await store.audit.list({ actorName: name, limit: 10 });
    expect(listed).toEqual([second, first]);
    expect(listed[1]).toEqual({
      id: first.id,
      at: T0,
      actorUserId: 'u-1',
      actorName: name,
      action: 'key.create',
      targetType: 'api-key',
      targetId: 'k-1',
      targetName: 'ci',
      workspaceId: 'w-1',
      workspaceName: 'team',
      details,
      source: 'api',
      requestId: 'req-1',
    });
    expect(listed[0]?.targetName).toBeNull();
  });

  it('lists newest first by id, whatever the events say their time was', async () => {
    const name = actor();
    const late = await store.audit.insert(newEvent(name, { at: T0 + 5_000 }));
    const early = await store.audit.insert(newEvent(name, { at: T0 }));
    expect((await store.audit.list({ actorName: name, limit: 10 })).map((e) => e.id)).toEqual([early.id, late.id]);
  });

  it('filters by time, actor and action together, pages by id and stops at the limit', async () => {
    const name = actor();
    const other = actor();
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      const action = i % 2 === 0 ? 'key.create' : 'key.revoke';
      ids.push((await store.audit.insert(newEvent(name, { at: T0 + i * 1_000, action }))).id);
    }
    await store.audit.insert(newEvent(other, { at: T0 + 10_000, action: 'key.create' }));

    const byName = await store.audit.list({ actorName: name, limit: 100 });
    expect(byName.map((e) => e.id)).toEqual([...ids].reverse());
    expect(byName.every((e) => e.actorName === name)).toBe(true);

    const since = await store.audit.list({ actorName: name, since: T0 + 3_000, limit: 100 });
    expect(since.map((e) => e.at)).toEqual([T0 + 5_000, T0 + 4_000, T0 + 3_000]);

    const creates = await store.audit.list({ actorName: name, action: 'key.create', limit: 100 });
    expect(creates.map((e) => e.id)).toEqual([ids[4], ids[2], ids[0]]);

    const page1 = await store.audit.list({ actorName: name, limit: 4 });
    expect(page1.map((e) => e.id)).toEqual([ids[5], ids[4], ids[3], ids[2]]);
    const page2 = await store.audit.list({ actorName: name, limit: 4, beforeId: page1.at(-1)?.id as number });
    expect(page2.map((e) => e.id)).toEqual([ids[1], ids[0]]);

    const actionAcrossActors = await store.audit.list({ action: 'key.create', since: T0 + 10_000, limit: 100 });
    expect(actionAcrossActors.map((e) => e.actorName)).toContain(other);
    expect(await store.audit.list({ actorName: `${name}-nobody`, limit: 10 })).toEqual([]);
  });

  it('keeps an event whose target is gone (no foreign keys)', async () => {
    const user = newUser();
    await store.tenancy.insertUser(user);
    const name = actor();
    await store.audit.insert(newEvent(name, { actorUserId: user.id, targetId: user.id }));
    // A row naming a user that never existed is accepted just the same.
    await store.audit.insert(newEvent(name, { actorUserId: 'no-such-user', targetId: 'no-such-target' }));
    expect(await store.audit.list({ actorName: name, limit: 10 })).toHaveLength(2);
  });

  it('keeps a key expiry and stamps its last use at most once per interval', async () => {
    const user = newUser();
    await store.tenancy.insertUser(user);
    const hash = randomBytes(32).toString('hex');
    const id = hex();
    const base = {
      userId: user.id,
      name: 'k',
      prefix: 'AbCdEf',
      scopes: ['read' as const],
      createdAt: T0,
      lastUsedAt: null,
      revokedAt: null,
    };
    await store.tenancy.insertApiKey({ ...base, id, hash, expiresAt: T0 + 90_000 });
    const never = hex();
    await store.tenancy.insertApiKey({ ...base, id: never, hash: randomBytes(32).toString('hex'), expiresAt: null });
    expect((await store.tenancy.getApiKeyByHash(hash))?.expiresAt).toBe(T0 + 90_000);
    expect((await store.tenancy.getApiKey(never))?.expiresAt).toBeNull();
    expect((await store.tenancy.listApiKeys(user.id)).map((k) => [k.id, k.expiresAt]).sort()).toEqual(
      [
        [id, T0 + 90_000],
        [never, null],
      ].sort(),
    );

    expect(await store.tenancy.touchApiKey(id, T0 + 1_000, 60_000)).toBe(true);
    expect((await store.tenancy.getApiKey(id))?.lastUsedAt).toBe(T0 + 1_000);
    // Within the interval: nothing written.
    expect(await store.tenancy.touchApiKey(id, T0 + 61_000, 60_000)).toBe(false);
    expect((await store.tenancy.getApiKey(id))?.lastUsedAt).toBe(T0 + 1_000);
    expect(await store.tenancy.touchApiKey(id, T0 + 61_001, 60_000)).toBe(true);
    expect((await store.tenancy.getApiKey(id))?.lastUsedAt).toBe(T0 + 61_001);
    // Only that key moved; a missing key is false.
    expect((await store.tenancy.getApiKey(never))?.lastUsedAt).toBeNull();
    expect(await store.tenancy.touchApiKey(hex(), T0, 60_000)).toBe(false);
  });
});
