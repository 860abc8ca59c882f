import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore } from '../src/core/core.js';
import { HEARTBEAT_TIMEOUT_MILLIS } from '../src/core/experiments.service.js';
import type { Repositories, Store } from '../src/core/store.port.js';
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
import { multipart, sampleBytes } from './support/wire-bodies.js';

const CL = '/clientlib';
const V2 = '/api/rest/v2';
const T0 = 1_700_000_000_000;

/** A client-chosen key, as comet_ml makes them (uuid4 hex). */
const newKey = () => randomBytes(16).toString('hex');

/** A JSON body the way comet_ml sends batches: gzip, with its own content type. */
function gzipped(body: unknown) {
  return {
    payload: gzipSync(Buffer.from(JSON.stringify(body))),
    headers: { 'content-type': 'application/json;charset=utf-8', 'content-encoding': 'gzip' },
  };
}

function json(response: LightMyRequestResponse, status = 200) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toBe('application/json');
  return response.json();
}

function expectCometError(response: LightMyRequestResponse, status: number, sdkErrorCode?: number) {
  const body = json(response, status);
  expect(body).toMatchObject({ code: status, data: null, msg: expect.any(String) });
  expect(Object.keys(body)[0]).toBe('msg');
  if (sdkErrorCode !== undefined) expect(body.sdk_error_code).toBe(sdkErrorCode);
  return body;
}

