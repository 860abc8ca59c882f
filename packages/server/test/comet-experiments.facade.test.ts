import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore } from '../src/core/core.js';
import { HEARTBEAT_TIMEOUT_MILLIS } from '../src/core/experiments.service.js';
import { buildApp } from '../src/http/app.js';
import { FileBlobStore } from '../src/storage/blob/file-blob.store.js';
import {
  ADMIN_KEY,
  backends,
  createTestContext,
  openTestStore,
  PUBLIC_URL,
  type TestContext,
  type TestStore,
} from './support/test-context.js';

const V2 = '/api/rest/v2';
const UNKNOWN_KEY = 'f'.repeat(32);

/** Asserts the status and the exact content type comet_ml requires (spec §1.4), then parses. */
function json(response: LightMyRequestResponse, status: number) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toBe('application/json');
  return response.json();
}

/** A Comet error body with this status and sdk_error_code. */
function expectError(response: LightMyRequestResponse, status: number, sdkErrorCode?: number) {
  const body = json(response, status);
  expect(body).toMatchObject({ code: status, data: null });
  expect(typeof body.msg).toBe('string');
  if (sdkErrorCode !== undefined) expect(body.sdk_error_code).toBe(sdkErrorCode);
  return body;
}

const writeEnvelope = (msg: string) => ({ msg, code: 200, sdk_error_code: 0, data: null });

