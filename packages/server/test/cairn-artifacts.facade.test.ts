import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';
import { multipart, type Part, sampleBytes, unzip } from './support/wire-bodies.js';

const API = '/api/cairn/v1';
const V2 = '/api/rest/v2';
const ARTIFACTS = `${API}/workspaces/default/artifacts`;
const ROWS = sampleBytes(5000, 3);
const LABELS = Buffer.from('cat\ndog\n');

interface File {
  id: string;
  fileName: string;
  size: number;
  remote: boolean;
  link: string | null;
}

describe.each(backends)('Cairn API: artifacts (%s)', (backend) => {
  let t: TestContext;
  let experimentKey: string;

  /** Writes through the Comet API, as comet_ml logs artifacts. */
  const comet = (path: string, body: unknown, key = t.adminKey) => t.request('POST', `${V2}${path}`, { key, body });

  async function upsert(body: Record<string, unknown>): Promise<string> {
    const response = await comet('/write/artifacts/upsert', { experimentKey, ...body });
    expect(response.statusCode, response.body).toBe(200);
    return response.json().artifactVersionId;
  }

  async function upload(
    artifactVersionId: string,
    fileName: string,
    parts: Part[],
    extra: Record<string, string> = {},
  ) {
    const body = await multipart(parts);
    const query = new URLSearchParams({ experimentKey, fileName, artifactVersionId, ...extra });
    const response = await t.request('POST', `${V2}/write/experiment/upload-asset?${query}`, {
      payload: body.payload,
      headers: body.headers,
    });
    expect(response.statusCode, response.body).toBe(200);
  }

  const close = async (artifactVersionId: string) =>
    expect((await comet('/write/artifacts/state', { artifactVersionId, state: 'CLOSED' })).statusCode).toBe(200);

  beforeAll(async () => {
    t = await createTestContext(backend);
    const principal = await t.core.auth.authenticate(t.adminKey);
    experimentKey = (await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'data' }))
      .experiment.id;
    // "pets/images": 1.0.0 (closed, aliased), 1.1.0 (closed), 1.10.0 (still uploading).
    const first = await upsert({
      artifactName: 'pets/images',
      artifactType: 'dataset',
      alias: ['stable'],
      versionTags: ['raw'],
      versionMetadata: '{"rows":2}',
      note: 'first cut',
      description: 'pet pictures',
      tags: ['vision'],
    });
    await upload(first, 'train/rows.bin', [['file', ROWS, 'file']]);
    await upload(first, 'labels.txt', [['file', LABELS, 'file']]);
    await upload(first, 'remote', [['link', 's3://bucket/raw.parquet']], { isRemote: 'true' });
    await close(first);
    await close(await upsert({ artifactName: 'pets/images' }));
    await upload(await upsert({ artifactName: 'pets/images', version: '1.10.0' }), 'partial.bin', [
      ['file', Buffer.from('half'), 'file'],
    ]);
    await close(await upsert({ artifactName: 'tokenizer', artifactType: 'model' }));
  });
  afterAll(async () => {
    await t?.close();
  });

  const get = (path: string, key?: string, headers?: Record<string, string>) =>
    t.request('GET', `${ARTIFACTS}${path}`, { ...(key === undefined ? {} : { key }), ...(headers ? { headers } : {}) });
  const ok = async (path: string, key?: string) => {
    const response = await get(path, key);
    expect(response.statusCode, `${path}: ${response.body}`).toBe(200);
    return response.json();
  };
  const PETS = `/${encodeURIComponent('pets/images')}`;

  it('lists the artifacts of a workspace by name, by type, searchable and paged', async () => {
    const all = await ok('');
    expect(all.total).toBe(2);
    expect(all.nextCursor).toBeNull();
    expect(all.items[0]).toEqual({
      name: 'pets/images',
      type: 'dataset',
      description: 'pet pictures',
      tags: ['vision'],
      isPublic: false,
      emoji: null,
      project: 'data',
      experimentKey,
      createdBy: 'admin',
      versionCount: 3,
      latestVersion: '1.10.0',
      size: ROWS.length + LABELS.length + 4,
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });
    expect(all.items[1]).toMatchObject({ name: 'tokenizer', type: 'model', versionCount: 1, latestVersion: '1.0.0' });
    expect((await ok('?type=model')).items.map((a: { name: string }) => a.name)).toEqual(['tokenizer']);
    expect((await ok('?search=PETS')).items.map((a: { name: string }) => a.name)).toEqual(['pets/images']);
    const first = await ok('?limit=1');
    expect(first.items.map((a: { name: string }) => a.name)).toEqual(['pets/images']);
    const second = await ok(`?limit=1&cursor=${first.nextCursor}`);
    expect(second.items.map((a: { name: string }) => a.name)).toEqual(['tokenizer']);
    expect(second.nextCursor).toBeNull();
    expect((await get(`?type=model&cursor=${first.nextCursor}`)).statusCode).toBe(400);
  });

  it('reads an artifact with its versions (highest first): aliases, tags, state, size, source experiment', async () => {
    const artifact = await ok(PETS);
    expect(artifact).toMatchObject({ name: 'pets/images', workspace: 'default', metadata: null, versionCount: 3 });
    expect(artifact.versions.map((v: { version: string; state: string }) => [v.version, v.state])).toEqual([
      ['1.10.0', 'OPEN'],
      ['1.1.0', 'CLOSED'],
      ['1.0.0', 'CLOSED'],
    ]);
    expect(artifact.versions[2]).toEqual({
      version: '1.0.0',
      aliases: ['stable'],
      tags: ['raw'],
      state: 'CLOSED',
      size: ROWS.length + LABELS.length,
      metadata: '{"rows":2}',
      note: 'first cut',
      experimentKey,
      createdBy: 'admin',
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
    });
    expect((await get('/nothing')).statusCode).toBe(404);
  });

  it('reads a version, named by version or alias, with its files, in any state', async () => {
    const version = await ok(`${PETS}/versions/1.0.0`);
    expect(version).toMatchObject({ version: '1.0.0', aliases: ['stable'], state: 'CLOSED' });
    expect(version.files.map((f: File) => [f.fileName, f.size, f.remote, f.link])).toEqual([
      ['train/rows.bin', ROWS.length, false, null],
      ['labels.txt', LABELS.length, false, null],
      ['remote', 0, true, 's3://bucket/raw.parquet'],
    ]);
    expect(await ok(`${PETS}/versions/stable`)).toEqual(version);
    const open = await ok(`${PETS}/versions/1.10.0`);
    expect(open.state).toBe('OPEN');
    expect(open.files.map((f: File) => f.fileName)).toEqual(['partial.bin']);
    expect((await get(`${PETS}/versions/9.0.0`)).statusCode).toBe(404);
  });

  it('downloads a closed version as a zip, and single files with byte ranges', async () => {
    const zip = await get(`${PETS}/versions/stable/download`);
    expect(zip.statusCode, zip.body).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(zip.headers['content-disposition']).toBe(
      `attachment; filename*=UTF-8''${encodeURIComponent('pets/images')}-1.0.0.zip`,
    );
    const files = unzip(zip.rawPayload);
    // The remote file has no bytes here: it is left out.
    expect([...files.keys()].sort()).toEqual(['labels.txt', 'train/rows.bin']);
    expect(files.get('train/rows.bin')?.equals(ROWS)).toBe(true);
    // Still uploading: 409, as a problem.
    const open = await get(`${PETS}/versions/1.10.0/download`);
    expect(open.statusCode).toBe(409);
    expect(open.headers['content-type']).toMatch(/^application\/problem\+json/);

    const { files: listed } = (await ok(`${PETS}/versions/1.0.0`)) as { files: File[] };
    const rows = listed.find((f) => f.fileName === 'train/rows.bin') as File;
    const whole = await get(`${PETS}/versions/1.0.0/files/${rows.id}`);
    expect(whole.statusCode).toBe(200);
    expect(whole.rawPayload.equals(ROWS)).toBe(true);
    expect(whole.headers['content-disposition']).toBe("inline; filename*=UTF-8''rows.bin");
    const part = await get(`${PETS}/versions/1.0.0/files/${rows.id}`, undefined, { range: 'bytes=-10' });
    expect(part.statusCode).toBe(206);
    expect(part.rawPayload.equals(ROWS.subarray(ROWS.length - 10))).toBe(true);
    const remote = listed.find((f) => f.remote) as File;
    const redirect = await get(`${PETS}/versions/1.0.0/files/${remote.id}`);
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers.location).toBe('s3://bucket/raw.parquet');
    // A file of another version is not this one's.
    expect((await get(`${PETS}/versions/1.1.0/files/${rows.id}`)).statusCode).toBe(404);
  });

  it('is for members of the workspace only', async () => {
    expect((await get('', t.otherKey)).statusCode).toBe(404);
    expect((await get(PETS, t.otherKey)).statusCode).toBe(404);
    expect((await get(`${PETS}/versions/1.0.0/download`, t.otherKey)).statusCode).toBe(404);
    expect((await ok('', t.readOnlyKey)).total).toBe(2);
    expect((await t.request('GET', `${API}/workspaces/bob/artifacts`, { key: t.otherKey })).json()).toEqual({
      items: [],
      nextCursor: null,
      total: 0,
    });
  });
});
