import { readdir } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore } from '../src/core/core.js';
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
import { multipart, type Part, sampleBytes, unzip } from './support/wire-bodies.js';

const V2 = '/api/rest/v2';
const NO_PATCH = '{"msg":"no patch for experiment","code":200,"data":null,"sdk_error_code":0}';

async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

describe.each(backends)('Comet assets, models and git patch (%s)', (backend) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function newExperiment(): Promise<string> {
    const principal = await t.core.auth.authenticate(t.adminKey);
    const view = await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'assets' });
    return view.experiment.id;
  }

  async function upload(query: Record<string, string>, parts: Part[], key?: string) {
    const body = await multipart(parts);
    return t.request('POST', `${V2}/write/experiment/upload-asset?${new URLSearchParams(query)}`, {
      ...(key === undefined ? {} : { key }),
      payload: body.payload,
      headers: body.headers,
    });
  }

  async function listAssets(experimentKey: string, type?: string) {
    const query = new URLSearchParams({ experimentKey, ...(type ? { type } : {}) });
    const response = await t.request('GET', `${V2}/experiment/asset/list?${query}`);
    expect(response.statusCode).toBe(200);
    return response.json().assets as Record<string, unknown>[];
  }

  function getAsset(experimentKey: string, assetId: string, headers: Record<string, string> = {}) {
    return t.request('GET', `${V2}/experiment/asset/get-asset?${new URLSearchParams({ experimentKey, assetId })}`, {
      headers,
    });
  }

  it('uploads an asset with its metadata after the file and reads it back byte for byte', async () => {
    const key = await newExperiment();
    const bytes = sampleBytes(70_000);
    const response = await upload(
      {
        experimentKey: key,
        fileName: 'data/sample.bin',
        extension: 'bin',
        step: '3',
        context: 'train',
        metadata: '%7B',
      },
      [
        // comet_ml names the file part's file "file" and sends metadata after it.
        ['file', bytes, 'file'],
        ['metadata', '{"origin":"test","n":1}'],
      ],
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    const body = response.json();
    expect(body).toMatchObject({ code: 200, sdk_error_code: 0, data: null });
    expect(typeof body.msg).toBe('string');
    expect(body.assetId).toMatch(/^[0-9a-f]{32}$/);
    const link = `${PUBLIC_URL}/api/rest/v2/experiment/asset/get-asset?experimentKey=${key}&assetId=${body.assetId}`;
    expect(body.api).toBe(link);
    expect(body.web).toBe(link);

    const expected = {
      fileName: 'data/sample.bin',
      fileSize: bytes.length,
      runContext: 'train',
      step: 3,
      link,
      dir: 'assets',
      canView: false,
      audio: false,
      video: false,
      histogram: false,
      image: false,
      type: 'asset',
      metadata: '{"origin":"test","n":1}',
      assetId: body.assetId,
      remote: false,
      tags: [],
    };
    const assets = await listAssets(key);
    expect(assets).toEqual([{ ...expected, createdAt: expect.any(Number) }]);

    const details = await t.request(
      'GET',
      `${V2}/experiment/asset/details?experimentKey=${key}&assetId=${body.assetId}`,
    );
    expect(details.statusCode).toBe(200);
    expect(details.headers['content-type']).toBe('application/json');
    expect(details.json()).toEqual(assets[0]);

    const download = await getAsset(key, body.assetId);
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('application/octet-stream');
    expect(download.headers['accept-ranges']).toBe('bytes');
    expect(download.headers['content-length']).toBe(String(bytes.length));
    expect(download.headers['content-disposition']).toBe("attachment; filename*=UTF-8''sample.bin");
    expect(download.rawPayload.equals(bytes)).toBe(true);

    // Artifact-style downloads name the asset by id alone.
    const byId = await t.request('GET', `${V2}/experiment/asset/get-asset?assetId=${body.assetId}`);
    expect(byId.statusCode).toBe(200);
    expect(byId.rawPayload.equals(bytes)).toBe(true);
    const wrongVersion = await t.request(
      'GET',
      `${V2}/experiment/asset/get-asset?assetId=${body.assetId}&artifactVersionId=v1`,
    );
    expect(wrongVersion.statusCode).toBe(404);
  });

  it('derives the media flags from the type and filters the list by type', async () => {
    const key = await newExperiment();
    for (const [type, name] of [
      ['image', 'a.png'],
      ['audio', 'b.wav'],
      ['histogram3d', 'c.json'],
      ['', 'd.txt'],
      ['curve', 'e.json'],
    ]) {
      const query: Record<string, string> = { experimentKey: key, fileName: name as string };
      if (type) query.type = type;
      const response = await upload(query, [
        ['metadata', '{}'],
        ['file', sampleBytes(10), 'file'],
      ]);
      expect(response.statusCode).toBe(200);
    }
    const images = await listAssets(key, 'image');
    expect(images).toEqual([expect.objectContaining({ fileName: 'a.png', image: true, canView: true, audio: false })]);
    expect(await listAssets(key, 'audio')).toEqual([expect.objectContaining({ audio: true, image: false })]);
    expect(await listAssets(key, 'histogram3d')).toEqual([expect.objectContaining({ histogram: true })]);
    expect((await listAssets(key, 'unknown')).map((a) => a.fileName)).toEqual(['d.txt']);
    expect((await listAssets(key, 'curve')).map((a) => a.fileName)).toEqual(['e.json']);
    expect((await listAssets(key, 'all')).map((a) => a.fileName)).toEqual([
      'a.png',
      'b.wav',
      'c.json',
      'd.txt',
      'e.json',
    ]);
    expect(await listAssets(key)).toHaveLength(5);
    expect(images[0]?.metadata).toBe('{}');
  });

  it('serves single byte ranges and refuses unsatisfiable ones', async () => {
    const key = await newExperiment();
    const bytes = sampleBytes(1000, 5);
    const { assetId } = (await upload({ experimentKey: key, fileName: 'r.bin' }, [['file', bytes, 'file']])).json();

    const cases: [string, number, number][] = [
      ['bytes=2-5', 2, 5],
      ['bytes=990-', 990, 999],
      ['bytes=-10', 990, 999],
      ['bytes=995-5000', 995, 999],
      ['bytes=0-0', 0, 0],
    ];
    for (const [range, start, end] of cases) {
      const response = await getAsset(key, assetId, { range });
      expect(response.statusCode, range).toBe(206);
      expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/1000`);
      expect(response.headers['content-length']).toBe(String(end - start + 1));
      expect(response.rawPayload.equals(bytes.subarray(start, end + 1))).toBe(true);
    }

    for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=-0']) {
      const response = await getAsset(key, assetId, { range });
      expect(response.statusCode, range).toBe(416);
      expect(response.headers['content-range']).toBe('bytes */1000');
      expect(response.json()).toMatchObject({ code: 416, data: null });
    }

    // Several ranges, other units and malformed ranges are ignored: the whole body is sent.
    for (const range of ['bytes=0-1,5-6', 'items=0-1', 'bytes=5-2', 'bytes=x-y']) {
      const response = await getAsset(key, assetId, { range });
      expect(response.statusCode, range).toBe(200);
      expect(response.rawPayload.equals(bytes)).toBe(true);
    }
  });

  it('replaces same-named assets only with overwrite, and deletes assets', async () => {
    const key = await newExperiment();
    const first = (
      await upload({ experimentKey: key, fileName: 'w.txt' }, [['file', Buffer.from('one'), 'file']])
    ).json();
    const second = (
      await upload({ experimentKey: key, fileName: 'w.txt' }, [['file', Buffer.from('two'), 'file']])
    ).json();
    expect((await listAssets(key)).map((a) => a.assetId)).toEqual([first.assetId, second.assetId]);

    const third = await upload({ experimentKey: key, fileName: 'w.txt', overwrite: 'True' }, [
      ['file', Buffer.from('three'), 'file'],
    ]);
    expect(third.statusCode).toBe(200);
    const assets = await listAssets(key);
    expect(assets).toEqual([expect.objectContaining({ assetId: third.json().assetId, fileSize: 5 })]);
    expect((await getAsset(key, third.json().assetId)).payload).toBe('three');
    expect((await getAsset(key, first.assetId)).statusCode).toBe(404);

    const deleted = await t.request(
      'GET',
      `${V2}/write/experiment/asset/delete?experimentKey=${key}&assetId=${third.json().assetId}`,
    );
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json()).toMatchObject({ code: 200, sdk_error_code: 0, data: null });
    expect(await listAssets(key)).toEqual([]);
    expect((await getAsset(key, third.json().assetId)).statusCode).toBe(404);
    const again = await t.request(
      'GET',
      `${V2}/write/experiment/asset/delete?experimentKey=${key}&assetId=${third.json().assetId}`,
    );
    expect(again.statusCode).toBe(404);
  });

  it('honours a client-chosen asset id once', async () => {
    const key = await newExperiment();
    const assetId = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    const response = await upload({ experimentKey: key, fileName: 'x', assetId }, [['file', Buffer.from('x'), 'file']]);
    expect(response.json().assetId).toBe(assetId);
    const taken = await upload({ experimentKey: key, fileName: 'y', assetId }, [['file', Buffer.from('y'), 'file']]);
    expect(taken.statusCode).toBe(400);
    expect((await getAsset(key, assetId)).payload).toBe('x');
    expect(await listAssets(key)).toHaveLength(1);
  });

  it('stores remote assets as links and redirects downloads to them', async () => {
    const key = await newExperiment();
    const link = 's3://bucket/data/train.csv';
    const response = await upload({ experimentKey: key, fileName: 'train.csv', isRemote: 'true' }, [
      ['link', link],
      ['metadata', '{"rows":10}'],
    ]);
    expect(response.statusCode).toBe(200);
    const { assetId } = response.json();
    expect(await listAssets(key)).toEqual([
      expect.objectContaining({ assetId, remote: true, link, fileSize: 0, metadata: '{"rows":10}' }),
    ]);
    const download = await getAsset(key, assetId);
    expect(download.statusCode).toBe(302);
    expect(download.headers.location).toBe(link);

    const noLink = await upload({ experimentKey: key, fileName: 'r', isRemote: 'true' }, [['metadata', '{}']]);
    expect(noLink.statusCode).toBe(400);
    const both = await upload({ experimentKey: key, fileName: 'r', isRemote: 'true' }, [
      ['link', link],
      ['file', Buffer.from('x'), 'file'],
    ]);
    expect(both.statusCode).toBe(400);
    const linkAfterFile = await upload({ experimentKey: key, fileName: 'r' }, [
      ['file', Buffer.from('x'), 'file'],
      ['link', link],
    ]);
    expect(linkAfterFile.statusCode).toBe(400);
    expect(await listAssets(key)).toHaveLength(1);
  });

  it('groups model-element uploads into an experiment model and zips it', async () => {
    const key = await newExperiment();
    const weights = sampleBytes(300_000, 1);
    const config = Buffer.from('{"layers":3}');
    const none = await t.request('GET', `${V2}/experiment/model?experimentKey=${key}`);
    expect(none.json()).toEqual({ models: [] });

    for (const [fileName, bytes] of [
      ['model/weights.bin', weights],
      ['config.json', config],
    ] as const) {
      const response = await upload(
        { experimentKey: key, fileName, type: 'model-element', groupingName: 'my-model', overwrite: 'false' },
        [['file', bytes, 'file']],
      );
      expect(response.statusCode).toBe(200);
    }
    await upload({ experimentKey: key, fileName: 'other.txt' }, [['file', Buffer.from('not a model'), 'file']]);

    const models = await t.request('GET', `${V2}/experiment/model?experimentKey=${key}`);
    expect(models.statusCode).toBe(200);
    expect(models.json()).toEqual({
      models: [
        {
          experimentModelId: expect.stringMatching(/^[0-9a-f]{32}$/),
          experimentKey: key,
          modelName: 'my-model',
          registryRecords: [],
        },
      ],
    });

    const list = await t.request('GET', `${V2}/experiment/model/asset/list?experimentKey=${key}&modelName=my-model`);
    expect(list.statusCode).toBe(200);
    expect(list.json().assets.map((a: { fileName: string; dir: string }) => [a.fileName, a.dir])).toEqual([
      ['model/weights.bin', 'model-element'],
      ['config.json', 'model-element'],
    ]);

    const zip = await t.request('GET', `${V2}/experiment/model/download?experimentKey=${key}&modelName=my-model`);
    expect(zip.statusCode).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(zip.headers['content-length']).toBe(String(zip.rawPayload.length));
    const files = unzip(zip.rawPayload);
    expect([...files.keys()]).toEqual(['model/weights.bin', 'config.json']);
    expect(files.get('model/weights.bin')?.equals(weights)).toBe(true);
    expect(files.get('config.json')?.equals(config)).toBe(true);

    const unknown = await t.request('GET', `${V2}/experiment/model/download?experimentKey=${key}&modelName=nope`);
    expect(unknown.statusCode).toBe(404);
    const noGroup = await upload({ experimentKey: key, fileName: 'w', type: 'model-element' }, [
      ['file', Buffer.from('w'), 'file'],
    ]);
    expect(noGroup.statusCode).toBe(400);
  });

  it('keeps zip entries inside the archive whatever the file names', async () => {
    const key = await newExperiment();
    for (const fileName of ['/abs/a.bin', '../../escape.bin', 'C:\\win\\b.bin']) {
      const response = await upload({ experimentKey: key, fileName, type: 'model-element', groupingName: 'm' }, [
        ['file', Buffer.from(fileName), 'file'],
      ]);
      expect(response.statusCode).toBe(200);
    }
    const zip = await t.request('GET', `${V2}/experiment/model/download?experimentKey=${key}&modelName=m`);
    const files = unzip(zip.rawPayload);
    expect([...files.keys()]).toEqual(['abs/a.bin', 'escape.bin', 'win/b.bin']);
    expect(files.get('escape.bin')?.toString()).toBe('../../escape.bin');
  });

  it('stores the git patch verbatim and answers the sentinel when there is none', async () => {
    const key = await newExperiment();
    const missing = await t.request('GET', `${V2}/experiment/git/patch?experimentKey=${key}`);
    expect(missing.statusCode).toBe(200);
    expect(missing.headers['content-type']).toBe('application/json');
    expect(missing.payload).toBe(NO_PATCH);

    const patch = sampleBytes(5000, 9);
    const body = await multipart([['file', patch, 'git_diff.zip']]);
    const uploaded = await t.request('POST', `${V2}/write/experiment/git/patch?experimentKey=${key}`, body);
    expect(uploaded.statusCode).toBe(200);
    expect(uploaded.json()).toMatchObject({ code: 200, sdk_error_code: 0, data: null });

    const stored = await t.request('GET', `${V2}/experiment/git/patch?experimentKey=${key}`);
    expect(stored.statusCode).toBe(200);
    expect(stored.headers['content-type']).toBe('application/octet-stream');
    expect(stored.rawPayload.equals(patch)).toBe(true);

    const replacement = await multipart([['file', Buffer.from('diff --git a b\n'), 'file']]);
    await t.request('POST', `${V2}/write/experiment/git/patch?experimentKey=${key}`, replacement);
    expect((await t.request('GET', `${V2}/experiment/git/patch?experimentKey=${key}`)).payload).toBe(
      'diff --git a b\n',
    );

    const noFile = await multipart([['metadata', '{}']]);
    const rejected = await t.request('POST', `${V2}/write/experiment/git/patch?experimentKey=${key}`, noFile);
    expect(rejected.statusCode).toBe(400);
  });

  it('refuses an upload over the size limit with 413', async () => {
    const key = await newExperiment();
    const tooBig = Buffer.alloc(1024 * 1024 + 10, 1);
    const response = await upload({ experimentKey: key, fileName: 'big.bin' }, [
      ['file', tooBig, 'file'],
      ['metadata', '{}'],
    ]);
    expect(response.statusCode).toBe(413);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json()).toMatchObject({ code: 413, data: null });
    expect(await listAssets(key)).toEqual([]);

    const patch = await multipart([['file', tooBig, 'file']]);
    const patchResponse = await t.request('POST', `${V2}/write/experiment/git/patch?experimentKey=${key}`, patch);
    expect(patchResponse.statusCode).toBe(413);
    expect((await t.request('GET', `${V2}/experiment/git/patch?experimentKey=${key}`)).payload).toBe(NO_PATCH);
  });

  it('rejects malformed uploads with 400 and stores nothing', async () => {
    const key = await newExperiment();
    const file: Part = ['file', Buffer.from('x'), 'file'];
    const notMultipart = await t.request(
      'POST',
      `${V2}/write/experiment/upload-asset?experimentKey=${key}&fileName=a`,
      {
        body: { file: 'x' },
      },
    );
    expect(notMultipart.statusCode).toBe(400);
    expect(notMultipart.json()).toMatchObject({ code: 400, data: null });
    expect((await upload({ fileName: 'a' }, [file])).statusCode).toBe(400);
    expect((await upload({ experimentKey: key, fileName: 'a', step: 'abc' }, [file])).statusCode).toBe(400);
    expect((await upload({ experimentKey: key, fileName: 'a' }, [['metadata', '{}']])).statusCode).toBe(400);
    expect((await upload({ experimentKey: key, fileName: 'a' }, [['data', Buffer.from('x'), 'x']])).statusCode).toBe(
      400,
    );
    expect((await upload({ experimentKey: key, fileName: 'a' }, [file, ['metadata', '{broken']])).statusCode).toBe(400);
    expect((await upload({ experimentKey: key, fileName: 'a', assetId: 'bad id!' }, [file])).statusCode).toBe(400);
    expect((await upload({ experimentKey: key, fileName: 'a', overwrite: 'maybe' }, [file])).statusCode).toBe(400);
    expect(await listAssets(key)).toEqual([]);
  });

  it('answers 404 for unknown experiments and other tenants, 403 for read-only keys', async () => {
    const key = await newExperiment();
    const { assetId } = (
      await upload({ experimentKey: key, fileName: 'a' }, [['file', Buffer.from('a'), 'file']])
    ).json();
    const unknownKey = 'f'.repeat(32);

    const unknown = await upload({ experimentKey: unknownKey, fileName: 'a' }, [['file', Buffer.from('a'), 'file']]);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 404, sdk_error_code: 90211, data: null });
    for (const path of [
      `experiment/asset/list?experimentKey=${unknownKey}`,
      `experiment/asset/get-asset?experimentKey=${unknownKey}&assetId=${assetId}`,
      `experiment/git/patch?experimentKey=${unknownKey}`,
      `experiment/model?experimentKey=${unknownKey}`,
    ]) {
      const response = await t.request('GET', `${V2}/${path}`);
      expect(response.statusCode, path).toBe(404);
      expect(response.json().sdk_error_code, path).toBe(90211);
    }

    const asBob = { key: t.otherKey };
    for (const path of [
      `experiment/asset/list?experimentKey=${key}`,
      `experiment/asset/details?experimentKey=${key}&assetId=${assetId}`,
      `experiment/asset/get-asset?experimentKey=${key}&assetId=${assetId}`,
      `experiment/asset/get-asset?assetId=${assetId}`,
      `experiment/git/patch?experimentKey=${key}`,
      `experiment/model?experimentKey=${key}`,
      `write/experiment/asset/delete?experimentKey=${key}&assetId=${assetId}`,
    ]) {
      expect((await t.request('GET', `${V2}/${path}`, asBob)).statusCode, path).toBe(404);
    }
    const bobUpload = await upload(
      { experimentKey: key, fileName: 'b' },
      [['file', Buffer.from('b'), 'file']],
      t.otherKey,
    );
    expect(bobUpload.statusCode).toBe(404);
    const bobPatch = await multipart([['file', Buffer.from('p'), 'file']]);
    expect(
      (
        await t.request('POST', `${V2}/write/experiment/git/patch?experimentKey=${key}`, {
          ...bobPatch,
          key: t.otherKey,
        })
      ).statusCode,
    ).toBe(404);

    const readOnly = { key: t.readOnlyKey };
    const roUpload = await upload(
      { experimentKey: key, fileName: 'c' },
      [['file', Buffer.from('c'), 'file']],
      t.readOnlyKey,
    );
    expect(roUpload.statusCode).toBe(403);
    expect(roUpload.json()).toMatchObject({ code: 403, data: null });
    const roDelete = await t.request(
      'GET',
      `${V2}/write/experiment/asset/delete?experimentKey=${key}&assetId=${assetId}`,
      readOnly,
    );
    expect(roDelete.statusCode).toBe(403);
    const roPatch = await multipart([['file', Buffer.from('p'), 'file']]);
    expect(
      (await t.request('POST', `${V2}/write/experiment/git/patch?experimentKey=${key}`, { ...roPatch, ...readOnly }))
        .statusCode,
    ).toBe(403);
    expect((await t.request('GET', `${V2}/experiment/asset/list?experimentKey=${key}`, readOnly)).statusCode).toBe(200);

    expect(await listAssets(key)).toEqual([expect.objectContaining({ assetId, fileName: 'a' })]);
  });
});

describe.each(backends)('Comet asset size limit at the byte (%s)', (backend) => {
  const limit = 1024;
  let store: TestStore;
  let app: FastifyInstance;
  let key: string;
  beforeAll(async () => {
    store = await openTestStore(backend);
    const core = createCore({
      store: store.store,
      blobs: new FileBlobStore(store.blobDir),
      limits: { maxAssetBytes: limit },
    });
    await core.auth.bootstrap(ADMIN_KEY);
    app = await buildApp({ core, config: { bodyLimitBytes: 1024 * 1024, publicUrl: PUBLIC_URL } });
    const principal = await core.auth.authenticate(ADMIN_KEY);
    key = (await core.experiments.create(principal, { workspaceName: 'default', projectName: 'limits' })).experiment.id;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  async function put(size: number) {
    const body = await multipart([['file', Buffer.alloc(size, 7), 'file']]);
    return app.inject({
      method: 'POST',
      url: `${V2}/write/experiment/upload-asset?experimentKey=${key}&fileName=f.bin`,
      headers: { authorization: ADMIN_KEY, ...body.headers },
      payload: body.payload,
    });
  }

  it('accepts exactly the limit and leaves no row and no blob one byte over it', async () => {
    const over = await put(limit + 1);
    expect(over.statusCode).toBe(413);
    expect(over.json()).toMatchObject({ code: 413, sdk_error_code: 0, data: null });
    const list = await app.inject({
      method: 'GET',
      url: `${V2}/experiment/asset/list?experimentKey=${key}`,
      headers: { authorization: ADMIN_KEY },
    });
    expect(list.json()).toEqual({ assets: [] });
    expect(await filesUnder(store.blobDir)).toEqual([]);

    const exact = await put(limit);
    expect(exact.statusCode).toBe(200);
    expect(await filesUnder(store.blobDir)).toHaveLength(1);
  });
});