describe.each(backends)('Comet experiments facade (%s)', (backend) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function create(body: Record<string, unknown> = {}): Promise<string> {
    const response = await t.request('POST', `${V2}/write/experiment/create`, {
      body: { workspaceName: 'default', projectName: 'lifecycle', ...body },
    });
    return json(response, 200).experimentKey as string;
  }

  async function metadata(key: string, apiKey?: string) {
    return t.request('GET', `${V2}/experiment/metadata?experimentKey=${key}`, apiKey ? { key: apiKey } : {});
  }

  async function meta(key: string) {
    return json(await metadata(key), 200);
  }

  async function listKeys(query: string): Promise<string[]> {
    const body = json(await t.request('GET', `${V2}/experiments?${query}`), 200);
    return (body.experiments as { experimentKey: string }[]).map((row) => row.experimentKey);
  }

  describe('create and metadata', () => {
    it('creates an experiment (and its project) and reports full metadata', async () => {
      const before = Date.now();
      const response = await t.request('POST', `${V2}/write/experiment/create`, {
        body: { workspaceName: 'default', projectName: 'fresh', experimentName: 'first run', disableHeartBeat: true },
      });
      const body = json(response, 200);
      expect(body).toEqual({
        ...writeEnvelope('Created'),
        experimentKey: expect.stringMatching(/^[0-9a-f]{32}$/),
        workspaceName: 'default',
        projectName: 'fresh',
        link: `${PUBLIC_URL}/default/fresh/${body.experimentKey}`,
        name: 'first run',
      });
      // The write envelope leads with msg, the way the Java SDK's DTO is laid out.
      expect(Object.keys(body).slice(0, 4)).toEqual(['msg', 'code', 'sdk_error_code', 'data']);

      const project = json(await t.request('GET', `${V2}/project?workspaceName=default&projectName=fresh`), 200);
      const row = await meta(body.experimentKey);
      expect(row).toEqual({
        experimentKey: body.experimentKey,
        experimentName: 'first run',
        optimizationId: null,
        projectId: project.projectId,
        projectName: 'fresh',
        workspaceName: 'default',
        userName: 'admin',
        filePath: null,
        fileName: null,
        throttle: false,
        durationMillis: expect.any(Number),
        startTimeMillis: expect.any(Number),
        endTimeMillis: null,
        archived: false,
        running: true,
        hasCrashed: false,
        error: null,
        status: 'RUNNING',
        // Cairn additions: the same experiment in the Foundry API.
        experimentRid: `ri.models.main.experiment.${body.experimentKey}`,
        modelRid: expect.stringMatching(/^ri\.models\.main\.model\.[0-9a-f-]{36}$/),
      });
      expect(row.startTimeMillis).toBeGreaterThanOrEqual(before);
      expect(row.startTimeMillis).toBeLessThanOrEqual(Date.now());
      expect(row.durationMillis).toBeGreaterThanOrEqual(0);
      expect(row.durationMillis).toBeLessThanOrEqual(Date.now() - row.startTimeMillis);
    });

    it('accepts a client-chosen key once and refuses a second create with it', async () => {
      const chosen = 'a1B2c3D4e5F6a7B8c9D0e1F2a3B4c5D6e7';
      const response = await t.request('POST', `${V2}/write/experiment/create`, {
        body: { workspaceName: 'default', projectName: 'lifecycle', experimentKey: chosen, experimentName: null },
      });
      expect(json(response, 200)).toMatchObject({ experimentKey: chosen, name: null });
      expect((await meta(chosen)).experimentName).toBeNull();
      const again = await t.request('POST', `${V2}/write/experiment/create`, {
        body: { workspaceName: 'default', projectName: 'other', experimentKey: chosen },
      });
      expectError(again, 400, 90999);
      // The refused create did not move the experiment or create the project it named.
      expect((await meta(chosen)).projectName).toBe('lifecycle');
      expectError(await t.request('GET', `${V2}/project?workspaceName=default&projectName=other`), 404);
    });

    it('serves the alias root /clientlib/rest/v2 too', async () => {
      const key = await create();
      const response = await t.request('GET', `/clientlib/rest/v2/experiment/metadata?experimentKey=${key}`);
      expect(json(response, 200).experimentKey).toBe(key);
    });

    it('rejects bad create input with 400 and creates nothing', async () => {
      const cases: [Record<string, unknown>, number?][] = [
        [{ projectName: 'bad-input' }],
        [{ workspaceName: 'default' }],
        [{ workspaceName: 'default', projectName: 'bad-input', experimentName: { nested: true } }],
        [{ workspaceName: 'default', projectName: 'bad-input', experimentKey: 'too-short' }],
        [{ workspaceName: 'default', projectName: '' }, 98219],
        [{ workspaceName: 'default', projectName: 'x'.repeat(150) }, 1341241],
      ];
      for (const [body, sdkErrorCode] of cases) {
        const response = await t.request('POST', `${V2}/write/experiment/create`, { body });
        expectError(response, 400, sdkErrorCode);
      }
      const malformed = await t.request('POST', `${V2}/write/experiment/create`, {
        payload: '{"workspaceName":',
        headers: { 'content-type': 'application/json' },
      });
      expectError(malformed, 400);
      expectError(await t.request('GET', `${V2}/project?workspaceName=default&projectName=bad-input`), 404);
    });

    it('answers an unknown workspace with 404, another tenant with 404 and a read-only key with 403', async () => {
      const unknown = await t.request('POST', `${V2}/write/experiment/create`, {
        body: { workspaceName: 'nowhere', projectName: 'p' },
      });
      expectError(unknown, 404, 90219);
      const intruder = await t.request('POST', `${V2}/write/experiment/create`, {
        key: t.otherKey,
        body: { workspaceName: 'default', projectName: 'intruder' },
      });
      expectError(intruder, 404);
      const readOnly = await t.request('POST', `${V2}/write/experiment/create`, {
        key: t.readOnlyKey,
        body: { workspaceName: 'default', projectName: 'read-only' },
      });
      expectError(readOnly, 403);
      for (const name of ['intruder', 'read-only']) {
        expectError(await t.request('GET', `${V2}/project?workspaceName=default&projectName=${name}`), 404);
      }
    });

    it('answers metadata for unknown, missing and foreign keys with Comet errors', async () => {
      expectError(await metadata(UNKNOWN_KEY), 404, 90211);
      expectError(await t.request('GET', `${V2}/experiment/metadata`), 400);
      expectError(await t.request('GET', `${V2}/experiment/metadata?experimentKey=`), 400);
      const key = await create();
      expectError(await metadata(key, t.otherKey), 404, 90211);
      expectError(await t.request('GET', `${V2}/experiment/metadata?experimentKey=${key}`, { key: null }), 401);
    });
  });

  describe('GET /experiments', () => {
    let projectId: string;
    let live: string;
    let archived: string;
    let linked: string;
    beforeAll(async () => {
      live = await create({ projectName: 'listing', experimentName: 'live' });
      archived = await create({ projectName: 'listing' });
      linked = await create({ projectName: 'listing-source' });
      json(await t.request('GET', `${V2}/write/experiment/archive?experimentKey=${archived}`), 200);
      json(await t.request('GET', `${V2}/write/project/symlink?experimentKey=${linked}&projectName=listing`), 200);
      projectId = json(await t.request('GET', `${V2}/project?workspaceName=default&projectName=listing`), 200)
        .projectId as string;
    });

    it('lists every experiment, symlinked ones included, as full metadata rows', async () => {
      const body = json(await t.request('GET', `${V2}/experiments?projectId=${projectId}`), 200);
      const keys = body.experiments.map((row: { experimentKey: string }) => row.experimentKey);
      // Oldest first, but experiments created within one millisecond tie, so compare as sets.
      expect([...keys].sort()).toEqual([live, archived, linked].sort());
      for (const row of body.experiments) {
        // A running experiment's duration grows between the two reads.
        const single = json(await metadata(row.experimentKey), 200);
        expect({ ...row, durationMillis: 0 }).toEqual({ ...single, durationMillis: 0 });
        expect(row).toHaveProperty('archived');
        expect(row).toHaveProperty('experimentName');
      }
      // A symlinked row still names its home project.
      expect(body.experiments[2]).toMatchObject({ experimentKey: linked, projectName: 'listing-source' });
      expect(await listKeys('workspaceName=default&projectName=listing')).toEqual(keys);
    });

    it('filters on archived: false, true, and the spellings clients send', async () => {
      expect((await listKeys(`projectId=${projectId}&archived=false`)).sort()).toEqual([live, linked].sort());
      expect(await listKeys(`projectId=${projectId}&archived=true`)).toEqual([archived]);
      expect(await listKeys(`projectId=${projectId}&archived=TRUE`)).toEqual([archived]);
      expect((await listKeys(`projectId=${projectId}&archived=0`)).sort()).toEqual([live, linked].sort());
    });

    it('rejects missing or malformed parameters with 400', async () => {
      expectError(await t.request('GET', `${V2}/experiments`), 400);
      expectError(await t.request('GET', `${V2}/experiments?workspaceName=default`), 400);
      expectError(await t.request('GET', `${V2}/experiments?projectId=${projectId}&archived=maybe`), 400);
    });

    it('answers unknown and foreign projects with 404', async () => {
      expectError(await t.request('GET', `${V2}/experiments?projectId=${UNKNOWN_KEY}`), 404);
      expectError(await t.request('GET', `${V2}/experiments?workspaceName=default&projectName=nope`), 404);
      expectError(await t.request('GET', `${V2}/experiments?projectId=${projectId}`, { key: t.otherKey }), 404);
    });

    it('lets a read-only key read', async () => {
      const response = await t.request('GET', `${V2}/experiments?projectId=${projectId}`, { key: t.readOnlyKey });
      expect(json(response, 200).experiments).toHaveLength(3);
    });
  });

  describe('GET lifecycle writes', () => {
    it('stop ends the run and records its end', async () => {
      const key = await create();
      const response = await t.request('GET', `${V2}/write/experiment/stop?experimentKey=${key}`);
      expect(json(response, 200)).toEqual(writeEnvelope('Stop Requested'));
      const row = await meta(key);
      expect(row).toMatchObject({ running: false, status: 'SUCCEEDED' });
      expect(row.endTimeMillis).toBeGreaterThanOrEqual(row.startTimeMillis);
      expect(row.durationMillis).toBe(row.endTimeMillis - row.startTimeMillis);
      // Stopping twice keeps the first end.
      json(await t.request('GET', `${V2}/write/experiment/stop?experimentKey=${key}`), 200);
      expect((await meta(key)).endTimeMillis).toBe(row.endTimeMillis);
    });

    it('archive and restore flip the archived flag', async () => {
      const key = await create();
      const archived = await t.request('GET', `${V2}/write/experiment/archive?experimentKey=${key}`);
      expect(json(archived, 200)).toEqual(writeEnvelope('Archived'));
      expect((await meta(key)).archived).toBe(true);
      const restored = await t.request('GET', `${V2}/write/experiment/restore?experimentKey=${key}`);
      expect(json(restored, 200)).toEqual(writeEnvelope('Restore'));
      expect((await meta(key)).archived).toBe(false);
    });

    it('delete removes the experiment from reads and lists', async () => {
      const key = await create({ projectName: 'deleting' });
      const response = await t.request('GET', `${V2}/write/experiment/delete?experimentKey=${key}`);
      expect(json(response, 200)).toEqual(writeEnvelope('Deleted'));
      expectError(await metadata(key), 404, 90211);
      expect(await listKeys('workspaceName=default&projectName=deleting')).toEqual([]);
      expectError(await t.request('GET', `${V2}/write/experiment/delete?experimentKey=${key}`), 404, 90211);
    });

    it('set-status answers the beat intervals and resumes an ended run', async () => {
      const key = await create();
      json(await t.request('GET', `${V2}/write/experiment/stop?experimentKey=${key}`), 200);
      expect((await meta(key)).running).toBe(false);
      const response = await t.request('GET', `${V2}/write/experiment/set-status?experimentKey=${key}`);
      expect(json(response, 200)).toEqual({
        ...writeEnvelope('Status updated'),
        isAliveBeatDurationMillis: 10000,
        gpuMonitorIntervalMillis: 60000,
        cpuMonitorIntervalMillis: 68000,
      });
      expect(await meta(key)).toMatchObject({ running: true, status: 'RUNNING', endTimeMillis: null });
    });

    const endpoints = ['stop', 'archive', 'restore', 'delete', 'set-status'];

    it.each(endpoints)('%s: unknown key 404, missing or empty key 400', async (endpoint) => {
      expectError(
        await t.request('GET', `${V2}/write/experiment/${endpoint}?experimentKey=${UNKNOWN_KEY}`),
        404,
        90211,
      );
      expectError(await t.request('GET', `${V2}/write/experiment/${endpoint}`), 400);
      expectError(await t.request('GET', `${V2}/write/experiment/${endpoint}?experimentKey=`), 400);
    });

    it.each(endpoints)('%s: another tenant gets 404, a read-only key 403, and nothing changes', async (endpoint) => {
      const key = await create({ experimentName: `guarded-${endpoint}` });
      const before = await meta(key);
      const url = `${V2}/write/experiment/${endpoint}?experimentKey=${key}`;
      expectError(await t.request('GET', url, { key: t.otherKey }), 404, 90211);
      expectError(await t.request('GET', url, { key: t.readOnlyKey }), 403);
      const after = await meta(key);
      expect({ ...after, durationMillis: 0 }).toEqual({ ...before, durationMillis: 0 });
    });
  });

  describe('POST /write/experiment/move', () => {
    it('moves experiments to another project, creating it', async () => {
      const a = await create({ projectName: 'move-from' });
      const b = await create({ projectName: 'move-from' });
      const response = await t.request('POST', `${V2}/write/experiment/move`, {
        body: { targetWorkspaceName: 'default', targetProjectName: 'move-to', experimentKeys: [a, b], symlink: false },
      });
      expect(json(response, 200)).toEqual(writeEnvelope('Moved'));
      expect(await listKeys('workspaceName=default&projectName=move-from')).toEqual([]);
      expect((await listKeys('workspaceName=default&projectName=move-to')).sort()).toEqual([a, b].sort());
      expect((await meta(a)).projectName).toBe('move-to');
    });

    it('symlinks when asked, keeping the home project', async () => {
      const key = await create({ projectName: 'link-home' });
      const response = await t.request('POST', `${V2}/write/experiment/move`, {
        body: {
          targetWorkspaceName: 'default',
          targetProjectName: 'link-target',
          experimentKeys: [key],
          symlink: true,
        },
      });
      expect(json(response, 200)).toEqual(writeEnvelope('Symlinked'));
      expect(await listKeys('workspaceName=default&projectName=link-home')).toEqual([key]);
      expect(await listKeys('workspaceName=default&projectName=link-target')).toEqual([key]);
      expect((await meta(key)).projectName).toBe('link-home');
    });

    it('moves across workspaces but refuses a symlink across them', async () => {
      json(await t.request('POST', `${V2}/write/workspace/new`, { body: { name: `other-${backend}` } }), 200);
      const key = await create({ projectName: 'cross' });
      const symlink = await t.request('POST', `${V2}/write/experiment/move`, {
        body: { targetWorkspaceName: `other-${backend}`, targetProjectName: 'p', experimentKeys: [key], symlink: true },
      });
      expectError(symlink, 400);
      expectError(await t.request('GET', `${V2}/project?workspaceName=other-${backend}&projectName=p`), 404);
      const moved = await t.request('POST', `${V2}/write/experiment/move`, {
        body: {
          targetWorkspaceName: `other-${backend}`,
          targetProjectName: 'p',
          experimentKeys: [key],
          symlink: false,
        },
      });
      json(moved, 200);
      expect(await meta(key)).toMatchObject({ workspaceName: `other-${backend}`, projectName: 'p' });
    });

    it('rejects bad bodies with 400', async () => {
      const key = await create();
      const bodies: Record<string, unknown>[] = [
        { targetProjectName: 'p', experimentKeys: [key], symlink: false },
        { targetWorkspaceName: 'default', targetProjectName: 'p', symlink: false },
        { targetWorkspaceName: 'default', targetProjectName: 'p', experimentKeys: [key] },
        { targetWorkspaceName: 'default', targetProjectName: 'p', experimentKeys: [], symlink: false },
        { targetWorkspaceName: 'default', targetProjectName: 'p', experimentKeys: [{ key }], symlink: false },
        { targetWorkspaceName: 'default', targetProjectName: 'p', experimentKeys: [key], symlink: 'sometimes' },
      ];
      for (const body of bodies) {
        expectError(await t.request('POST', `${V2}/write/experiment/move`, { body }), 400);
      }
      expect((await meta(key)).projectName).toBe('lifecycle');
    });

    it('moves nothing when one key is unknown, foreign or the key is read-only', async () => {
      const key = await create({ projectName: 'stay' });
      const body = (keys: string[]) => ({
        targetWorkspaceName: 'default',
        targetProjectName: 'never',
        experimentKeys: keys,
        symlink: false,
      });
      expectError(
        await t.request('POST', `${V2}/write/experiment/move`, { body: body([key, UNKNOWN_KEY]) }),
        404,
        90211,
      );
      expectError(
        await t.request('POST', `${V2}/write/experiment/move`, { key: t.readOnlyKey, body: body([key]) }),
        403,
      );
      const foreign = await t.request('POST', `${V2}/write/experiment/move`, {
        key: t.otherKey,
        body: { ...body([key]), targetWorkspaceName: 'bob' },
      });
      expectError(foreign, 404, 90211);
      expect((await meta(key)).projectName).toBe('stay');
      expectError(await t.request('GET', `${V2}/project?workspaceName=default&projectName=never`), 404);
      const bobProject = await t.request('GET', `${V2}/project?workspaceName=bob&projectName=never`, {
        key: t.otherKey,
      });
      expectError(bobProject, 404);
    });
  });

  describe('GET /write/project/symlink', () => {
    it('symlinks with experimentKey or the documented misspelling exerimentKey', async () => {
      const first = await create({ projectName: 'sym-home' });
      const second = await create({ projectName: 'sym-home' });
      const response = await t.request(
        'GET',
        `${V2}/write/project/symlink?experimentKey=${first}&projectName=sym%20target`,
      );
      expect(json(response, 200)).toEqual({
        ...writeEnvelope('Symlinked'),
        link: `${PUBLIC_URL}/default/sym%20target/${first}`,
      });
      const misspelt = await t.request(
        'GET',
        `${V2}/write/project/symlink?exerimentKey=${second}&projectName=sym%20target`,
      );
      json(misspelt, 200);
      const both = [first, second].sort();
      expect((await listKeys('workspaceName=default&projectName=sym%20target')).sort()).toEqual(both);
      expect((await listKeys('workspaceName=default&projectName=sym-home')).sort()).toEqual(both);
    });

    it('rejects missing parameters and unknown keys', async () => {
      const key = await create();
      expectError(await t.request('GET', `${V2}/write/project/symlink?projectName=p`), 400, 90998);
      expectError(await t.request('GET', `${V2}/write/project/symlink?experimentKey=${key}`), 400);
      expectError(
        await t.request('GET', `${V2}/write/project/symlink?experimentKey=${UNKNOWN_KEY}&projectName=p`),
        404,
        90211,
      );
    });

    it('answers another tenant with 404 and a read-only key with 403, linking nothing', async () => {
      const key = await create({ projectName: 'sym-guarded' });
      const url = `${V2}/write/project/symlink?experimentKey=${key}&projectName=sym-never`;
      expectError(await t.request('GET', url, { key: t.otherKey }), 404, 90211);
      expectError(await t.request('GET', url, { key: t.readOnlyKey }), 403);
      expectError(await t.request('GET', `${V2}/experiments?workspaceName=default&projectName=sym-never`), 404);
    });
  });

  describe('POST /write/experiment/set-start-end-time', () => {
    const url = `${V2}/write/experiment/set-start-end-time`;

    it('sets both times, and puts a missing end one second after a lone start', async () => {
      const key = await create();
      const both = await t.request('POST', url, {
        body: { experimentKey: key, startTimeMillis: 1_600_000_000_000, endTimeMillis: 1_600_000_060_000 },
      });
      expect(json(both, 200)).toEqual(writeEnvelope('Updated'));
      expect(await meta(key)).toMatchObject({
        startTimeMillis: 1_600_000_000_000,
        endTimeMillis: 1_600_000_060_000,
        durationMillis: 60_000,
      });
      const other = await create();
      json(await t.request('POST', url, { body: { experimentKey: other, startTimeMillis: 1_500_000_000_000 } }), 200);
      expect(await meta(other)).toMatchObject({
        startTimeMillis: 1_500_000_000_000,
        endTimeMillis: 1_500_000_001_000,
        durationMillis: 1000,
      });
    });

    it('puts a never-set start one second before a lone end that precedes it (comet_ml set_end_time)', async () => {
      // comet_ml's APIExperiment.set_end_time on a fresh experiment, as when importing a past run.
      const key = await create();
      json(await t.request('POST', url, { body: { experimentKey: key, endTimeMillis: 1_600_000_060_000 } }), 200);
      expect(await meta(key)).toMatchObject({
        startTimeMillis: 1_600_000_059_000,
        endTimeMillis: 1_600_000_060_000,
        durationMillis: 1000,
      });
      // A later end keeps the creation time as the start.
      const live = await create();
      const created = (await meta(live)).startTimeMillis as number;
      json(await t.request('POST', url, { body: { experimentKey: live, endTimeMillis: created + 5000 } }), 200);
      expect(await meta(live)).toMatchObject({ startTimeMillis: created, endTimeMillis: created + 5000 });
      // A start that was set explicitly is kept: an end before it is still refused.
      json(await t.request('POST', url, { body: { experimentKey: live, startTimeMillis: 2_000_000 } }), 200);
      expectError(await t.request('POST', url, { body: { experimentKey: live, endTimeMillis: 1_000_000 } }), 400);
      expect(await meta(live)).toMatchObject({ startTimeMillis: 2_000_000, endTimeMillis: created + 5000 });
    });

    it('rejects bad times with 400 and keeps the old ones', async () => {
      const key = await create();
      json(
        await t.request('POST', url, { body: { experimentKey: key, startTimeMillis: 1000, endTimeMillis: 5000 } }),
        200,
      );
      const bodies: Record<string, unknown>[] = [
        { experimentKey: key, endTimeMillis: 500 },
        { experimentKey: key, startTimeMillis: 'yesterday' },
        { experimentKey: key, startTimeMillis: -5 },
        { experimentKey: key, startTimeMillis: 1.5 },
        { startTimeMillis: 1000 },
      ];
      for (const body of bodies) expectError(await t.request('POST', url, { body }), 400);
      expect(await meta(key)).toMatchObject({ startTimeMillis: 1000, endTimeMillis: 5000 });
    });

    it('answers unknown, foreign and read-only callers without changing anything', async () => {
      const key = await create();
      const before = await meta(key);
      const body = (experimentKey: string) => ({ experimentKey, startTimeMillis: 1, endTimeMillis: 2 });
      expectError(await t.request('POST', url, { body: body(UNKNOWN_KEY) }), 404, 90211);
      expectError(await t.request('POST', url, { key: t.otherKey, body: body(key) }), 404, 90211);
      expectError(await t.request('POST', url, { key: t.readOnlyKey, body: body(key) }), 403);
      const after = await meta(key);
      expect(after.startTimeMillis).toBe(before.startTimeMillis);
      expect(after.endTimeMillis).toBeNull();
    });
  });

  describe('POST /write/experiment/update-status', () => {
    const url = `${V2}/write/experiment/update-status`;

    it('keeps a run alive with its reported error, and ends it on isAlive=false', async () => {
      const key = await create();
      const alive = await t.request('POST', url, {
        body: { experimentKey: key, isAlive: true, error: 'ValueError: boom', hasCrashed: false },
      });
      expect(json(alive, 200)).toEqual(writeEnvelope('Status updated'));
      expect(await meta(key)).toMatchObject({ running: true, status: 'RUNNING', error: 'ValueError: boom' });
      json(
        await t.request('POST', url, { body: { experimentKey: key, isAlive: false, error: null, hasCrashed: true } }),
        200,
      );
      const row = await meta(key);
      expect(row).toMatchObject({ running: false, status: 'FAILED', hasCrashed: true, error: null });
      expect(row.endTimeMillis).toEqual(expect.any(Number));

      const clean = await create();
      json(await t.request('POST', url, { body: { experimentKey: clean, isAlive: false } }), 200);
      expect(await meta(clean)).toMatchObject({ running: false, status: 'SUCCEEDED', hasCrashed: false });
    });

    it('rejects bad bodies with 400, and unknown, foreign and read-only callers', async () => {
      const key = await create();
      for (const body of [{ experimentKey: key }, { experimentKey: key, isAlive: { yes: 1 } }, { isAlive: true }]) {
        expectError(await t.request('POST', url, { body }), 400);
      }
      const crash = (experimentKey: string) => ({ experimentKey, isAlive: false, hasCrashed: true });
      expectError(await t.request('POST', url, { body: crash(UNKNOWN_KEY) }), 404, 90211);
      expectError(await t.request('POST', url, { key: t.otherKey, body: crash(key) }), 404, 90211);
      expectError(await t.request('POST', url, { key: t.readOnlyKey, body: crash(key) }), 403);
      expect(await meta(key)).toMatchObject({ running: true, status: 'RUNNING', hasCrashed: false });
    });
  });

  describe('POST /write/experiment/file-path', () => {
    const url = `${V2}/write/experiment/file-path`;

    it('records the path and its basename, for POSIX and Windows paths', async () => {
      const key = await create();
      const response = await t.request('POST', url, { body: { experimentKey: key, filePath: '/home/me/train.py' } });
      expect(json(response, 200)).toEqual(writeEnvelope('Saved'));
      expect(await meta(key)).toMatchObject({ filePath: '/home/me/train.py', fileName: 'train.py' });
      json(await t.request('POST', url, { body: { experimentKey: key, filePath: 'C:\\work\\fit.py' } }), 200);
      expect(await meta(key)).toMatchObject({ filePath: 'C:\\work\\fit.py', fileName: 'fit.py' });
    });

    it('rejects bad bodies with 400, and unknown, foreign and read-only callers', async () => {
      const key = await create();
      const bodies: Record<string, unknown>[] = [
        { experimentKey: key },
        { experimentKey: key, filePath: { path: 'x' } },
        { experimentKey: key, filePath: 'a\nb.py' },
        { filePath: 'x.py' },
      ];
      for (const body of bodies) expectError(await t.request('POST', url, { body }), 400);
      const path = (experimentKey: string) => ({ experimentKey, filePath: '/evil.py' });
      expectError(await t.request('POST', url, { body: path(UNKNOWN_KEY) }), 404, 90211);
      expectError(await t.request('POST', url, { key: t.otherKey, body: path(key) }), 404, 90211);
      expectError(await t.request('POST', url, { key: t.readOnlyKey, body: path(key) }), 403);
      expect(await meta(key)).toMatchObject({ filePath: null, fileName: null });
    });
  });

  describe('public projects', () => {
    it('let another tenant read an experiment but not write to it', async () => {
      const projectId = json(
        await t.request('POST', `${V2}/write/project/create`, {
          body: { workspaceName: 'default', projectName: 'open', isPublic: true },
        }),
        200,
      ).projectId as string;
      const key = await create({ projectName: 'open' });
      expect(json(await metadata(key, t.otherKey), 200).experimentKey).toBe(key);
      const listed = await t.request('GET', `${V2}/experiments?projectId=${projectId}`, { key: t.otherKey });
      expect(json(listed, 200).experiments).toHaveLength(1);
      expectError(
        await t.request('GET', `${V2}/write/experiment/archive?experimentKey=${key}`, { key: t.otherKey }),
        404,
        90210,
      );
      expect((await meta(key)).archived).toBe(false);
    });
  });
});