describe.each(backends)('Comet clientlib: live logging from comet_ml (%s)', (backend) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The handshake as comet_ml 3.32.5 sends it: the key in the body, no Authorization header. */
  function addRun(fields: Record<string, unknown>, apiKey: string | null = t.adminKey) {
    return t.request('POST', `${CL}/logger/add/run`, {
      key: null,
      body: { apiKey, local_timestamp: T0, offline: false, libVersion: '3.32.5', ...fields },
    });
  }

  async function newRun(projectName = 'live'): Promise<string> {
    const key = newKey();
    json(await addRun({ experimentKey: key, projectName, teamName: 'default' }));
    return key;
  }

  async function read(path: string, key: string) {
    return json(await t.request('GET', `${V2}/${path}experimentKey=${key}`));
  }

  function metricBatch(key: string, values: Record<string, unknown>[], headers: Record<string, string> = {}) {
    const body = gzipped({ experimentKey: key, values });
    return t.request('POST', `${CL}/batch/logger/experiment/metric`, {
      payload: body.payload,
      headers: { ...body.headers, ...headers },
    });
  }

  function parameterBatch(key: string, values: Record<string, unknown>[]) {
    return t.request('POST', `${CL}/batch/logger/experiment/parameter`, gzipped({ experimentKey: key, values }));
  }

  async function points(key: string, name: string) {
    const body = await read(`experiment/metrics/get-metric?metricName=${encodeURIComponent(name)}&`, key);
    return body.metrics as Record<string, unknown>[];
  }

  describe('handshake', () => {
    it('adopts the client key, creates the project and switches the client to HTTP', async () => {
      const key = newKey();
      const body = json(await addRun({ experimentKey: key, projectName: 'handshake-new', teamName: 'default' }));
      const project = json(await t.request('GET', `${V2}/project?workspaceName=default&projectName=handshake-new`));
      expect(body).toEqual({
        runId: expect.stringMatching(/^[0-9a-f]{32}$/),
        ws_url: null,
        project_id: project.projectId,
        lastOffset: 0,
        focusUrl: `${PUBLIC_URL}/default/handshake-new/`,
        featureToggles: [{ name: 'sdk_use_http_messages', enabled: true }],
        upload_file_size_limit_in_mb: 1,
        asset_upload_file_size_limit_in_mb: 1,
        cometWebAssetUrl: null,
        cometWebImageUrl: null,
        cometRestApiAssetUrl: `${PUBLIC_URL}/api/rest/v2/experiment/asset/get-asset`,
        cometRestApiImageUrl: `${PUBLIC_URL}/api/rest/v2/experiment/asset/get-asset`,
        name: null,
        githubEnabled: false,
        s3DirectAccessEnabled: false,
      });
      expect(await read('experiment/metadata?', key)).toMatchObject({
        experimentKey: key,
        projectName: 'handshake-new',
        workspaceName: 'default',
        running: true,
      });
    });

    it('refuses a key in use with 90999 unless asked to get or create', async () => {
      const key = await newRun('handshake-taken');
      expectCometError(await addRun({ experimentKey: key, projectName: 'elsewhere', teamName: 'default' }), 400, 90999);
      const resumed = json(
        await addRun({ experimentKey: key, projectName: 'elsewhere', teamName: 'default', getOrCreate: true }),
      );
      const project = json(await t.request('GET', `${V2}/project?workspaceName=default&projectName=handshake-taken`));
      expect(resumed.project_id).toBe(project.projectId);
      // No project "elsewhere" was made for the run that already had one.
      expect((await t.request('GET', `${V2}/project?workspaceName=default&projectName=elsewhere`)).statusCode).toBe(
        404,
      );
    });

    it('puts a run without workspace or project in the default workspace, project "general"', async () => {
      const key = newKey();
      json(await addRun({ experimentKey: key, projectName: null, teamName: null }));
      expect(await read('experiment/metadata?', key)).toMatchObject({
        workspaceName: 'default',
        projectName: 'general',
      });
    });

    it('answers what comet_ml turns into exceptions with 400 and its sdk_error_code', async () => {
      expectCometError(await addRun({ experimentKey: newKey(), projectName: 'p' }, 'NotAKey'), 400, 90212);
      expectCometError(await addRun({ experimentKey: newKey(), projectName: 'p' }, null), 400, 90212);
      expectCometError(await addRun({ experimentKey: newKey(), projectName: 'p', teamName: 'nowhere' }), 400, 90219);
      // Another tenant's workspace is as unknown as a missing one.
      expectCometError(await addRun({ experimentKey: newKey(), projectName: 'p', teamName: 'bob' }), 400, 90219);
      expectCometError(await addRun({ experimentKey: newKey(), projectName: ' ', teamName: 'default' }), 400, 98219);
      expectCometError(
        await addRun({ experimentKey: newKey(), projectName: 'x'.repeat(100), teamName: 'default' }),
        400,
        1341241,
      );
      expectCometError(await addRun({ projectName: 'p', teamName: 'default' }), 400, 90998);
      expectCometError(await addRun({ experimentKey: 'short', projectName: 'p', teamName: 'default' }), 400);
      // The key may also come in the Authorization header (newer clients send it on every call).
      const key = newKey();
      const viaHeader = await t.request('POST', `${CL}/logger/add/run`, {
        body: { experimentKey: key, projectName: 'p', teamName: 'default' },
      });
      expect(viaHeader.statusCode).toBe(200);
    });

    it('resumes an existing run with get/run, its name and last client offset', async () => {
      const key = await newRun('handshake-resume');
      json(
        await t.request('POST', `${V2}/write/experiment/log-other`, {
          body: { experimentKey: key, key: 'Name', value: 'first' },
        }),
      );
      json(
        await t.request('POST', `/clientlib/rest/v2/write/experiment/output`, {
          body: {
            experimentKey: key,
            outputLines: [
              { output: 'a\n', stderr: false, localTimestamp: 1, offset: 7 },
              { output: 'b\n', stderr: true, localTimestamp: 1, offset: 9 },
            ],
          },
        }),
      );
      const getRun = (previousExperiment: string, apiKey = t.adminKey) =>
        t.request('POST', `${CL}/logger/get/run`, {
          key: null,
          body: { apiKey, previousExperiment, local_timestamp: T0, libVersion: '3.32.5' },
        });
      const body = json(await getRun(key));
      expect(body).toMatchObject({
        lastOffset: 9,
        name: 'first',
        ws_url: null,
        focusUrl: `${PUBLIC_URL}/default/handshake-resume/`,
      });
      expectCometError(await getRun(newKey()), 400, 90211);
      expectCometError(await getRun(key, 'NotAKey'), 400, 90212);
      expectCometError(await getRun(key, t.otherKey), 400, 90211);
    });

    it('copies the steps up to N into a new run with copy-steps-from-experiment', async () => {
      const source = await newRun('handshake-copy');
      json(
        await metricBatch(source, [
          { metricName: 'loss', metricValue: 1, step: 1, timestamp: T0 + 1 },
          { metricName: 'loss', metricValue: 2, step: 2, epoch: 1, context: 'train', timestamp: T0 + 2 },
          { metricName: 'loss', metricValue: 3, step: 3, timestamp: T0 + 3 },
          { metricName: 'nostep', metricValue: 3, timestamp: T0 + 3 },
        ]),
      );
      json(
        await parameterBatch(source, [
          { parameterName: 'lr', parameterValue: 0.1, step: null, timestamp: T0 },
          { parameterName: 'late', parameterValue: 'x', step: 3, timestamp: T0 },
        ]),
      );
      const copy = newKey();
      const body = json(
        await t.request('POST', `${CL}/logger/copy-steps-from-experiment`, {
          key: null,
          body: { apiKey: t.adminKey, copiedExperimentKey: source, newExperimentKey: copy, stepToCopyTo: 2 },
        }),
      );
      expect(body.lastOffset).toBe(0);
      expect(await read('experiment/metadata?', copy)).toMatchObject({ projectName: 'handshake-copy' });
      expect(
        (await points(copy, 'loss')).map((p) => [p.metricValue, p.step, p.epoch, p.runContext, p.timestamp]),
      ).toEqual([
        [1, 1, null, null, T0 + 1],
        [2, 2, 1, 'train', T0 + 2],
      ]);
      expect(await points(copy, 'nostep')).toEqual([]);
      const params = (await read('experiment/parameters?', copy)).values.map((v: { name: string }) => v.name);
      expect(params).toEqual(['lr']);
      expect((await points(source, 'loss')).length).toBe(3);
    });
  });

  describe('status reports', () => {
    function status(key: string, alive: boolean, extra: Record<string, unknown> = {}) {
      return t.request('POST', `${CL}/status-report/update`, {
        key: null,
        body: {
          apiKey: t.adminKey,
          runId: 'r',
          experimentKey: key,
          projectId: 'p',
          is_alive: alive,
          local_timestamp: T0,
          offline: false,
          ...extra,
        },
      });
    }

    it('beats while alive, ends on is_alive=false, and hands out the intervals comet_ml requires', async () => {
      const key = await newRun('status');
      expect(json(await status(key, true))).toEqual({
        is_alive_beat_duration_millis: 10_000,
        gpu_monitor_interval_millis: 60_000,
        cpu_monitor_interval_millis: 60_000,
        parameter_update_interval_millis: 60_000,
        pending_rpcs: false,
      });
      expect((await read('experiment/metadata?', key)).running).toBe(true);
      json(await status(key, false));
      const ended = await read('experiment/metadata?', key);
      expect(ended).toMatchObject({ running: false, status: 'SUCCEEDED' });
      expect(ended.endTimeMillis).toBeGreaterThanOrEqual(ended.startTimeMillis);
      // ExistingExperiment beats again: the run resumes.
      json(await status(key, true));
      expect(await read('experiment/metadata?', key)).toMatchObject({ running: true, endTimeMillis: null });
    });

    it('restores an offline run its own start and end times', async () => {
      const key = await newRun('status-offline');
      json(await status(key, true, { offline: true }));
      json(await status(key, false, { offline: true }));
      json(
        await t.request('POST', `${CL}/status-report/offline-metadata`, {
          key: null,
          body: { apiKey: t.adminKey, runId: 'r', experimentKey: key, startTimestamp: T0, endTimestamp: T0 + 90_000 },
        }),
      );
      expect(await read('experiment/metadata?', key)).toMatchObject({
        startTimeMillis: T0,
        endTimeMillis: T0 + 90_000,
        durationMillis: 90_000,
        running: false,
      });
      expectCometError(
        await t.request('POST', `${CL}/status-report/offline-metadata`, {
          body: { experimentKey: key, startTimestamp: T0, endTimestamp: T0 - 1 },
        }),
        400,
      );
    });

    it('refuses malformed reports and unknown runs', async () => {
      const key = await newRun('status-bad');
      expectCometError(await t.request('POST', `${CL}/status-report/update`, { body: { experimentKey: key } }), 400);
      expectCometError(await status(newKey(), true), 404, 90211);
      expectCometError(
        await t.request('POST', `${CL}/status-report/update`, {
          key: null,
          body: { experimentKey: key, is_alive: true },
        }),
        401,
      );
    });
  });

  describe('metric and parameter batches', () => {
    it('stores a gzip metric batch in one append, with steps, epochs, contexts and non-finite values', async () => {
      const key = await newRun('batches');
      const response = await metricBatch(
        key,
        [
          { metricName: 'loss', metricValue: 0.5, step: 1, epoch: 1, context: 'train', timestamp: T0 + 1 },
          { metricName: 'loss', metricValue: 0.25, step: 2, epoch: null, context: null, timestamp: T0 + 2 },
          { metricName: 'acc', metricValue: '0.75', step: 2, epoch: 1.9, context: 'test', timestamp: T0 + 3 },
          { metricName: 'odd', metricValue: 'NaN', step: 3, timestamp: T0 + 4 },
          { metricName: 'odd', metricValue: 'Infinity', step: 4, timestamp: T0 + 5 },
          { metricName: 'odd', metricValue: true, step: 5, timestamp: T0 + 6 },
        ],
        { authorization: t.adminKey },
      );
      expect(json(response)).toEqual({
        msg: 'Stored 6',
        code: 200,
        sdk_error_code: 0,
        data: null,
        duplicate: false,
        stored: 6,
        skipped: 0,
      });
      const loss = await points(key, 'loss');
      expect(loss.map((p) => [p.metricValue, p.step, p.epoch, p.runContext, p.timestamp])).toEqual([
        [0.5, 1, 1, 'train', T0 + 1],
        [0.25, 2, null, null, T0 + 2],
      ]);
      expect((await points(key, 'acc')).map((p) => [p.metricValue, p.epoch, p.runContext])).toEqual([
        [0.75, 1, 'test'],
      ]);
      expect((await points(key, 'odd')).map((p) => p.metricValue)).toEqual(['NaN', 'Infinity', 1]);
      // One append: the batch's points hold consecutive offsets in batch order.
      const offsets = [...loss, ...(await points(key, 'acc')), ...(await points(key, 'odd'))].map(
        (p) => p.offset as number,
      );
      expect(offsets).toEqual(Array.from({ length: 6 }, (_, i) => (offsets[0] as number) + i));
    });

    it('leaves out points it cannot store and keeps the rest of the batch', async () => {
      const key = await newRun('batches-lenient');
      const body = json(
        await metricBatch(key, [
          { metricName: 'm', metricValue: 1, step: 1, timestamp: T0 },
          { metricName: 'm', metricValue: 'abc', step: 2, timestamp: T0 },
          { metricName: 'm', metricValue: 2, step: 2.5, timestamp: T0 },
          { metricName: 'm', metricValue: null, step: 3, timestamp: T0 },
          { metricName: '', metricValue: 1, step: 3, timestamp: T0 },
          { metricName: 'm', metricValue: 3, step: 4, timestamp: T0 },
        ]),
      );
      expect(body).toMatchObject({ duplicate: false, stored: 2, skipped: 4 });
      expect(body.msg).toContain('non-numeric value "abc"');
      expect((await points(key, 'm')).map((p) => [p.metricValue, p.step])).toEqual([
        [1, 1],
        [3, 4],
      ]);
    });

    it('stores parameter batches: scalars, lists as JSON text, dicts as the client sent them', async () => {
      const key = await newRun('batches-params');
      const body = json(
        await parameterBatch(key, [
          { parameterName: 'lr', parameterValue: 0.001, step: null, source: 'manual', context: null, timestamp: T0 },
          {
            parameterName: 'layers',
            parameterValue: [1, 2, 3],
            step: 4,
            source: 'manual',
            context: null,
            timestamp: T0,
          },
          {
            parameterName: 'cfg',
            parameterValue: '{"a": 1}',
            step: null,
            source: 'manual',
            context: null,
            timestamp: T0,
          },
          { parameterName: 'flag', parameterValue: true, step: null, source: 'cli', context: 'train', timestamp: T0 },
          {
            parameterName: 'curr_step',
            parameterValue: 4,
            step: 4,
            source: 'auto-logged',
            context: null,
            timestamp: T0,
          },
        ]),
      );
      expect(body).toMatchObject({ duplicate: false, stored: 5, skipped: 0 });
      const values = (await read('experiment/parameters?', key)).values as Record<string, unknown>[];
      expect(values.map((v) => [v.name, v.valueCurrent, v.stepCurrent, v.runContextCurrent])).toEqual([
        ['cfg', '{"a": 1}', null, null],
        ['curr_step', '4', 4, null],
        ['flag', 'true', null, 'train'],
        ['layers', '[1,2,3]', 4, null],
        ['lr', '0.001', null, null],
      ]);
    });

    it('acknowledges a replayed batch without storing it twice (metrics, parameters, live output)', async () => {
      const key = await newRun('batches-replay');
      const first = [
        { metricName: 'loss', metricValue: 1, step: 1, timestamp: T0 + 1 },
        { metricName: 'loss', metricValue: 2, step: 2, timestamp: T0 + 2 },
      ];
      const second = [{ metricName: 'loss', metricValue: 3, step: 3, timestamp: T0 + 3 }];
      expect(json(await metricBatch(key, first))).toMatchObject({ duplicate: false, stored: 2 });
      expect(json(await metricBatch(key, first))).toMatchObject({
        msg: 'Already stored: the batch replays one received before',
        duplicate: true,
        stored: 0,
      });
      expect(json(await metricBatch(key, second))).toMatchObject({ duplicate: false, stored: 1 });
      // A late replay of an older batch is still recognised.
      expect(json(await metricBatch(key, first))).toMatchObject({ duplicate: true });
      expect((await points(key, 'loss')).map((p) => p.metricValue)).toEqual([1, 2, 3]);
      // The same points in another run are that run's own.
      const other = await newRun('batches-replay');
      expect(json(await metricBatch(other, first))).toMatchObject({ duplicate: false, stored: 2 });

      const params = [{ parameterName: 'lr', parameterValue: 0.1, step: null, timestamp: T0 }];
      expect(json(await parameterBatch(key, params))).toMatchObject({ duplicate: false, stored: 1 });
      expect(json(await parameterBatch(key, params))).toMatchObject({ duplicate: true, stored: 0 });
      expect((await t.store.values.list(key, 'param')).map((v) => [v.name, v.text])).toEqual([['lr', '0.1']]);

      const output = {
        experimentKey: key,
        runContext: null,
        outputLines: [{ output: 'epoch 1\n', stderr: false, localTimestamp: 5, offset: 12 }],
      };
      const live = { 'x-comet-sdk-source': 'Experiment' };
      for (let i = 0; i < 2; i++) {
        json(
          await t.request('POST', `/clientlib/rest/v2/write/experiment/output`, {
            ...gzipped(output),
            headers: { ...gzipped(output).headers, ...live },
          }),
        );
      }
      expect((await read('experiment/output?', key)).output).toBe('epoch 1\n');
      // Other callers may post the same lines twice on purpose (the R SDK sends no timestamps).
      json(await t.request('POST', `${V2}/write/experiment/output`, { body: output }));
      expect((await read('experiment/output?', key)).output).toBe('epoch 1\nepoch 1\n');
    });

    it('applies concurrent sends of one batch once', async () => {
      const key = await newRun('batches-concurrent');
      const batch = Array.from({ length: 50 }, (_, i) => ({
        metricName: 'c',
        metricValue: i,
        step: i,
        timestamp: T0 + i,
      }));
      const answers = await Promise.all(Array.from({ length: 6 }, () => metricBatch(key, batch)));
      const bodies = answers.map((a) => json(a));
      expect(bodies.filter((b) => !b.duplicate)).toHaveLength(1);
      expect((await points(key, 'c')).length).toBe(50);
    });

    it('answers bad payloads with 400 and the Comet error body', async () => {
      const key = await newRun('batches-bad');
      const post = (payload: Buffer | string, headers: Record<string, string>) =>
        t.request('POST', `${CL}/batch/logger/experiment/metric`, { payload, headers });
      expectCometError(
        await post(Buffer.from('not gzip'), { 'content-type': 'application/json', 'content-encoding': 'gzip' }),
        400,
      );
      expectCometError(await post('{"experimentKey": ', { 'content-type': 'application/json' }), 400);
      for (const body of [
        { experimentKey: key },
        { experimentKey: key, values: 'loss' },
        { experimentKey: key, values: [{ metricValue: 1 }] },
        { experimentKey: key, values: [{ metricName: 'm', metricValue: { a: 1 } }] },
        { values: [] },
      ]) {
        const response = await t.request('POST', `${CL}/batch/logger/experiment/metric`, gzipped(body));
        expect(expectCometError(response, 400).msg).toMatch(/^invalid body/);
      }
      expectCometError(
        await t.request(
          'POST',
          `${CL}/batch/logger/experiment/parameter`,
          gzipped({ experimentKey: key, values: [{}] }),
        ),
        400,
      );
      expectCometError(await metricBatch(newKey(), [{ metricName: 'm', metricValue: 1 }]), 404, 90211);
      expectCometError(
        await metricBatch(key, [{ metricName: 'm', metricValue: 1 }], { authorization: 'NotAKey' }),
        401,
      );
      expectCometError(
        await metricBatch(key, [{ metricName: 'm', metricValue: 1 }], { authorization: t.otherKey }),
        404,
      );
      expectCometError(
        await metricBatch(key, [{ metricName: 'm', metricValue: 1 }], { authorization: t.readOnlyKey }),
        403,
      );
      expect(await points(key, 'm')).toEqual([]);
    });
  });

  describe('uploads', () => {
    function upload(
      path: string,
      query: Record<string, string>,
      body: { payload: Buffer; headers: Record<string, string> },
    ) {
      const params = new URLSearchParams({ apiKey: t.adminKey, projectId: 'p', runId: 'r', ...query });
      return t.request('POST', `${CL}/${path}?${params}`, { key: null, payload: body.payload, headers: body.headers });
    }

    async function assets(key: string, type?: string) {
      return (await read(`experiment/asset/list?${type ? `type=${type}&` : ''}`, key)).assets as Record<
        string,
        unknown
      >[];
    }

    async function bytes(key: string, assetId: string) {
      const response = await t.request(
        'GET',
        `${V2}/experiment/asset/get-asset?experimentKey=${key}&assetId=${assetId}`,
      );
      expect(response.statusCode).toBe(200);
      return response.rawPayload;
    }

    it('stores assets under the client id, with metadata, and acknowledges a resent upload once', async () => {
      const key = await newRun('uploads');
      const data = sampleBytes(3000);
      const assetId = newKey();
      const body = await multipart([
        ['file', data, 'file'],
        ['metadata', '{"source_code_type":"experiment_creation"}'],
      ]);
      const query = {
        experimentId: key,
        assetId,
        fileName: 'dir/train.py',
        extension: 'py',
        overwrite: 'False',
        type: 'source_code',
        step: '3',
        context: 'train',
      };
      const stored = json(await upload('asset/upload', query, body));
      const api = `${PUBLIC_URL}/api/rest/v2/experiment/asset/get-asset?experimentKey=${key}&assetId=${assetId}`;
      expect(stored).toEqual({
        msg: 'Uploaded',
        code: 200,
        sdk_error_code: 0,
        data: null,
        assetId,
        web: api,
        api,
        duplicate: false,
      });
      expect(await assets(key)).toEqual([
        expect.objectContaining({
          assetId,
          fileName: 'dir/train.py',
          fileSize: 3000,
          type: 'source_code',
          step: 3,
          runContext: 'train',
          metadata: '{"source_code_type":"experiment_creation"}',
        }),
      ]);
      expect(await bytes(key, assetId)).toEqual(data);
      // comet_ml retries an upload whose answer it did not see: the same id is the same upload.
      expect(json(await upload('asset/upload', query, body))).toMatchObject({ duplicate: true, assetId });
      expect(await assets(key)).toHaveLength(1);
      // The same id in another run is a conflict, not a replay.
      const other = await newRun('uploads');
      expectCometError(await upload('asset/upload', { ...query, experimentId: other }, body), 400);
    });

    it('stores images and figures as "image" assets under the imageId comet_ml links with', async () => {
      const key = await newRun('uploads-images');
      const png = sampleBytes(64, 3);
      const imageId = newKey();
      json(
        await upload(
          'visualizations/upload',
          { experimentId: key, imageId, figName: 'tiny.png', figCounter: '0', step: '2', overwrite: 'False' },
          await multipart([['file', png, 'file']]),
        ),
      );
      const figureId = newKey();
      json(
        await upload(
          'visualizations/upload',
          { experimentId: key, imageId: figureId, figCounter: '1', extension: 'svg' },
          await multipart([['file', png, 'file']]),
        ),
      );
      expect((await assets(key, 'image')).map((a) => [a.fileName, a.assetId, a.step, a.image])).toEqual([
        ['tiny.png', imageId, 2, true],
        ['figure_1', figureId, null, true],
      ]);
      // log_image returns cometRestApiImageUrl?imageId=…&experimentKey=…
      const link = await t.request('GET', `${V2}/experiment/asset/get-asset?imageId=${imageId}&experimentKey=${key}`);
      expect(link.statusCode).toBe(200);
      expect(link.rawPayload).toEqual(png);
    });

    it('names an upload whose query has no file name after its file part', async () => {
      const key = await newRun('uploads-unnamed');
      const body = await multipart([['file', Buffer.from('a,b\n'), 'table.csv']]);
      json(await upload('asset/upload', { experimentId: key, assetId: newKey() }, body));
      expect(await assets(key)).toEqual([expect.objectContaining({ fileName: 'table.csv' })]);
    });

    it('stores remote assets from their link part', async () => {
      const key = await newRun('uploads-remote');
      const assetId = newKey();
      json(
        await upload(
          'asset/upload',
          { experimentId: key, assetId, fileName: 'remote.csv', isRemote: 'True' },
          await multipart([['link', new TextEncoder().encode('s3://bucket/remote.csv'), 'link']]),
        ),
      );
      expect(await assets(key)).toEqual([
        expect.objectContaining({ assetId, remote: true, link: 's3://bucket/remote.csv' }),
      ]);
    });

    it('stores the git patch zip verbatim for REST to return', async () => {
      const key = await newRun('uploads-patch');
      const zip = sampleBytes(500, 9);
      expect(
        json(await upload('git-patch/upload', { experimentId: key }, await multipart([['file', zip, 'file']]))),
      ).toMatchObject({ code: 200 });
      const patch = await t.request('GET', `${V2}/experiment/git/patch?experimentKey=${key}`);
      expect(patch.headers['content-type']).toBe('application/octet-stream');
      expect(patch.rawPayload).toEqual(zip);
      expectCometError(
        await upload('git-patch/upload', { experimentId: key }, await multipart([['metadata', '{}']])),
        400,
      );
    });

    it('refuses uploads without a key, to unknown runs, over the limit, or without bytes', async () => {
      const key = await newRun('uploads-bad');
      const body = await multipart([['file', sampleBytes(10), 'file']]);
      const anonymous = await t.request('POST', `${CL}/asset/upload?experimentId=${key}&fileName=a`, {
        key: null,
        ...body,
      });
      expectCometError(anonymous, 401);
      expectCometError(await upload('asset/upload', { experimentId: newKey(), fileName: 'a' }, body), 404);
      expectCometError(
        await upload('asset/upload', { experimentId: key, fileName: 'a' }, await multipart([['metadata', '{}']])),
        400,
      );
      expectCometError(
        await upload(
          'asset/upload',
          { experimentId: key, fileName: 'big' },
          await multipart([['file', sampleBytes(1024 * 1024 + 1), 'file']]),
        ),
        413,
      );
      expectCometError(await upload('asset/upload', { fileName: 'a' }, body), 400);
      expect(await assets(key)).toEqual([]);
    });
  });

  describe('tags, symlinks, notifications and the small calls', () => {
    it('adds tags as a set union', async () => {
      const key = await newRun('small');
      const add = (addedTags: string[]) =>
        t.request('POST', `${CL}/tags/add-tags-to-experiment`, {
          key: null,
          body: { apiKey: t.adminKey, experimentKey: key, addedTags },
        });
      json(await add(['a', 'b']));
      json(await add(['b', 'c']));
      expect((await read('experiment/tags?', key)).tags).toEqual(['a', 'b', 'c']);
      expectCometError(await add(['']), 400);
    });

    it('symlinks a run into another project of its workspace', async () => {
      const key = await newRun('small');
      const body = json(
        await t.request('GET', `${CL}/symlink/new?apiKey=${t.adminKey}&experimentKey=${key}&projectName=small-linked`, {
          key: null,
        }),
      );
      expect(body.link).toBe(`${PUBLIC_URL}/default/small-linked/${key}`);
      const listed = json(await t.request('GET', `${V2}/experiments?workspaceName=default&projectName=small-linked`));
      expect(listed.experiments.map((e: { experimentKey: string }) => e.experimentKey)).toEqual([key]);
    });

    it('accepts the end-of-run notification of a known run', async () => {
      const key = await newRun('small');
      const notify = (experiment_key: string) =>
        t.request('POST', `${CL}/notification/experiment`, {
          key: null,
          body: {
            api_key: t.adminKey,
            title: 'done',
            status: 'completed',
            experiment_key,
            experiment_name: null,
            experiment_link: 'x',
            additional_data: { a: 1 },
          },
        });
      expect(json(await notify(key))).toMatchObject({ code: 200 });
      expectCometError(await notify(newKey()), 404);
    });

    it('reads the bare NaN and Infinity comet_ml writes into JSON as the strings it uses elsewhere', async () => {
      const key = await newRun('small-nan');
      const raw = (url: string, text: string) =>
        t.request('POST', url, { payload: text, headers: { 'content-type': 'application/json;charset=utf-8' } });
      // log_other("x", float("nan")) and log_system_info("y", float("inf")) go to REST v2.
      json(await raw(`${V2}/write/experiment/log-other`, `{"experimentKey": "${key}", "key": "x", "value": NaN}`));
      json(
        await raw(
          `/clientlib/rest/v2/write/experiment/system-details`,
          `{"experimentKey": "${key}", "logAdditionalSystemInfoList": [{"key": "y", "value": -Infinity}]}`,
        ),
      );
      // The end-of-run summary repeats such values.
      json(
        await raw(
          `${CL}/notification/experiment`,
          `{"api_key": "${t.adminKey}", "experiment_key": "${key}", "additional_data": {"x": NaN, "s": "NaN"}}`,
        ),
      );
      const others = (await read('experiment/log-other?', key)).values as { name: string; valueCurrent: string }[];
      expect(others.map((o) => [o.name, o.valueCurrent])).toEqual([['x', 'NaN']]);
      expect((await read('experiment/system-details?', key)).logAdditionalSystemInfoList).toEqual([
        { key: 'y', value: '-Infinity' },
      ]);
      expectCometError(
        await raw(`${V2}/write/experiment/log-other`, `{"experimentKey": "${key}", "value": NaNa}`),
        400,
      );
      expectCometError(await raw(`${V2}/write/experiment/log-other`, ''), 400);
    });

    it('answers RPC calls with nothing pending, pings, telemetry and 3D limits', async () => {
      const key = await newRun('small');
      expect(
        json(
          await t.request('GET', `${CL}/rpc/get-pending-rpcs?apiKey=${t.adminKey}&experimentKey=${key}`, { key: null }),
        ),
      ).toEqual({ remoteProcedureCalls: [] });
      for (const path of ['rpc/register-rpc', 'rpc/save-rpc-result']) {
        expect(
          json(
            await t.request('POST', `${CL}/${path}`, {
              key: null,
              body: { apiKey: t.adminKey, experimentKey: key, functionName: 'f' },
            }),
          ),
        ).toEqual({});
        expectCometError(await t.request('POST', `${CL}/${path}`, { body: { experimentKey: newKey() } }), 404);
      }
      expect(json(await t.request('GET', `${CL}/health/ping`, { key: null }))).toEqual({});
      expect(
        json(
          await t.request('POST', `${CL}/notify/event`, {
            key: null,
            body: { api_key: t.adminKey, event_name: 'sdk_x', experiment_key: key },
          }),
        ),
      ).toEqual({});
      const limits = {
        maxPoints: 1_000_000,
        maxPointsFileSizeInBytes: 0,
        maxBoxes: 250_000,
        maxBoxesFileSizeInBytes: 0,
      };
      expect(json(await t.request('GET', `${CL}/asset/3d-limits`))).toEqual(limits);
      expect(json(await t.request('POST', `${CL}/asset/3d-limits`, { body: {} }))).toEqual(limits);
      expectCometError(await t.request('GET', `${CL}/asset/3d-limits`, { key: null }), 401);
      expectCometError(await t.request('GET', `${CL}/no/such/call`), 404);
      // The version probe is still there, without a key.
      expect(json(await t.request('GET', `${CL}/isAlive/ver`, { key: null }))).toEqual({ version: '3.0.0' });
    });
  });
});

