import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/core/principal.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';
const TRACKING = '/api/2.0/mlflow';

describe.each(backends)('MLflow API: proxied artifacts (%s)', (backend) => {
  let t: TestContext;
  let principal: Principal;
  let experimentId: string;

  /** A fresh run (Cairn experiment) in project "mlflow-artifacts"; its artifact root path. */
  async function newRun(): Promise<{ runId: string; root: string }> {
    const view = await t.core.experiments.create(principal, {
      workspaceName: 'default',
      projectName: 'mlflow-artifacts',
    });
    experimentId = view.project.id;
    return { runId: view.experiment.id, root: `${view.project.id}/${view.experiment.id}/artifacts` };
  }

  const put = (path: string, body: string | Buffer, options: { key?: string; type?: string } = {}) =>
    t.request('PUT', `${ARTIFACTS}/${path}`, {
      key: options.key ?? t.adminKey,
      payload: body,
      headers: { 'content-type': options.type ?? 'application/octet-stream' },
    });
  const list = (path: string, key = t.adminKey) =>
    t.request('GET', `${ARTIFACTS}?path=${encodeURIComponent(path)}`, { key });

  beforeAll(async () => {
    t = await createTestContext(backend);
    principal = await t.core.auth.authenticate(t.adminKey);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('uploads files of any media type, lists one folder level, downloads with ranges', async () => {
    const { runId, root } = await newRun();
    expect((await put(`${root}/a.txt`, 'hello world', { type: 'text/plain' })).json()).toEqual({});
    expect(
      (await put(`${root}/plots/loss.png`, Buffer.from([137, 80, 78, 71]), { type: 'image/png' })).statusCode,
    ).toBe(200);
    expect((await put(`${root}/plots/deep/x.json`, '{"a":1}', { type: 'application/json' })).statusCode).toBe(200);

    expect((await list(root)).json()).toEqual({
      files: [
        { path: 'a.txt', is_dir: false, file_size: 11 },
        { path: 'plots', is_dir: true },
      ],
    });
    expect((await list(`${root}/plots`)).json()).toEqual({
      files: [
        { path: 'deep', is_dir: true },
        { path: 'loss.png', is_dir: false, file_size: 4 },
      ],
    });
    expect((await list(`${root}/absent`)).json()).toEqual({});

    const download = await t.request('GET', `${ARTIFACTS}/${root}/plots/deep/x.json`);
    expect(download.statusCode).toBe(200);
    expect(download.body).toBe('{"a":1}');
    expect(download.headers['content-type']).toBe('application/json');
    expect(download.headers['content-disposition']).toContain('attachment; filename="x.json"');
    expect(download.headers['x-content-type-options']).toBe('nosniff');

    const partial = await t.request('GET', `${ARTIFACTS}/${root}/a.txt`, { headers: { range: 'bytes=6-' } });
    expect(partial.statusCode).toBe(206);
    expect(partial.body).toBe('world');
    expect(partial.headers['content-range']).toBe('bytes 6-10/11');
    const beyond = await t.request('GET', `${ARTIFACTS}/${root}/a.txt`, { headers: { range: 'bytes=50-' } });
    expect(beyond.statusCode).toBe(416);

    const missing = await t.request('GET', `${ARTIFACTS}/${root}/nope.txt`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error_code).toBe('RESOURCE_DOES_NOT_EXIST');

    // Comet sees the files as assets: images by extension are image assets.
    const assets = await t.core.assets.list(principal, runId);
    expect(assets.map((a) => [a.fileName, a.type]).sort()).toEqual([
      ['a.txt', 'asset'],
      ['plots/deep/x.json', 'asset'],
      ['plots/loss.png', 'image'],
    ]);
  });

  it('refuses an upload above the asset limit with 413 and keeps nothing', async () => {
    const { runId, root } = await newRun();
    const response = await put(`${root}/big.bin`, Buffer.alloc(1024 * 1024 + 1));
    expect(response.statusCode).toBe(413);
    expect(response.json().error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(await t.core.assets.list(principal, runId)).toEqual([]);
  });

  it('stores an empty upload as an empty file', async () => {
    const { root } = await newRun();
    expect((await t.request('PUT', `${ARTIFACTS}/${root}/empty.txt`)).statusCode).toBe(200);
    expect((await list(root)).json()).toEqual({ files: [{ path: 'empty.txt', is_dir: false, file_size: 0 }] });
  });

  it('replaces a file uploaded to the same path again, and removes the old bytes', async () => {
    const { runId, root } = await newRun();
    await put(`${root}/m/weights.bin`, 'first version');
    await put(`${root}/m/weights.bin`, 'second');
    expect((await list(`${root}/m`)).json()).toEqual({ files: [{ path: 'weights.bin', is_dir: false, file_size: 6 }] });
    expect((await t.request('GET', `${ARTIFACTS}/${root}/m/weights.bin`)).body).toBe('second');
    const assets = await t.core.assets.list(principal, runId);
    expect(assets).toHaveLength(1);
    const blobKeys = (await t.rows('assets')).filter((row) => row.experiment_id === runId).map((row) => row.blob_key);
    expect(blobKeys).toEqual([assets[0]?.blobKey]);
  });

  it('deletes a file or a whole folder', async () => {
    const { runId, root } = await newRun();
    for (const path of ['keep.txt', 'dir/a.txt', 'dir/sub/b.txt', 'dirx.txt']) await put(`${root}/${path}`, path);
    expect((await t.request('DELETE', `${ARTIFACTS}/${root}/dir/sub/b.txt`)).json()).toEqual({});
    expect((await list(`${root}/dir`)).json()).toEqual({ files: [{ path: 'a.txt', is_dir: false, file_size: 9 }] });
    expect((await t.request('DELETE', `${ARTIFACTS}/${root}/dir`)).statusCode).toBe(200);
    expect((await t.core.assets.list(principal, runId)).map((a) => a.fileName).sort()).toEqual([
      'dirx.txt',
      'keep.txt',
    ]);
  });

  it('refuses unsafe paths with 400 INVALID_PARAMETER_VALUE', async () => {
    const { root } = await newRun();
    // inject() resolves literal and %2e dot segments in the URL as a browser would; encoded
    // slashes and a second level of encoding reach the server.
    for (const path of [`${root}/a%2F..%2F..%2Fx`, `${root}/a/%252e%252e/x`, `${root}/x%00y`, `/etc/passwd`]) {
      const response = await put(path, 'x');
      expect(response.statusCode, path).toBe(400);
      expect(response.json(), path).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' });
    }
    expect((await list(`${root}/../../x`)).statusCode).toBe(400);
    expect((await list(`/etc`)).statusCode).toBe(400);
    expect((await t.request('GET', `${ARTIFACTS}/${root}/%252e%252e/x`)).statusCode).toBe(400);
  });

  it('refuses writes to a deleted (archived) run with INVALID_STATE, and read-only keys', async () => {
    const { runId, root } = await newRun();
    await put(`${root}/a.txt`, 'a');
    await t.core.experiments.setArchived(principal, runId, true);
    const refused = await put(`${root}/b.txt`, 'b');
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error_code).toBe('INVALID_STATE');
    expect((await t.request('DELETE', `${ARTIFACTS}/${root}/a.txt`)).json().error_code).toBe('INVALID_STATE');
    // Still readable.
    expect((await t.request('GET', `${ARTIFACTS}/${root}/a.txt`)).body).toBe('a');
    await t.core.experiments.setArchived(principal, runId, false);
    const readOnly = await put(`${root}/b.txt`, 'b', { key: t.readOnlyKey });
    expect(readOnly.statusCode).toBe(403);
    expect(readOnly.json().error_code).toBe('PERMISSION_DENIED');
  });

  it('answers runs of another tenant, and paths naming another experiment, as absent', async () => {
    const { runId, root } = await newRun();
    await put(`${root}/a.txt`, 'a');
    for (const response of [
      await list(root, t.otherKey),
      await t.request('GET', `${ARTIFACTS}/${root}/a.txt`, { key: t.otherKey }),
      await put(`${root}/b.txt`, 'b', { key: t.otherKey }),
      await t.request('DELETE', `${ARTIFACTS}/${root}/a.txt`, { key: t.otherKey }),
    ]) {
      expect(response.statusCode).toBe(404);
      expect(response.json().error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    }
    const otherExperiment = `${'f'.repeat(32)}/${runId}/artifacts`;
    expect((await t.request('GET', `${ARTIFACTS}/${otherExperiment}/a.txt`)).statusCode).toBe(404);
    expect((await put(`${otherExperiment}/b.txt`, 'b')).statusCode).toBe(404);
    expect((await t.request('GET', `${ARTIFACTS}/${root}/a.txt`)).body).toBe('a');
  });

  it('shows files logged through Comet', async () => {
    const { runId, root } = await newRun();
    await t.core.assets.upload(principal, runId, { fileName: 'comet/notes.txt' }, Readable.from([Buffer.from('hi')]));
    expect((await list(`${root}/comet`)).json()).toEqual({
      files: [{ path: 'notes.txt', is_dir: false, file_size: 2 }],
    });
    expect((await t.request('GET', `${ARTIFACTS}/${root}/comet/notes.txt`)).body).toBe('hi');
    // Comet file names are any client's text: they are placed by their normalised path.
    await t.core.assets.upload(
      principal,
      runId,
      { fileName: './logs\\train.log' },
      Readable.from([Buffer.from('log')]),
    );
    expect((await list(`${root}/logs`)).json()).toEqual({
      files: [{ path: 'train.log', is_dir: false, file_size: 3 }],
    });
    expect((await t.request('GET', `${ARTIFACTS}/${root}/logs/train.log`)).body).toBe('log');
  });

  it('answers multipart uploads with 501 so the client falls back to one PUT', async () => {
    const { root } = await newRun();
    for (const step of ['create', 'complete', 'abort']) {
      const response = await t.request('POST', `/api/2.0/mlflow-artifacts/mpu/${step}/${root}/big.bin`, {
        body: { path: 'big.bin', num_parts: 2 },
      });
      expect(response.statusCode).toBe(501);
      expect(response.json().error_code).toBe('NOT_IMPLEMENTED');
      expect(response.json().message).toMatch(/^Multipart upload is not supported for the current artifact repository/);
    }
  });

  it('serves the same routes under /ajax-api', async () => {
    const { root } = await newRun();
    expect((await put(`${root}/x.txt`, 'x')).statusCode).toBe(200);
    const listed = await t.request('GET', `/ajax-api/2.0/mlflow-artifacts/artifacts?path=${root}`);
    expect(listed.json()).toEqual({ files: [{ path: 'x.txt', is_dir: false, file_size: 1 }] });
  });

  it('needs a key', async () => {
    const { root } = await newRun();
    const response = await t.request('GET', `${ARTIFACTS}?path=${root}`, { key: null });
    expect(response.statusCode).toBe(401);
    expect(response.json().error_code).toBe('UNAUTHENTICATED');
  });

  it('answers server-info, and ENDPOINT_NOT_FOUND for other /api/3.0 paths', async () => {
    for (const prefix of ['/api/3.0/mlflow', '/ajax-api/3.0/mlflow']) {
      const info = await t.request('GET', `${prefix}/server-info`, { key: null });
      expect(info.statusCode).toBe(200);
      expect(info.json()).toEqual({
        store_type: 'SqlStore',
        workspaces_enabled: true,
        multipart_uploads_enabled: false,
        multipart_downloads_enabled: false,
      });
    }
    const unknown = await t.request('GET', '/api/3.0/mlflow/traces/abc');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error_code).toBe('ENDPOINT_NOT_FOUND');
  });

  describe('tracking routes', () => {
    it('lists run-relative paths with the run root, and downloads through get-artifact', async () => {
      const { runId, root } = await newRun();
      await put(`${root}/dir/a.txt`, 'aaa');
      await put(`${root}/b.txt`, 'b');
      const rootListing = await t.request('GET', `${TRACKING}/artifacts/list?run_id=${runId}`);
      expect(rootListing.json()).toEqual({
        root_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
        files: [
          { path: 'b.txt', is_dir: false, file_size: 1 },
          { path: 'dir', is_dir: true },
        ],
      });
      const sub = await t.request('GET', `${TRACKING}/artifacts/list?run_uuid=${runId}&path=dir`);
      expect(sub.json().files).toEqual([{ path: 'dir/a.txt', is_dir: false, file_size: 3 }]);
      const empty = await t.request('GET', `${TRACKING}/artifacts/list?run_id=${runId}&path=none`);
      expect(empty.json()).toEqual({ root_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts` });
      expect((await t.request('GET', `${TRACKING}/artifacts/list?run_id=${runId}&path=../x`)).statusCode).toBe(400);
      const missing = await t.request('GET', `${TRACKING}/artifacts/list`);
      expect(missing.json()).toEqual({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: "Missing value for required parameter 'run_id'.",
      });
      expect(
        (await t.request('GET', `${TRACKING}/artifacts/list?run_id=${runId}`, { key: t.otherKey })).json(),
      ).toEqual({
        error_code: 'RESOURCE_DOES_NOT_EXIST',
        message: `Run with id=${runId} not found`,
      });

      for (const prefix of [TRACKING, '/ajax-api/2.0/mlflow']) {
        const file = await t.request('GET', `${prefix}/get-artifact?run_uuid=${runId}&path=dir/a.txt`);
        expect(file.statusCode).toBe(200);
        expect(file.body).toBe('aaa');
        expect(file.headers['content-disposition']).toContain('filename="a.txt"');
      }
      expect((await t.request('GET', `${TRACKING}/get-artifact?run_id=${runId}&path=dir`)).statusCode).toBe(404);
    });

    it('takes the UI upload as a raw body', async () => {
      const { runId } = await newRun();
      const response = await t.request(
        'POST',
        `/ajax-api/2.0/mlflow/upload-artifact?run_uuid=${runId}&path=up/file.csv`,
        {
          payload: 'a,b\n1,2\n',
          headers: { 'content-type': 'text/csv' },
        },
      );
      expect(response.statusCode, response.body).toBe(200);
      expect((await t.request('GET', `${TRACKING}/get-artifact?run_id=${runId}&path=up/file.csv`)).body).toBe(
        'a,b\n1,2\n',
      );
      const traversal = await t.request('POST', `/ajax-api/2.0/mlflow/upload-artifact?run_uuid=${runId}&path=../x`, {
        payload: 'x',
        headers: { 'content-type': 'text/plain' },
      });
      expect(traversal.statusCode).toBe(400);
    });

    it('runs/log-model appends the history tag and makes the folder an experiment model', async () => {
      const { runId, root } = await newRun();
      await put(`${root}/model/MLmodel`, 'artifact_path: model\n');
      await put(`${root}/model/model.pkl`, 'pickle');
      await put(`${root}/other.txt`, 'o');
      const modelJson = (time: string) =>
        JSON.stringify({ artifact_path: 'model', flavors: { sklearn: {} }, utc_time_created: time, run_id: runId });
      const logged = await t.request('POST', `${TRACKING}/runs/log-model`, {
        body: { run_id: runId, model_json: modelJson('2025-01-01 00:00:00') },
      });
      expect(logged.statusCode, logged.body).toBe(200);
      await t.request('POST', `${TRACKING}/runs/log-model`, {
        body: { run_id: runId, model_json: modelJson('2025-01-02 00:00:00') },
      });

      const { model, assets } = await t.core.assets.modelAssets(principal, runId, 'model');
      expect(model.name).toBe('model');
      expect(assets.map((a) => a.fileName).sort()).toEqual(['MLmodel', 'model.pkl']);
      const others = await t.core.experiments.summarizeValues(principal, runId, 'other');
      const history = JSON.parse(others.find((v) => v.name === 'mlflow.log-model.history')?.current.text ?? '[]');
      expect(history.map((entry: { utc_time_created: string }) => entry.utc_time_created)).toEqual([
        '2025-01-01 00:00:00',
        '2025-01-02 00:00:00',
      ]);
      // MLflow still sees the files where they were; a re-upload replaces the model's file.
      expect((await list(`${root}/model`)).json().files.map((f: { path: string }) => f.path)).toEqual([
        'MLmodel',
        'model.pkl',
      ]);
      await put(`${root}/model/model.pkl`, 'pickle v2');
      const after = await t.core.assets.modelAssets(principal, runId, 'model');
      expect(after.assets.map((a) => a.fileName).sort()).toEqual(['MLmodel', 'model.pkl']);
      expect((await t.request('GET', `${ARTIFACTS}/${root}/model/model.pkl`)).body).toBe('pickle v2');

      const bad = await t.request('POST', `${TRACKING}/runs/log-model`, {
        body: { run_id: runId, model_json: JSON.stringify({ artifact_path: 'model' }) },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toMatch(/^Model json is missing mandatory fields/);
      const malformed = await t.request('POST', `${TRACKING}/runs/log-model`, {
        body: { run_id: runId, model_json: '{' },
      });
      expect(malformed.json().error_code).toBe('INVALID_PARAMETER_VALUE');
    });
  });
});