describe.each(backends)('Comet experiment liveness over time (%s)', (backend) => {
  const START = 1_700_000_000_000;
  const clock = { time: START, now: () => clock.time };
  let store: TestStore;
  let app: FastifyInstance;

  beforeAll(async () => {
    store = await openTestStore(backend);
    const core = createCore({
      store: store.store,
      blobs: new FileBlobStore(store.blobDir),
      limits: { maxAssetBytes: 1024 },
      clock,
    });
    await core.auth.bootstrap(ADMIN_KEY);
    app = await buildApp({ core, config: { bodyLimitBytes: 1024 * 1024, publicUrl: PUBLIC_URL } });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  async function call(method: 'GET' | 'POST', url: string, body?: Record<string, unknown>) {
    const response = await app.inject({
      method,
      url: `${V2}${url}`,
      headers: { authorization: ADMIN_KEY },
      ...(body ? { payload: body } : {}),
    });
    return json(response, 200);
  }

  it('counts the duration while running and ends a run whose beats stop at its last beat', async () => {
    clock.time = START;
    const { experimentKey: key } = await call('POST', '/write/experiment/create', {
      workspaceName: 'default',
      projectName: 'clocked',
    });
    clock.time = START + 5_000;
    expect(await call('GET', `/experiment/metadata?experimentKey=${key}`)).toMatchObject({
      running: true,
      status: 'RUNNING',
      durationMillis: 5_000,
      endTimeMillis: null,
    });

    clock.time = START + 8_000;
    await call('GET', `/write/experiment/set-status?experimentKey=${key}`);
    clock.time = START + 8_000 + HEARTBEAT_TIMEOUT_MILLIS;
    expect((await call('GET', `/experiment/metadata?experimentKey=${key}`)).running).toBe(true);

    clock.time = START + 8_000 + HEARTBEAT_TIMEOUT_MILLIS + 1;
    expect(await call('GET', `/experiment/metadata?experimentKey=${key}`)).toMatchObject({
      running: false,
      status: 'SUCCEEDED',
      endTimeMillis: START + 8_000,
      durationMillis: 8_000,
    });

    // Stopping a quiet run keeps the end it already showed.
    clock.time = START + 500_000;
    await call('GET', `/write/experiment/stop?experimentKey=${key}`);
    expect(await call('GET', `/experiment/metadata?experimentKey=${key}`)).toMatchObject({
      running: false,
      status: 'SUCCEEDED',
      endTimeMillis: START + 8_000,
    });
  });

  it('reports a quiet run that reported an error as FAILED', async () => {
    clock.time = START;
    const { experimentKey: key } = await call('POST', '/write/experiment/create', {
      workspaceName: 'default',
      projectName: 'clocked',
    });
    await call('POST', '/write/experiment/update-status', { experimentKey: key, isAlive: true, error: 'OOM' });
    clock.time = START + HEARTBEAT_TIMEOUT_MILLIS + 1;
    expect(await call('GET', `/experiment/metadata?experimentKey=${key}`)).toMatchObject({
      running: false,
      status: 'FAILED',
      error: 'OOM',
      endTimeMillis: START,
    });
  });
});