describe.each(backends)('Comet clientlib: exactly once across failures and restarts (%s)', (backend) => {
  let store: TestStore;
  /** Fails the next transaction after its work ran, as a crash before the commit would. */
  let failNextCommit = false;
  const clock = { time: T0, now: () => clock.time };

  beforeAll(async () => {
    store = await openTestStore(backend);
  });
  afterAll(async () => {
    await store?.close();
  });

  /** A server process: a fresh core and app over the same database and blobs. */
  async function startServer(): Promise<FastifyInstance> {
    const real = store.store;
    const faulty: Store = Object.assign(Object.create(real) as Store, {
      transaction: <T>(work: (tx: Repositories) => Promise<T>) =>
        real.transaction(async (tx) => {
          const result = await work(tx);
          if (failNextCommit) {
            failNextCommit = false;
            throw new Error('simulated crash before the commit');
          }
          return result;
        }),
    });
    const core = createCore({
      store: faulty,
      blobs: new FileBlobStore(store.blobDir),
      limits: { maxAssetBytes: 1024 },
      clock,
    });
    await core.auth.bootstrap(ADMIN_KEY);
    return buildApp({ core, config: { bodyLimitBytes: 1024 * 1024, publicUrl: PUBLIC_URL } });
  }

  async function handshake(app: FastifyInstance, key: string) {
    const response = await app.inject({
      method: 'POST',
      url: `${CL}/logger/add/run`,
      payload: { apiKey: ADMIN_KEY, experimentKey: key, projectName: 'restarts', teamName: 'default' },
    });
    expect(response.statusCode, response.body).toBe(200);
  }

  function send(app: FastifyInstance, key: string, values: Record<string, unknown>[]) {
    const body = gzipped({ experimentKey: key, values });
    return app.inject({
      method: 'POST',
      url: `${CL}/batch/logger/experiment/metric`,
      payload: body.payload,
      headers: { ...body.headers, authorization: ADMIN_KEY },
    });
  }

  async function losses(app: FastifyInstance, key: string) {
    const response = await app.inject({
      method: 'GET',
      url: `${V2}/experiment/metrics/get-metric?experimentKey=${key}&metricName=loss`,
      headers: { authorization: ADMIN_KEY },
    });
    return (response.json().metrics as { metricValue: number }[]).map((m) => m.metricValue);
  }

  const batch = [
    { metricName: 'loss', metricValue: 1, step: 1, timestamp: T0 + 1 },
    { metricName: 'loss', metricValue: 2, step: 2, timestamp: T0 + 2 },
  ];

  it('a batch whose commit failed leaves no trace, so its resend is stored once', async () => {
    const app = await startServer();
    const key = newKey();
    await handshake(app, key);
    failNextCommit = true;
    expect((await send(app, key, batch)).statusCode).toBe(500);
    expect(await losses(app, key)).toEqual([]);
    // urllib3 resends the same body after the 500: the mark rolled back with the data.
    expect(json(await send(app, key, batch))).toMatchObject({ duplicate: false, stored: 2 });
    expect(json(await send(app, key, batch))).toMatchObject({ duplicate: true, stored: 0 });
    expect(await losses(app, key)).toEqual([1, 2]);
    await app.close();
  });

  it('a batch stored before a restart is recognised when resent to the new process', async () => {
    const before = await startServer();
    const key = newKey();
    await handshake(before, key);
    // The answer to this send is lost with the process.
    expect((await send(before, key, batch)).statusCode).toBe(200);
    await before.close();

    const after = await startServer();
    expect(json(await send(after, key, batch))).toMatchObject({ duplicate: true, stored: 0 });
    expect(
      json(await send(after, key, [{ metricName: 'loss', metricValue: 3, step: 3, timestamp: T0 + 3 }])),
    ).toMatchObject({ stored: 1 });
    expect(await losses(after, key)).toEqual([1, 2, 3]);
    await after.close();
  });

  it('shows a run whose status reports stopped as not running after the heartbeat timeout', async () => {
    const app = await startServer();
    const key = newKey();
    clock.time = T0;
    await handshake(app, key);
    const report = (alive: boolean) =>
      app.inject({
        method: 'POST',
        url: `${CL}/status-report/update`,
        payload: { apiKey: ADMIN_KEY, experimentKey: key, is_alive: alive },
      });
    const metadata = async () =>
      (
        await app.inject({
          method: 'GET',
          url: `${V2}/experiment/metadata?experimentKey=${key}`,
          headers: { authorization: ADMIN_KEY },
        })
      ).json();
    clock.time = T0 + 20_000;
    expect((await report(true)).statusCode).toBe(200);
    clock.time = T0 + 20_000 + HEARTBEAT_TIMEOUT_MILLIS;
    expect(await metadata()).toMatchObject({ running: true, status: 'RUNNING' });
    // The client died without reporting its end: six missed beats later the run is over.
    clock.time = T0 + 20_001 + HEARTBEAT_TIMEOUT_MILLIS;
    expect(await metadata()).toMatchObject({ running: false, status: 'SUCCEEDED', endTimeMillis: T0 + 20_000 });
    await app.close();
  });
});
