import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorActor } from '../src/core/audit.service.js';
import { AuthService } from '../src/core/auth.service.js';
import type { AuditEvent } from '../src/core/entities.js';
import { PrincipalCache } from '../src/core/principal-cache.js';
import { ADMIN_KEY, backends, createTestContext, type TestContext } from './support/test-context.js';

const CAIRN = '/api/cairn/v1';
const COMET = '/api/rest/v2';
const MLFLOW = '/api/2.0/mlflow';

/**
 * API keys' expiry and last use, and the audit log of administrative actions, over HTTP on both
 * stores: every action writes one event naming its actor, expired keys are refused by every
 * facade (cached or not), and administrators read the log at GET /admin/audit-events.
 */
describe.each(backends)('API keys and the audit log (%s)', (backend) => {
  let t: TestContext;
  let now = Date.now();
  const clock = { now: () => now };
  beforeAll(async () => {
    t = await createTestContext(backend, { clock });
  });
  afterAll(async () => {
    await t?.close();
  });

  let seq = 0;
  const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}${seq++}`;

  /** The id of the newest event so far: events after it are what the next action wrote. */
  async function lastId(): Promise<number> {
    return (await t.store.audit.list({ limit: 1 }))[0]?.id ?? 0;
  }

  /** The events written after `after`, oldest first. */
  async function eventsAfter(after: number): Promise<AuditEvent[]> {
    return (await t.store.audit.list({ limit: 1000 })).filter((e) => e.id > after).reverse();
  }

  /** Runs `action` and returns the one event it wrote (failing when it wrote none or several). */
  async function oneEvent(action: () => Promise<unknown>): Promise<AuditEvent> {
    const before = await lastId();
    await action();
    const events = await eventsAfter(before);
    expect(events).toHaveLength(1);
    return events[0] as AuditEvent;
  }

  describe('the audit log', () => {
    it('starts with the bootstrap, by the server', async () => {
      const [first] = await t.store.audit.list({ action: 'store.bootstrap', limit: 10 });
      expect(first).toMatchObject({
        actorUserId: null,
        actorName: 'cairn',
        source: 'server',
        targetType: 'user',
        targetName: 'admin',
        workspaceName: 'default',
        details: { admin: true, keyGenerated: false },
      });
    });

    it("records an operator's user, workspace, membership, key and sign-in link actions as the operator", async () => {
      const ops = operatorActor('ops');
      const user = unique('carol');
      const created = await oneEvent(() => t.core.auth.createUser(user, 'c@example.com', true, ops));
      const carol = await t.store.tenancy.getUserByName(user);
      expect(created).toMatchObject({
        actorUserId: null,
        actorName: 'ops',
        source: 'cli',
        requestId: null,
        action: 'user.create',
        targetType: 'user',
        targetId: carol?.id,
        targetName: user,
        workspaceName: user,
        details: { admin: true, email: 'c@example.com' },
      });

      const lab = unique('lab');
      const workspace = await oneEvent(() => t.core.auth.createWorkspace(lab, user, ops));
      expect(workspace).toMatchObject({
        actorName: 'ops',
        action: 'workspace.create',
        targetType: 'workspace',
        targetName: lab,
        workspaceName: lab,
        details: { owner: user },
      });

      const member = await oneEvent(() => t.core.auth.addMember(lab, 'bob', ops));
      expect(member).toMatchObject({
        actorName: 'ops',
        action: 'membership.add',
        targetType: 'membership',
        targetName: 'bob',
        workspaceId: workspace.workspaceId,
        workspaceName: lab,
      });

      let secret = '';
      const expiresAt = now + 86_400_000;
      const keyCreated = await oneEvent(async () => {
        const created = await t.core.auth.createKey(user, 'ci', ['read'], { expiresAt }, ops);
        secret = created.secret;
      });
      const [key] = await t.core.auth.listKeys(user);
      expect(keyCreated).toMatchObject({
        actorName: 'ops',
        action: 'key.create',
        targetType: 'api-key',
        targetId: key?.id,
        targetName: 'ci',
        details: { prefix: secret.slice(0, 6), owner: user, scopes: ['read'], expiresAt },
      });
      const revoked = await oneEvent(() => t.core.auth.revokeKey(key?.id as string, ops));
      expect(revoked).toMatchObject({
        actorName: 'ops',
        action: 'key.revoke',
        targetId: key?.id,
        details: { prefix: secret.slice(0, 6), owner: user, sessionsEnded: 0 },
      });

      let token = '';
      const link = await oneEvent(async () => {
        token = (await t.core.sessions.createSignInToken(user, ops)).token;
      });
      expect(link).toMatchObject({ actorName: 'ops', action: 'user.sign-in-link', targetName: user });

      // Never a secret, nor its hash, in the log.
      const log = JSON.stringify(await t.store.audit.list({ limit: 1000 }));
      for (const hidden of [secret, token, ADMIN_KEY]) expect(log).not.toContain(hidden);
      expect(log).not.toMatch(/[0-9a-f]{64}/);
    });

    it('writes nothing for a refused action', async () => {
      const before = await lastId();
      await expect(t.core.auth.createUser('bob')).rejects.toThrow(/already exists/);
      await expect(t.core.auth.addMember('no-such-workspace', 'bob')).rejects.toThrow(/not found/);
      await expect(t.core.auth.revokeKey('no-such-key')).rejects.toThrow(/no active API key/);
      const taken = await t.request('POST', `${CAIRN}/workspaces`, { key: t.otherKey, body: { name: 'default' } });
      expect(taken.statusCode).toBe(409);
      expect(await eventsAfter(before)).toEqual([]);
    });

    it("records a caller's own keys through Cairn's API as that caller, with the request id", async () => {
      let id = '';
      let requestId = '';
      const created = await oneEvent(async () => {
        const reply = await t.request('POST', `${CAIRN}/me/api-keys`, { key: t.otherKey, body: { name: 'laptop' } });
        expect(reply.statusCode).toBe(201);
        id = reply.json().key.id;
        requestId = reply.headers['x-request-id'] as string;
      });
      const bob = await t.store.tenancy.getUserByName('bob');
      expect(created).toMatchObject({
        actorUserId: bob?.id,
        actorName: 'bob',
        source: 'api',
        requestId,
        action: 'key.create',
        targetId: id,
        targetName: 'laptop',
        details: { owner: 'bob', scopes: ['read', 'write'], expiresAt: null },
      });
      const revoked = await oneEvent(async () => {
        const reply = await t.request('DELETE', `${CAIRN}/me/api-keys/${id}`, { key: t.otherKey });
        expect(reply.statusCode).toBe(204);
      });
      expect(revoked).toMatchObject({ actorName: 'bob', source: 'api', action: 'key.revoke', targetId: id });
      // Revoking again changes nothing and writes nothing.
      const before = await lastId();
      expect((await t.request('DELETE', `${CAIRN}/me/api-keys/${id}`, { key: t.otherKey })).statusCode).toBe(204);
      expect(await eventsAfter(before)).toEqual([]);
    });

    it('records workspace creation through the Cairn and Comet APIs', async () => {
      const viaCairn = unique('ws');
      const cairn = await oneEvent(async () => {
        const reply = await t.request('POST', `${CAIRN}/workspaces`, { key: t.otherKey, body: { name: viaCairn } });
        expect(reply.statusCode).toBe(201);
      });
      expect(cairn).toMatchObject({
        actorName: 'bob',
        source: 'api',
        action: 'workspace.create',
        targetName: viaCairn,
      });
      const viaComet = unique('ws');
      const comet = await oneEvent(async () => {
        const reply = await t.request('POST', `${COMET}/write/workspace/new`, { body: { name: viaComet } });
        expect(reply.statusCode).toBe(200);
      });
      expect(comet).toMatchObject({ actorName: 'admin', action: 'workspace.create', workspaceName: viaComet });
    });

    it("records a project's deletion through Comet's API and its trash and restore through MLflow's", async () => {
      const name = unique('doomed');
      const created = await t.request('POST', `${COMET}/write/project/create`, {
        body: { workspaceName: 'default', projectName: name },
      });
      const projectId = created.json().projectId as string;
      const experiment = await t.request('POST', `${COMET}/write/experiment/create`, {
        body: { workspaceName: 'default', projectName: name },
      });
      expect(experiment.statusCode).toBe(200);
      // Refused (it still holds an experiment): nothing recorded.
      const before = await lastId();
      const refused = await t.request('POST', `${COMET}/write/project/delete`, { body: { projectId } });
      expect(refused.statusCode).toBe(400);
      expect(await eventsAfter(before)).toEqual([]);
      const deleted = await oneEvent(async () => {
        const reply = await t.request('POST', `${COMET}/write/project/delete`, {
          body: { projectId, deleteAllExperiments: true },
        });
        expect(reply.statusCode).toBe(200);
      });
      expect(deleted).toMatchObject({
        actorName: 'admin',
        source: 'api',
        action: 'project.delete',
        targetType: 'project',
        targetId: projectId,
        targetName: name,
        workspaceName: 'default',
        details: { experimentsDeleted: 1 },
      });

      const mlflowName = unique('trashed');
      const { experiment_id: experimentId } = (
        await t.request('POST', `${MLFLOW}/experiments/create`, { body: { name: mlflowName } })
      ).json();
      const trashed = await oneEvent(async () => {
        const reply = await t.request('POST', `${MLFLOW}/experiments/delete`, {
          body: { experiment_id: experimentId },
        });
        expect(reply.statusCode).toBe(200);
      });
      expect(trashed).toMatchObject({ actorName: 'admin', action: 'project.trash', targetName: mlflowName });
      const restored = await oneEvent(async () => {
        const reply = await t.request('POST', `${MLFLOW}/experiments/restore`, {
          body: { experiment_id: experimentId },
        });
        expect(reply.statusCode).toBe(200);
      });
      expect(restored).toMatchObject({ actorName: 'admin', action: 'project.restore', targetId: trashed.targetId });
    });

    it('is readable by administrators only, newest first, filtered and paged', async () => {
      const list = await t.request('GET', `${CAIRN}/admin/audit-events?limit=1000`);
      expect(list.statusCode).toBe(200);
      const all = list.json().items as AuditEvent[];
      expect(all.map((e) => e.id)).toEqual((await t.store.audit.list({ limit: 1000 })).map((e) => e.id));
      expect(all.at(-1)?.action).toBe('store.bootstrap');

      const creates = (await t.request('GET', `${CAIRN}/admin/audit-events?action=key.create&actor=bob`)).json();
      expect(creates.items.length).toBeGreaterThan(0);
      expect(creates.items.every((e: AuditEvent) => e.action === 'key.create' && e.actorName === 'bob')).toBe(true);

      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `&cursor=${cursor}` : '';
        const page = (await t.request('GET', `${CAIRN}/admin/audit-events?limit=3${query}`)).json();
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((e: AuditEvent) => e.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(all.map((e) => e.id));

      const first = (await t.request('GET', `${CAIRN}/admin/audit-events?limit=1`)).json();
      const misused = await t.request(
        'GET',
        `${CAIRN}/admin/audit-events?action=key.create&cursor=${first.nextCursor}`,
      );
      expect(misused.statusCode).toBe(400);
      expect((await t.request('GET', `${CAIRN}/admin/audit-events?action=nothing`)).statusCode).toBe(400);

      // Not an administrator; an administrator's key without the admin scope.
      for (const key of [t.otherKey, t.readOnlyKey]) {
        const refused = await t.request('GET', `${CAIRN}/admin/audit-events`, { key });
        expect(refused.statusCode).toBe(403);
      }
      expect((await t.request('GET', `${CAIRN}/admin/audit-events`, { key: null })).statusCode).toBe(401);
    });
  });

  describe('key expiry', () => {
    /** One request per facade, each needing a valid key first. */
    const facades = [
      { name: 'Cairn', method: 'GET', url: `${CAIRN}/me` },
      { name: 'Comet', method: 'GET', url: `${COMET}/workspaces` },
      { name: 'Comet clientlib', method: 'POST', url: '/clientlib/rest/v2/write/experiment/output', body: {} },
      { name: 'MLflow', method: 'GET', url: `${MLFLOW}/experiments/search?max_results=1` },
      { name: 'Foundry', method: 'POST', url: '/api/v2/models/ri.x/experiments/search?preview=true', body: {} },
    ] as const;

    it('refuses an expired key on every facade with 401 saying so, even while its principal is cached', async () => {
      const expiresAt = now + 1_000;
      const { secret } = await t.core.auth.createKey('admin', unique('short'), ['read', 'write', 'api:models-read'], {
        expiresAt,
      });
      for (const facade of facades) {
        const reply = await t.request(facade.method, facade.url, {
          key: secret,
          ...('body' in facade ? { body: facade.body } : {}),
        });
        expect(reply.statusCode, facade.name).not.toBe(401);
      }
      // Well within the cache's TTL of the first requests: the cached principal must not outlive the key.
      const cachedAt = now;
      now = expiresAt + 1;
      expect(now - cachedAt).toBeLessThan(PrincipalCache.TTL_MILLIS);
      for (const facade of facades) {
        const reply = await t.request(facade.method, facade.url, {
          key: secret,
          ...('body' in facade ? { body: facade.body } : {}),
        });
        expect(reply.statusCode, facade.name).toBe(401);
        expect(reply.body, facade.name).toContain(`expired at ${new Date(expiresAt).toISOString()}`);
      }
      // Nor does it open a browser session.
      const session = await t.request('POST', `${CAIRN}/sessions`, { key: null, body: { apiKey: secret } });
      expect(session.statusCode).toBe(401);
      expect(session.body).toContain('expired');
    });

    it('ends a session opened with an expiring key when the key expires', async () => {
      const expiresAt = now + 60_000;
      const { secret } = await t.core.auth.createKey('admin', unique('s'), ['read'], { expiresAt });
      const opened = await t.request('POST', `${CAIRN}/sessions`, { key: null, body: { apiKey: secret } });
      expect(opened.statusCode).toBe(201);
      expect(opened.json().expiresAt).toBe(expiresAt);
    });

    it('takes an expiry through Cairn API, lists it, and refuses one in the past', async () => {
      const expiresAt = now + 7 * 86_400_000;
      const created = await t.request('POST', `${CAIRN}/me/api-keys`, {
        key: t.otherKey,
        body: { name: 'weekly', expiresAt },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json().key.expiresAt).toBe(expiresAt);
      const listed = (await t.request('GET', `${CAIRN}/me/api-keys`, { key: t.otherKey })).json().items;
      expect(listed.find((k: { id: string }) => k.id === created.json().key.id)?.expiresAt).toBe(expiresAt);
      const secret = created.json().secret as string;
      expect((await t.request('GET', `${CAIRN}/me`, { key: secret })).statusCode).toBe(200);

      const past = await t.request('POST', `${CAIRN}/me/api-keys`, {
        key: t.otherKey,
        body: { name: 'late', expiresAt: now - 1 },
      });
      expect(past.statusCode).toBe(400);
      expect(past.json().detail).toContain('expire in the future');
    });
  });

  describe('last use', () => {
    it('is stamped on use, at most once a minute per key', async () => {
      const { key, secret } = await t.core.auth.createKey('bob', unique('used'), ['read']);
      const lastUsed = async () => (await t.core.auth.listKeys('bob')).find((k) => k.id === key.id)?.lastUsedAt;
      expect(await lastUsed()).toBeNull();

      const first = now;
      expect((await t.request('GET', `${COMET}/workspaces`, { key: secret })).statusCode).toBe(200);
      expect(await lastUsed()).toBe(first);

      // Within the minute: not written again, by this process or by another sharing the store.
      now += 30_000;
      expect((await t.request('GET', `${CAIRN}/me`, { key: secret })).statusCode).toBe(200);
      expect(await lastUsed()).toBe(first);

      now += AuthService.LAST_USED_INTERVAL_MILLIS;
      expect((await t.request('GET', `${CAIRN}/me`, { key: secret })).statusCode).toBe(200);
      expect(await lastUsed()).toBe(now);

      const listed = (await t.request('GET', `${CAIRN}/me/api-keys`, { key: t.otherKey })).json().items;
      expect(listed.find((k: { id: string }) => k.id === key.id)?.lastUsedAt).toBe(now);
    });
  });
});
