import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const API = '/api/cairn/v1';

describe.each(backends)('Cairn API: identity, workspaces, projects, experiments (%s)', (backend) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });
  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, key = t.adminKey) =>
    t.request(method, `${API}${path}`, {
      key: null,
      headers: { authorization: `Bearer ${key}` },
      ...(body === undefined ? {} : { body }),
    });

  it('tells the caller who they are, and lists and creates their workspaces', async () => {
    const me = await call('GET', '/me');
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json()).toMatchObject({ user: { name: 'admin', isAdmin: true }, defaultWorkspace: 'default' });
    expect(me.json().scopes).toContain('admin');
    expect((await call('GET', '/me', undefined, t.readOnlyKey)).json().scopes).toEqual(['read']);

    const created = await call('POST', '/workspaces', { name: 'team-a' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ name: 'team-a' });
    expect((await call('POST', '/workspaces', { name: 'team-a' })).statusCode).toBe(409);
    const names = (await call('GET', '/workspaces')).json().items.map((w: { name: string }) => w.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'team-a']));
    expect(
      (await call('GET', '/workspaces', undefined, t.otherKey)).json().items.map((w: { name: string }) => w.name),
    ).toEqual(['bob']);
    expect((await call('POST', '/workspaces', { name: 'x' }, t.readOnlyKey)).statusCode).toBe(403);
  });

  it('creates, lists with search and cursors, reads and updates projects', async () => {
    for (const name of ['vision', 'nlp', 'vision-2', 'audio']) {
      const r = await call('POST', '/workspaces/default/projects', { name, description: `about ${name}` });
      expect(r.statusCode, r.body).toBe(201);
      expect(r.json()).toMatchObject({
        name,
        workspace: 'default',
        description: `about ${name}`,
        isPublic: false,
        experimentCount: 0,
        owner: 'admin',
      });
    }
    expect((await call('POST', '/workspaces/default/projects', { name: 'nlp' })).statusCode).toBe(409);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await call('GET', `/workspaces/default/projects${query}`)).json();
      expect(page.total).toBe(4);
      seen.push(...page.items.map((p: { name: string }) => p.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['audio', 'nlp', 'vision', 'vision-2']);
    const searched = (await call('GET', '/workspaces/default/projects?search=VISION&limit=1')).json();
    expect(searched.total).toBe(2);
    expect(searched.items.map((p: { name: string }) => p.name)).toEqual(['vision']);
    // A cursor of one listing is refused by another.
    const foreign = await call('GET', `/workspaces/default/projects?cursor=${searched.nextCursor}`);
    expect(foreign.statusCode).toBe(400);
    expect(foreign.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await call('GET', '/workspaces/default/projects?cursor=garbage')).statusCode).toBe(400);

    const patched = await call('PATCH', '/workspaces/default/projects/audio', {
      name: 'speech',
      isPublic: true,
      notes: 'n1',
      description: null,
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ name: 'speech', isPublic: true, notes: 'n1', description: null });
    expect((await call('GET', '/workspaces/default/projects/audio')).statusCode).toBe(404);
    expect((await call('GET', '/workspaces/default/projects/speech')).json().name).toBe('speech');
    // Other tenants: a private project is invisible, a public one is readable but not writable.
    expect((await call('GET', '/workspaces/default/projects/nlp', undefined, t.otherKey)).statusCode).toBe(404);
    expect((await call('GET', '/workspaces/default/projects/speech', undefined, t.otherKey)).statusCode).toBe(200);
    expect((await call('PATCH', '/workspaces/default/projects/speech', { notes: 'x' }, t.otherKey)).statusCode).toBe(
      404,
    );
    expect((await call('POST', '/workspaces/default/projects', { name: 'p' }, t.otherKey)).statusCode).toBe(404);
    expect((await call('GET', '/workspaces/nope/projects')).statusCode).toBe(404);
  });

  it('runs an experiment through its life: create, read, rename, archive, end, resume, delete', async () => {
    const created = await call('POST', '/workspaces/default/projects/runs/experiments', { name: 'lr-0.01' });
    expect(created.statusCode, created.body).toBe(201);
    const experiment = created.json();
    expect(experiment).toMatchObject({
      name: 'lr-0.01',
      workspace: 'default',
      project: 'runs',
      status: 'RUNNING',
      running: true,
      archived: false,
      endTime: null,
      createdBy: 'admin',
      tags: [],
    });
    expect(experiment.key).toMatch(/^[0-9a-f]{32}$/);
    expect((await call('GET', '/workspaces/default/projects/runs')).json().experimentCount).toBe(1);

    const chosen = 'c'.repeat(32);
    expect((await call('POST', '/workspaces/default/projects/runs/experiments', { key: chosen })).json()).toMatchObject(
      { key: chosen, name: null },
    );
    expect((await call('POST', '/workspaces/default/projects/runs/experiments', { key: chosen })).statusCode).toBe(409);
    expect((await call('POST', '/workspaces/default/projects/runs/experiments', { key: 'short' })).statusCode).toBe(
      400,
    );

    const path = `/experiments/${experiment.key}`;
    // The duration of a running experiment grows between two reads; everything else is the same.
    expect({ ...(await call('GET', path)).json(), durationMillis: 0 }).toEqual({ ...experiment, durationMillis: 0 });
    const renamed = (await call('PATCH', path, { name: 'lr-0.02', archived: true })).json();
    expect(renamed).toMatchObject({ name: 'lr-0.02', archived: true, status: 'RUNNING' });
    expect((await call('PATCH', path, { name: null })).json().name).toBeNull();
    // The name rule is the core's (entry names) and the schema's alike; "" means no name.
    expect((await call('PATCH', path, { name: '' })).json().name).toBeNull();
    for (const name of ['tab\there', 'x'.repeat(1001)]) {
      expect((await call('PATCH', path, { name })).statusCode).toBe(400);
      expect((await call('POST', '/workspaces/default/projects/runs/experiments', { name })).statusCode).toBe(400);
    }

    const ended = await call('POST', `${path}/end`, {});
    expect(ended.statusCode, ended.body).toBe(200);
    expect(ended.json()).toMatchObject({ status: 'SUCCEEDED', running: false });
    expect(ended.json().endTime).toBeGreaterThanOrEqual(experiment.startTime);
    const failed = (
      await call('POST', `${path}/end`, { status: 'FAILED', endTime: experiment.startTime + 5000 })
    ).json();
    expect(failed).toMatchObject({ status: 'FAILED', endTime: experiment.startTime + 5000, durationMillis: 5000 });
    expect((await call('POST', `${path}/end`, { endTime: experiment.startTime - 1 })).statusCode).toBe(400);

    const resumed = (await call('PATCH', path, { status: 'RUNNING' })).json();
    expect(resumed).toMatchObject({ status: 'RUNNING', running: true, endTime: null });
    expect((await call('POST', `${path}/heartbeat`)).statusCode).toBe(204);
    const imported = (await call('PATCH', path, { startTime: 1_000, endTime: 61_000, status: 'SUCCEEDED' })).json();
    expect(imported).toMatchObject({ startTime: 1_000, endTime: 61_000, durationMillis: 60_000, status: 'SUCCEEDED' });
    expect((await call('PATCH', path, { startTime: 100_000 })).statusCode).toBe(400);
    expect((await call('PATCH', path, { status: 'DONE' })).statusCode).toBe(400);
    expect((await call('PATCH', path, { unknown: 1 })).statusCode).toBe(400);

    // Tenancy: invisible to another user, read-only keys cannot write.
    expect((await call('GET', path, undefined, t.otherKey)).statusCode).toBe(404);
    expect((await call('PATCH', path, { name: 'x' }, t.otherKey)).statusCode).toBe(404);
    expect((await call('PATCH', path, { name: 'x' }, t.readOnlyKey)).statusCode).toBe(403);
    expect((await call('GET', path, undefined, t.readOnlyKey)).statusCode).toBe(200);
    expect((await call('GET', path, undefined, 'not-a-key')).statusCode).toBe(401);

    expect((await call('DELETE', path)).statusCode).toBe(204);
    expect((await call('GET', path)).statusCode).toBe(404);
    expect((await call('DELETE', path)).statusCode).toBe(404);
  });
});
