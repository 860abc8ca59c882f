import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const V2 = '/api/rest/v2';

describe.each(backends)('Comet workspaces and projects (%s)', (backend) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 401 in Comet error format without a valid key', async () => {
    for (const key of [null, 'not-a-key']) {
      const response = await t.request('GET', `${V2}/workspaces`, { key });
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toBe('application/json');
      expect(response.json()).toMatchObject({ code: 401, data: null });
      expect(typeof response.json().msg).toBe('string');
    }
  });

  it('accepts the Java SDK header and lists only the caller’s workspaces', async () => {
    const response = await t.request('GET', `${V2}/workspaces`, {
      key: null,
      headers: { 'comet-sdk-api': t.adminKey },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json()).toEqual({ workspaceNames: ['default'] });
    const bob = await t.request('GET', `${V2}/workspaces`, { key: t.otherKey });
    expect(bob.json()).toEqual({ workspaceNames: ['bob'] });
  });

  it('reports account details', async () => {
    const response = await t.request('GET', `${V2}/account-details`);
    expect(response.json()).toEqual({ userName: 'admin', defaultWorkspaceName: 'default' });
  });

  it('creates, reads, updates and deletes a project', async () => {
    const created = await t.request('POST', `${V2}/write/project/create`, {
      body: { workspaceName: 'default', projectName: 'vision', projectDescription: null, isPublic: false },
    });
    expect(created.statusCode).toBe(200);
    const body = created.json();
    expect(body).toMatchObject({ code: 200, sdk_error_code: 0, data: null });
    expect(body.projectId).toMatch(/^[0-9a-f]{32}$/);

    const byName = await t.request('GET', `${V2}/project?workspaceName=default&projectName=vision`);
    expect(byName.statusCode).toBe(200);
    expect(byName.json()).toMatchObject({
      projectId: body.projectId,
      projectName: 'vision',
      ownerUserName: 'admin',
      projectDescription: null,
      workspaceName: 'default',
      isPublic: false,
      public: false,
      numberOfExperiments: 0,
    });

    const updated = await t.request('POST', `${V2}/write/project/update`, {
      body: { projectId: body.projectId, newProjectDescription: 'cats', isPublic: true },
    });
    expect(updated.statusCode).toBe(200);
    const notes = await t.request('POST', `${V2}/write/project/notes`, {
      body: { projectId: body.projectId, notes: 'n1' },
    });
    expect(notes.statusCode).toBe(200);
    expect((await t.request('GET', `${V2}/project/notes?projectId=${body.projectId}`)).json()).toEqual({ notes: 'n1' });

    const list = await t.request('GET', `${V2}/projects?workspaceName=default`);
    expect(list.json().projects).toEqual([
      expect.objectContaining({ projectId: body.projectId, projectDescription: 'cats', isPublic: true }),
    ]);

    const deleted = await t.request('POST', `${V2}/write/project/delete`, {
      body: { projectId: body.projectId, deleteAllExperiments: true },
    });
    expect(deleted.json()).toMatchObject({ msg: 'Deleted', code: 200 });
    expect((await t.request('GET', `${V2}/project?projectId=${body.projectId}`)).statusCode).toBe(404);
  });

  it('rejects bad input with 400 and changes nothing', async () => {
    const tooLong = await t.request('POST', `${V2}/write/project/create`, {
      body: { workspaceName: 'default', projectName: 'x'.repeat(120), isPublic: false },
    });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json()).toMatchObject({ code: 400, sdk_error_code: 1341241 });
    const wrongType = await t.request('POST', `${V2}/write/project/create`, {
      body: { workspaceName: 'default', projectName: 'p', isPublic: 'maybe' },
    });
    expect(wrongType.statusCode).toBe(400);
    const malformed = await t.request('POST', `${V2}/write/project/create`, {
      payload: '{"workspaceName":',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe(400);
    const list = await t.request('GET', `${V2}/projects?workspaceName=default`);
    expect(list.json().projects).toEqual([]);
  });

  it('answers refusals of rules the schema states in the core’s words and codes', async () => {
    const create = (projectName: string) =>
      t.request('POST', `${V2}/write/project/create`, { body: { workspaceName: 'default', projectName } });
    const blank = await create(' ');
    expect(blank.json()).toEqual({
      msg: 'project name must not be empty',
      code: 400,
      sdk_error_code: 98219,
      data: null,
    });
    expect((await create('a/b')).json()).toMatchObject({ msg: expect.stringMatching(/^invalid project name/) });
    for (const body of [{}, { workspaceName: 'default' }, { projectId: '', projectName: 'p' }]) {
      const unnamed = await t.request('POST', `${V2}/write/project/delete`, { body });
      expect(unnamed.json(), JSON.stringify(body)).toEqual({
        msg: 'name the project with projectId, or with workspaceName and projectName',
        code: 400,
        sdk_error_code: 0,
        data: null,
      });
    }
    // A field without a core rule keeps the schema's message, which names it.
    const wrongType = await t.request('POST', `${V2}/write/project/create`, {
      body: { workspaceName: 'default', projectName: 7 },
    });
    expect(wrongType.json()).toMatchObject({
      code: 400,
      sdk_error_code: 0,
      msg: expect.stringContaining('projectName'),
    });
  });

  it('hides another tenant’s private projects and workspaces', async () => {
    const created = await t.request('POST', `${V2}/write/project/create`, {
      body: { workspaceName: 'default', projectName: 'secret', isPublic: false },
    });
    const projectId = created.json().projectId as string;
    const asBob = await t.request('GET', `${V2}/project?projectId=${projectId}`, { key: t.otherKey });
    expect(asBob.statusCode).toBe(404);
    const bobList = await t.request('GET', `${V2}/projects?workspaceName=default`, { key: t.otherKey });
    expect(bobList.json()).toEqual({ projects: [] });
    const bobWrite = await t.request('POST', `${V2}/write/project/create`, {
      key: t.otherKey,
      body: { workspaceName: 'default', projectName: 'intruder', isPublic: false },
    });
    expect(bobWrite.statusCode).toBe(404);
    const readOnly = await t.request('POST', `${V2}/write/project/create`, {
      key: t.readOnlyKey,
      body: { workspaceName: 'default', projectName: 'ro', isPublic: false },
    });
    expect(readOnly.statusCode).toBe(403);
  });

  it('adds, lists and deletes share links for members only', async () => {
    const created = await t.request('POST', `${V2}/write/project/create`, {
      body: { workspaceName: 'default', projectName: 'shared', isPublic: true },
    });
    const projectId = created.json().projectId as string;
    const added = await t.request('GET', `${V2}/write/project/add-share-link?projectId=${projectId}`);
    expect(added.statusCode).toBe(200);
    const shareCode = added.json().shareCode as string;
    expect(shareCode).toMatch(/^[0-9a-f]{32}$/);
    const listed = await t.request('GET', `${V2}/project/get-project-share-links?projectId=${projectId}`);
    expect(listed.json()).toEqual({ shareCodes: [shareCode] });

    // The project is public, so bob can read it, but its share codes stay with its members.
    expect((await t.request('GET', `${V2}/project?projectId=${projectId}`, { key: t.otherKey })).statusCode).toBe(200);
    const bobList = await t.request('GET', `${V2}/project/get-project-share-links?projectId=${projectId}`, {
      key: t.otherKey,
    });
    expect(bobList.statusCode).toBe(404);

    const unknown = await t.request(
      'GET',
      `${V2}/write/project/delete-project-share-link?projectId=${projectId}&shareCode=nope`,
    );
    expect(unknown.statusCode).toBe(404);
    const deleted = await t.request(
      'GET',
      `${V2}/write/project/delete-project-share-link?projectId=${projectId}&shareCode=${shareCode}`,
    );
    expect(deleted.json()).toMatchObject({ code: 200 });
    expect((await t.request('GET', `${V2}/project/get-project-share-links?projectId=${projectId}`)).json()).toEqual({
      shareCodes: [],
    });
  });

  it('serves the same API under /clientlib/rest/v2 and the unauthenticated version probe', async () => {
    const alias = await t.request('GET', '/clientlib/rest/v2/workspaces');
    expect(alias.json()).toEqual({ workspaceNames: ['default'] });
    const probe = await t.request('GET', '/clientlib/isAlive/ver', { key: null });
    expect(probe.headers['content-type']).toBe('application/json');
    expect(probe.json()).toEqual({ version: '3.0.0' });
  });
});
