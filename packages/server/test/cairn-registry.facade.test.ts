import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentWithModel, register, V2 } from './support/registry-fixtures.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';
import { unzip } from './support/wire-bodies.js';

const API = '/api/cairn/v1';
const MODELS = `${API}/workspaces/default/registry/models`;
const WEIGHTS = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 13) % 256));
const CONFIG = Buffer.from('{"layers": 3}');

interface Version {
  version: string;
  stages: string[];
  comment: string | null;
  experimentKey: string;
  files: { id: string; fileName: string; size: number }[];
}

describe.each(backends)('Cairn API: the model registry (%s)', (backend) => {
  let t: TestContext;
  /** One registered model of this suite: three versions of two experiment models. */
  let vision: { experimentKey: string; items: Map<string, string> };

  /** Registers `versions` of `name` from a fresh experiment model; the first call creates the model. */
  async function registered(
    name: string,
    versions: { version: string; stages?: string[]; comment?: string }[],
    options: { isPublic?: boolean; description?: string; files?: Record<string, Buffer> } = {},
  ) {
    const source = await experimentWithModel(t, 'net', options.files ?? { 'weights.bin': WEIGHTS });
    const items = new Map<string, string>();
    for (const [i, v] of versions.entries()) {
      const response = await register(
        t,
        {
          experimentModelId: source.experimentModelId,
          registryModelName: name,
          ...v,
          ...(i === 0 ? { isPublic: options.isPublic ?? false, description: options.description ?? null } : {}),
        },
        { item: i > 0 },
      );
      expect(response.statusCode, response.body).toBe(200);
      items.set(v.version, response.json().registryModelItemId);
    }
    return { experimentKey: source.experimentKey, items };
  }

  beforeAll(async () => {
    t = await createTestContext(backend);
    vision = await registered(
      'vision',
      [
        { version: '1.0.0', stages: ['staging'], comment: 'first' },
        { version: '1.10.0' },
        { version: '1.2.0', stages: ['production', 'qa'] },
      ],
      { description: 'the vision net', files: { 'weights.bin': WEIGHTS, 'config/params.json': CONFIG } },
    );
    await registered('audio', [{ version: '0.1.0' }], { isPublic: true });
    await registered('vision-small', [{ version: '2.0.0-rc.1' }]);
  });
  afterAll(async () => {
    await t?.close();
  });

  const call = (
    method: 'GET' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    options: { body?: unknown; key?: string } = {},
  ) =>
    t.request(method, `${MODELS}${path}`, {
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.key === undefined ? {} : { key: options.key }),
    });
  const ok = async (method: 'GET' | 'PUT' | 'PATCH' | 'DELETE', path: string, options = {}) => {
    const response = await call(method, path, options);
    expect(response.statusCode, `${method} ${path}: ${response.body}`).toBe(200);
    return response.json();
  };
  const status = async (method: 'GET' | 'PUT' | 'PATCH' | 'DELETE', path: string, options = {}) =>
    (await call(method, path, options)).statusCode;

  it('lists the models of a workspace by name, with their latest version, searchable and paged', async () => {
    const all = await ok('GET', '');
    expect(all.total).toBe(3);
    expect(all.nextCursor).toBeNull();
    expect(all.items.map((m: { name: string }) => m.name)).toEqual(['audio', 'vision', 'vision-small']);
    expect(all.items[1]).toEqual({
      name: 'vision',
      workspace: 'default',
      description: 'the vision net',
      isPublic: false,
      createdBy: 'admin',
      createdAt: expect.any(Number),
      updatedAt: expect.any(Number),
      versionCount: 3,
      // Semver precedence: 1.10.0 > 1.2.0, whatever the registration order.
      latest: {
        version: '1.10.0',
        stages: [],
        comment: null,
        experimentKey: vision.experimentKey,
        experimentModel: 'net',
        createdBy: 'admin',
        createdAt: expect.any(Number),
        updatedAt: expect.any(Number),
      },
    });
    // A pre-release is the latest when nothing else is there.
    expect(all.items[2].latest.version).toBe('2.0.0-rc.1');

    const searched = await ok('GET', '?search=VISION');
    expect(searched.items.map((m: { name: string }) => m.name)).toEqual(['vision', 'vision-small']);
    expect(searched.total).toBe(2);

    const first = await ok('GET', '?limit=2');
    expect(first.items.map((m: { name: string }) => m.name)).toEqual(['audio', 'vision']);
    const second = await ok('GET', `?limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((m: { name: string }) => m.name)).toEqual(['vision-small']);
    expect(second.nextCursor).toBeNull();
    expect(await status('GET', `?search=audio&cursor=${first.nextCursor}`)).toBe(400);
  });

  it('reads a model with every version (highest first), its stages, comment and files with sizes', async () => {
    const model = await ok('GET', '/vision');
    expect(model).toMatchObject({ name: 'vision', notes: '', versionCount: 3 });
    expect(model.versions.map((v: Version) => [v.version, v.stages, v.comment])).toEqual([
      ['1.10.0', [], null],
      ['1.2.0', ['production', 'qa'], null],
      ['1.0.0', ['staging'], 'first'],
    ]);
    const [top] = model.versions as (Version & { size: number })[];
    expect(top?.experimentKey).toBe(vision.experimentKey);
    expect(top?.size).toBe(WEIGHTS.length + CONFIG.length);
    expect(top?.files.map((f) => [f.fileName, f.size])).toEqual([
      ['weights.bin', WEIGHTS.length],
      ['config/params.json', CONFIG.length],
    ]);
    expect(top?.files[0]).toMatchObject({ type: 'model-element', model: 'net', remote: false });
    // Names are found the way comet_ml writes them.
    expect((await ok('GET', '/Vision%20Small')).name).toBe('vision-small');
    expect(await ok('GET', '/vision/versions/1.2.0')).toEqual(model.versions[1]);
    expect(await status('GET', '/vision/versions/9.9.9')).toBe(404);
    expect(await status('GET', '/nothing')).toBe(404);
  });

  it('keeps notes: read, replaced, for members only', async () => {
    expect(await ok('GET', '/vision/notes')).toEqual({ notes: '' });
    expect(await status('PUT', '/vision/notes', { body: { notes: '# Vision\nuse 1.2.0' } })).toBe(204);
    expect(await ok('GET', '/vision/notes')).toEqual({ notes: '# Vision\nuse 1.2.0' });
    expect((await ok('GET', '/vision')).notes).toBe('# Vision\nuse 1.2.0');
    expect(await status('PUT', '/vision/notes', { body: { notes: 'x' }, key: t.readOnlyKey })).toBe(403);
    expect(await status('PUT', '/vision/notes', { body: {} })).toBe(400);
  });

  it('changes a version’s comment and stages; only known fields', async () => {
    const changed = await ok('PATCH', '/vision/versions/1.10.0', { body: { comment: 'candidate', stages: ['qa'] } });
    expect(changed).toMatchObject({ version: '1.10.0', comment: 'candidate', stages: ['qa'] });
    expect(await ok('PATCH', '/vision/versions/1.10.0', { body: { comment: null } })).toMatchObject({
      comment: null,
      stages: ['qa'],
    });
    expect(await ok('PATCH', '/vision/versions/1.10.0', { body: { stages: [] } })).toMatchObject({ stages: [] });
    expect(await status('PATCH', '/vision/versions/1.10.0', { body: { status: 'APPROVED' } })).toBe(400);
    expect(await status('PATCH', '/vision/versions/1.10.0', { body: { stages: [''] } })).toBe(400);
    expect(await status('PATCH', '/vision/versions/1.10.0', { body: { comment: 'x' }, key: t.readOnlyKey })).toBe(403);
  });

  it('adds and removes stages, firing the same webhooks as the Comet API', async () => {
    const name = 'hooked';
    const { items } = await registered(name, [{ version: '1.0.0' }, { version: '2.0.0' }]);
    const hook = 'https://ci.example/hook';
    const config = await t.request('POST', `${V2}/webhooks/config`, {
      body: { webhookConfigs: [{ workspaceName: 'default', modelName: name, webhookUrls: [{ url: hook }] }] },
    });
    expect(config.statusCode, config.body).toBe(200);
    const deliveries = async () => {
      const response = await t.request('GET', `${API}/webhooks/deliveries?workspaceName=default&limit=1000`);
      expect(response.statusCode, response.body).toBe(200);
      return (response.json().deliveries as { url: string; event: string; payload: Record<string, unknown> }[])
        .filter((d) => d.url === hook)
        .reverse();
    };

    // The Comet way, on 1.0.0; then Cairn's, on 2.0.0.
    const comet = await t.request(
      'GET',
      `${V2}/write/registry-model/item/stage?${new URLSearchParams({ modelItemId: items.get('1.0.0') as string, stage: 'prod' })}`,
    );
    expect(comet.statusCode, comet.body).toBe(200);
    expect((await ok('PUT', `/${name}/versions/2.0.0/stages/prod`)).stages).toEqual(['prod']);
    const [byComet, byCairn] = await deliveries();
    expect(byCairn?.event).toBe('STAGE_ADDED');
    expect(byCairn?.payload).toEqual({
      ...byComet?.payload,
      version: '2.0.0',
      registryModelItemId: items.get('2.0.0'),
      timestamp: expect.any(Number),
    });
    expect(byCairn?.payload).toMatchObject({
      stage: 'prod',
      stages: ['prod'],
      userName: 'admin',
      event: 'STAGE_ADDED',
    });

    // A stage the version has already: nothing changes, nothing fires.
    expect((await ok('PUT', `/${name}/versions/2.0.0/stages/prod`)).stages).toEqual(['prod']);
    expect(await deliveries()).toHaveLength(2);
    // Stages are free text: anything that is a path segment once encoded.
    expect((await ok('PUT', `/${name}/versions/2.0.0/stages/${encodeURIComponent('eu/west 1')}`)).stages).toEqual([
      'prod',
      'eu/west 1',
    ]);
    const removed = await ok('DELETE', `/${name}/versions/2.0.0/stages/prod`);
    expect(removed.stages).toEqual(['eu/west 1']);
    expect(await status('DELETE', `/${name}/versions/2.0.0/stages/prod`)).toBe(404);
    // A PATCH of the stage list fires one event per stage added or removed.
    await ok('PATCH', `/${name}/versions/2.0.0`, { body: { stages: ['canary'] } });
    expect((await deliveries()).map((d) => [d.event, d.payload.stage, d.payload.version])).toEqual([
      ['STAGE_ADDED', 'prod', '1.0.0'],
      ['STAGE_ADDED', 'prod', '2.0.0'],
      ['STAGE_ADDED', 'eu/west 1', '2.0.0'],
      ['STAGE_REMOVED', 'prod', '2.0.0'],
      ['STAGE_REMOVED', 'eu/west 1', '2.0.0'],
      ['STAGE_ADDED', 'canary', '2.0.0'],
    ]);
    expect(await status('PUT', `/${name}/versions/2.0.0/stages/x`, { key: t.readOnlyKey })).toBe(403);
    expect(await status('PUT', `/${name}/versions/3.0.0/stages/x`)).toBe(404);
  });

  it('downloads a version as a streamed zip, and one file of it with byte ranges', async () => {
    const zip = await call('GET', '/vision/versions/1.0.0/download');
    expect(zip.statusCode, zip.body).toBe(200);
    expect(zip.headers['content-type']).toBe('application/zip');
    expect(zip.headers['content-disposition']).toBe("attachment; filename*=UTF-8''vision-1.0.0.zip");
    const files = unzip(zip.rawPayload);
    expect([...files.keys()].sort()).toEqual(['config/params.json', 'weights.bin']);
    expect(files.get('weights.bin')?.equals(WEIGHTS)).toBe(true);

    const version: Version = await ok('GET', '/vision/versions/1.0.0');
    const weights = version.files.find((f) => f.fileName === 'weights.bin');
    const whole = await call('GET', `/vision/versions/1.0.0/files/${weights?.id}`);
    expect(whole.statusCode).toBe(200);
    expect(whole.rawPayload.equals(WEIGHTS)).toBe(true);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.headers['content-security-policy']).toBe('sandbox');
    const part = await t.request('GET', `${MODELS}/vision/versions/1.0.0/files/${weights?.id}`, {
      headers: { range: 'bytes=100-199' },
    });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${WEIGHTS.length}`);
    expect(part.rawPayload.equals(WEIGHTS.subarray(100, 200))).toBe(true);
    const beyond = await t.request('GET', `${MODELS}/vision/versions/1.0.0/files/${weights?.id}`, {
      headers: { range: 'bytes=5000-' },
    });
    expect(beyond.statusCode).toBe(416);
    expect(await status('GET', '/vision/versions/1.0.0/files/not-a-file')).toBe(404);
    // A file of another experiment is not this version's, whatever its id.
    const other = await experimentWithModel(t, 'other', { 'x.bin': Buffer.from('x') });
    const [foreign] = (await t.request('GET', `${API}/experiments/${other.experimentKey}/assets`)).json().items;
    expect(await status('GET', `/vision/versions/1.0.0/files/${foreign.id}`)).toBe(404);
  });

  it('shows other tenants public models only, read-only', async () => {
    const theirs = await ok('GET', '', { key: t.otherKey });
    expect(theirs.items.map((m: { name: string }) => m.name)).toEqual(['audio']);
    expect(theirs.total).toBe(1);
    expect((await ok('GET', '/audio', { key: t.otherKey })).versions).toHaveLength(1);
    expect(await status('GET', '/vision', { key: t.otherKey })).toBe(404);
    expect(await status('GET', '/vision/versions/1.0.0/download', { key: t.otherKey })).toBe(404);
    expect(await status('PUT', '/audio/versions/0.1.0/stages/prod', { key: t.otherKey })).toBe(404);
    expect(await status('PUT', '/audio/notes', { key: t.otherKey, body: { notes: 'mine' } })).toBe(404);
    expect(await status('GET', '', { key: 'wrong' })).toBe(401);
    const missing = await t.request('GET', `${API}/workspaces/nowhere/registry/models`);
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
