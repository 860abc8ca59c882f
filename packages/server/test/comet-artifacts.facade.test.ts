import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';
import { multipart, type Part, sampleBytes, unzip } from './support/wire-bodies.js';

const V2 = '/api/rest/v2';
const OK = { msg: expect.any(String), code: 200, sdk_error_code: 0, data: null };

/** The Comet error body with its sdk_error_code. */
function cometError(status: number, sdkErrorCode: number) {
  return { msg: expect.any(String), code: status, sdk_error_code: sdkErrorCode, data: null };
}

describe.each(backends)('Comet artifacts (%s)', (backend) => {
  let t: TestContext;
  let admin: string;
  let suffix = 0;
  beforeAll(async () => {
    t = await createTestContext(backend);
    admin = t.adminKey;
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A fresh artifact name: tests share one server. */
  const fresh = (base: string) => `${base}-${++suffix}`;

  async function newExperiment(key = admin, workspaceName = 'default', projectName = 'artifacts'): Promise<string> {
    const principal = await t.core.auth.authenticate(key);
    const view = await t.core.experiments.create(principal, { workspaceName, projectName });
    return view.experiment.id;
  }

  function post(path: string, body: unknown, key: string = admin) {
    return t.request('POST', `${V2}${path}`, { key, body });
  }

  function get(path: string, query: Record<string, string>, key: string = admin) {
    return t.request('GET', `${V2}${path}?${new URLSearchParams(query)}`, { key });
  }

  async function upsert(body: Record<string, unknown>, key: string = admin) {
    const response = await post('/write/artifacts/upsert', body, key);
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as {
      artifactId: string;
      artifactVersionId: string;
      currentVersion: string;
      previousVersion: string | null;
    };
  }

  function setState(artifactVersionId: string, state: unknown, key: string = admin) {
    return post('/write/artifacts/state', { artifactVersionId, state }, key);
  }

  async function upload(query: Record<string, string>, parts: Part[], key: string = admin) {
    const body = await multipart(parts);
    return t.request('POST', `${V2}/write/experiment/upload-asset?${new URLSearchParams(query)}`, {
      key,
      payload: body.payload,
      headers: body.headers,
    });
  }

  async function uploadFile(experimentKey: string, artifactVersionId: string, fileName: string, bytes: Buffer) {
    const response = await upload({ experimentKey, fileName, artifactVersionId }, [['file', bytes, 'file']]);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().assetId as string;
  }

  /** An artifact whose versions (each closed) hold the given files. */
  async function artifactWith(versions: Record<string, Buffer>[], type = 'dataset') {
    const experimentKey = await newExperiment();
    const name = fresh('data');
    const ids: string[] = [];
    for (const files of versions) {
      const { artifactVersionId } = await upsert({ artifactName: name, artifactType: type, experimentKey });
      for (const [fileName, bytes] of Object.entries(files)) {
        await uploadFile(experimentKey, artifactVersionId, fileName, bytes);
      }
      expect((await setState(artifactVersionId, 'CLOSED')).statusCode).toBe(200);
      ids.push(artifactVersionId);
    }
    const details = (await get('/artifacts/get', { workspace: 'default', artifactName: name })).json();
    return { experimentKey, name, artifactId: details.artifactId as string, versionIds: ids };
  }

  describe('upsert', () => {
    it('creates an artifact at 1.0.0, OPEN, and numbers later versions by the next minor', async () => {
      const experimentKey = await newExperiment();
      const name = fresh('images');
      const response = await post('/write/artifacts/upsert', {
        artifactName: name,
        artifactType: 'dataset',
        experimentKey,
        versionMetadata: '{"rows":10}',
        version: null,
        alias: ['current'],
        versionTags: ['raw', 'raw', 'v'],
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/json');
      const first = response.json();
      expect(first).toEqual({
        ...OK,
        artifactId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        artifactVersionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        currentVersion: '1.0.0',
        previousVersion: null,
      });

      const version = await get('/artifacts/version', { versionId: first.artifactVersionId });
      expect(version.statusCode).toBe(200);
      expect(version.json()).toMatchObject({
        artifactVersion: '1.0.0',
        state: 'OPEN',
        metadata: '{"rows":10}',
        tags: ['raw', 'v'],
        alias: ['current'],
        owner: 'admin',
        createdFrom: experimentKey,
        experimentKey,
        sizeInBytes: 0,
      });

      const second = await upsert({ artifactName: name, artifactType: 'dataset', experimentKey });
      expect(second).toMatchObject({ artifactId: first.artifactId, currentVersion: '1.1.0', previousVersion: '1.0.0' });
      expect(second.artifactVersionId).not.toBe(first.artifactVersionId);
    });

    it('orders versions by semver precedence, not by text, for the next version and the latest', async () => {
      const experimentKey = await newExperiment();
      const name = fresh('semver');
      const base = { artifactName: name, artifactType: 'model', experimentKey };
      await upsert({ ...base, version: '1.9.0' });
      expect(await upsert({ ...base, version: '1.10.0' })).toMatchObject({ previousVersion: '1.9.0' });
      // 1.10.0 is above 1.9.0 (text order would say otherwise), so the next minor is 1.11.0.
      expect(await upsert(base)).toMatchObject({ currentVersion: '1.11.0', previousVersion: '1.10.0' });
      await upsert({ ...base, version: '2.0.0-rc.1' });
      await upsert({ ...base, version: '1.12.0' });
      const details = (await get('/artifacts/get', { workspace: 'default', artifactName: name })).json();
      expect(details.versions.map((v: { version: string }) => v.version)).toEqual([
        '1.9.0',
        '1.10.0',
        '1.11.0',
        '1.12.0',
        '2.0.0-rc.1',
      ]);
      expect(details.latestVersion).toBe('2.0.0-rc.1');
      expect(await upsert(base)).toMatchObject({ currentVersion: '2.1.0', previousVersion: '2.0.0-rc.1' });
    });

    it('gives concurrent upserts of one new artifact one artifact and distinct versions', async () => {
      const experimentKey = await newExperiment();
      const name = fresh('concurrent');
      const results = await Promise.all(
        Array.from({ length: 6 }, () => upsert({ artifactName: name, artifactType: 'dataset', experimentKey })),
      );
      expect(new Set(results.map((r) => r.artifactId)).size).toBe(1);
      expect(results.map((r) => r.currentVersion).sort()).toEqual([
        '1.0.0',
        '1.1.0',
        '1.2.0',
        '1.3.0',
        '1.4.0',
        '1.5.0',
      ]);
      const details = (await get('/artifacts/get', { workspace: 'default', artifactName: name })).json();
      expect(details.versions).toHaveLength(6);
    });

    it('refuses an existing version (90399), a version that is not semver, and incomplete requests', async () => {
      const experimentKey = await newExperiment();
      const name = fresh('dup');
      await upsert({ artifactName: name, artifactType: 'dataset', experimentKey, version: '3.1.4' });
      const duplicate = await post('/write/artifacts/upsert', {
        artifactName: name,
        artifactType: 'dataset',
        experimentKey,
        version: '3.1.4',
      });
      expect(duplicate.statusCode).toBe(400);
      expect(duplicate.json()).toEqual(cometError(400, 90399));

      const notSemver = await post('/write/artifacts/upsert', { artifactName: name, experimentKey, version: '1.0' });
      expect(notSemver.statusCode).toBe(400);
      expect(notSemver.json().msg).toMatch(/semantic version/);

      const noKey = await post('/write/artifacts/upsert', { artifactName: name, artifactType: 'dataset' });
      expect(noKey.json()).toEqual(cometError(400, 90998));
      const noType = await post('/write/artifacts/upsert', { artifactName: fresh('untyped'), experimentKey });
      expect(noType.statusCode).toBe(400);
      expect(noType.json().msg).toMatch(/artifactType/);
      const noName = await post('/write/artifacts/upsert', { artifactType: 'dataset', experimentKey });
      expect(noName.statusCode).toBe(400);
      const badMetadata = await post('/write/artifacts/upsert', {
        artifactName: name,
        experimentKey,
        versionMetadata: '{not json',
      });
      expect(badMetadata.statusCode).toBe(400);
      const unknownExperiment = await post('/write/artifacts/upsert', {
        artifactName: name,
        artifactType: 'dataset',
        experimentKey: 'f'.repeat(32),
      });
      expect(unknownExperiment.statusCode).toBe(404);
      const otherWorkspace = await post('/write/artifacts/upsert', {
        artifactName: name,
        artifactType: 'dataset',
        experimentKey,
        workspaceName: 'bob',
      });
      expect(otherWorkspace.statusCode).toBe(400);

      // Nothing of the refused upserts was stored.
      const details = (await get('/artifacts/get', { workspace: 'default', artifactName: name })).json();
      expect(details.versions.map((v: { version: string }) => v.version)).toEqual(['3.1.4']);
    });

    it('applies the artifact fields the Java SDK sends when it creates the artifact, and keeps them after', async () => {
      const experimentKey = await newExperiment();
      const name = fresh('java');
      await upsert({
        artifactName: name,
        artifactType: 'model',
        experimentKey,
        workspaceName: 'default',
        description: 'weights of the net',
        metadata: '{"framework":"torch"}',
        tags: ['cv', 'cv', 'prod'],
        isPublic: true,
        emoji: '🧠',
        note: 'first cut',
      });
      // A later upsert does not reset them (the Java SDK always sends isPublic=false).
      const second = await upsert({ artifactName: name, artifactType: 'other', experimentKey, isPublic: false });
      const version = (await get('/artifacts/version', { versionId: second.artifactVersionId })).json();
      expect(version.artifact).toMatchObject({
        artifactName: name,
        artifactType: 'model',
        description: 'weights of the net',
        metadata: '{"framework":"torch"}',
        tags: ['cv', 'prod'],
        isPublic: true,
        emoji: '🧠',
        workspaceName: 'default',
        experimentKey,
        version: '1.1.0',
        owner: 'admin',
      });
      const firstVersion = (
        await get('/artifacts/version', { versionId: (await artifactVersionId(name, '1.0.0')) as string })
      ).json();
      expect(firstVersion.note).toBe('first cut');
      expect(version.note).toBeNull();
    });
  });

  async function artifactVersionId(name: string, version: string): Promise<string | undefined> {
    const details = (await get('/artifacts/get', { workspace: 'default', artifactName: name })).json();
    return details.versions.find((v: { version: string }) => v.version === version)?.artifactVersionId;
  }

  describe('state', () => {
    it('closes or fails an OPEN version once; later changes are 90401, other states 90410', async () => {
      const experimentKey = await newExperiment();
      const name = fresh('states');
      const a = await upsert({ artifactName: name, artifactType: 'dataset', experimentKey });
      const b = await upsert({ artifactName: name, artifactType: 'dataset', experimentKey });

      for (const invalid of ['OPEN', 'closed', 'DONE', '', null, undefined]) {
        const response = await setState(a.artifactVersionId, invalid);
        expect(response.statusCode, String(invalid)).toBe(400);
        expect(response.json()).toEqual(cometError(400, 90410));
      }

      const close = await post('/write/artifacts/state', {
        artifactVersionId: a.artifactVersionId,
        experimentKey,
        state: 'CLOSED',
      });
      expect(close.statusCode).toBe(200);
      expect(close.json()).toEqual(OK);
      for (const again of ['CLOSED', 'ERROR']) {
        const response = await setState(a.artifactVersionId, again);
        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual(cometError(400, 90401));
      }

      expect((await setState(b.artifactVersionId, 'ERROR')).statusCode).toBe(200);
      expect((await setState(b.artifactVersionId, 'CLOSED')).json()).toEqual(cometError(400, 90401));

      const states = (await get('/artifacts/get', { workspace: 'default', artifactName: name })).json().versions;
      expect(states.map((v: { state: string }) => v.state)).toEqual(['CLOSED', 'ERROR']);

      const unknown = await setState('00000000-0000-0000-0000-000000000000', 'CLOSED');
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toEqual(cometError(404, 624523));
    });

    it('lets exactly one of two concurrent closes win', async () => {
      const experimentKey = await newExperiment();
      const { artifactVersionId } = await upsert({ artifactName: fresh('race'), artifactType: 'd', experimentKey });
      const results = await Promise.all([setState(artifactVersionId, 'CLOSED'), setState(artifactVersionId, 'ERROR')]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 400]);
      expect(results.find((r) => r.statusCode === 400)?.json().sdk_error_code).toBe(90401);
    });
  });

  describe('files', () => {
    it('attaches uploads to an OPEN version, sums their sizes, and freezes them once CLOSED', async () => {
      const experimentKey = await newExperiment();
      const name = fresh('files');
      const { artifactId, artifactVersionId } = await upsert({ artifactName: name, artifactType: 'd', experimentKey });
      const csv = Buffer.from('a,b\n1,2\n');
      const weights = sampleBytes(5000, 3);
      const csvId = await uploadFile(experimentKey, artifactVersionId, 'data/train.csv', csv);
      const weightsId = await uploadFile(experimentKey, artifactVersionId, 'weights.bin', weights);
      const metadataUpload = await upload({ experimentKey, fileName: 'meta.json', artifactVersionId }, [
        ['file', Buffer.from('{}'), 'file'],
        ['metadata', '{"kind":"meta"}'],
      ]);
      expect(metadataUpload.statusCode).toBe(200);
      const metaId = metadataUpload.json().assetId;

      // comet_ml sends the remote link as a part with a file name ("link"); a plain field works too.
      const remoteAsFile = await upload({ experimentKey, fileName: 'raw', artifactVersionId, isRemote: 'True' }, [
        ['link', Buffer.from('s3://bucket/raw.parquet'), 'link'],
      ]);
      expect(remoteAsFile.statusCode, remoteAsFile.body).toBe(200);
      const remoteAsField = await upload({ experimentKey, fileName: 'docs', artifactVersionId, isRemote: 'true' }, [
        ['link', 'https://example.com/docs'],
        ['metadata', '{"synced":false}'],
      ]);
      expect(remoteAsField.statusCode).toBe(200);

      const files = (await get('/artifacts/version/files', { versionId: artifactVersionId })).json().files;
      const common = { artifactId, artifactVersionId, dir: 'assets', type: 'asset' };
      expect(files).toEqual([
        {
          ...common,
          assetId: csvId,
          fileName: 'data/train.csv',
          fileSize: csv.length,
          link: null,
          metadata: null,
          remote: false,
        },
        {
          ...common,
          assetId: weightsId,
          fileName: 'weights.bin',
          fileSize: 5000,
          link: null,
          metadata: null,
          remote: false,
        },
        {
          ...common,
          assetId: metaId,
          fileName: 'meta.json',
          fileSize: 2,
          link: null,
          metadata: '{"kind":"meta"}',
          remote: false,
        },
        {
          ...common,
          assetId: remoteAsFile.json().assetId,
          fileName: 'raw',
          fileSize: 0,
          link: 's3://bucket/raw.parquet',
          metadata: null,
          remote: true,
        },
        {
          ...common,
          assetId: remoteAsField.json().assetId,
          fileName: 'docs',
          fileSize: 0,
          link: 'https://example.com/docs',
          metadata: '{"synced":false}',
          remote: true,
        },
      ]);
      const size = csv.length + 5000 + 2;
      expect((await get('/artifacts/version', { versionId: artifactVersionId })).json().sizeInBytes).toBe(size);

      // Deleting a file of an OPEN version shrinks it.
      const deleted = await t.request(
        'GET',
        `${V2}/write/experiment/asset/delete?experimentKey=${experimentKey}&assetId=${metaId}`,
      );
      expect(deleted.statusCode).toBe(200);
      expect((await get('/artifacts/version', { versionId: artifactVersionId })).json().sizeInBytes).toBe(size - 2);

      expect((await setState(artifactVersionId, 'CLOSED')).statusCode).toBe(200);
      const late = await upload({ experimentKey, fileName: 'late.txt', artifactVersionId }, [
        ['file', Buffer.from('late'), 'file'],
      ]);
      expect(late.statusCode).toBe(400);
      expect(late.json()).toEqual(cometError(400, 90401));
      const frozen = await t.request(
        'GET',
        `${V2}/write/experiment/asset/delete?experimentKey=${experimentKey}&assetId=${csvId}`,
      );
      expect(frozen.statusCode).toBe(400);
      expect(frozen.json()).toEqual(cometError(400, 90401));
      const after = (await get('/artifacts/version/files', { versionId: artifactVersionId })).json().files;
      expect(after.map((f: { fileName: string }) => f.fileName)).toEqual([
        'data/train.csv',
        'weights.bin',
        'raw',
        'docs',
      ]);
      expect((await get('/artifacts/get', { artifactId })).json().sizeInBytes).toBe(size - 2);
    });

    it('refuses files for unknown versions and for versions of another workspace', async () => {
      const experimentKey = await newExperiment();
      const unknown = await upload(
        { experimentKey, fileName: 'x', artifactVersionId: '00000000-0000-0000-0000-000000000000' },
        [['file', Buffer.from('x'), 'file']],
      );
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toEqual(cometError(404, 624523));

      const principal = await t.core.auth.authenticate(admin);
      await t.core.projects.createWorkspace(principal, 'artifacts-elsewhere');
      const elsewhere = await newExperiment(admin, 'artifacts-elsewhere', 'p');
      const { artifactVersionId } = await upsert({ artifactName: fresh('ws'), artifactType: 'd', experimentKey });
      const crossed = await upload({ experimentKey: elsewhere, fileName: 'x', artifactVersionId }, [
        ['file', Buffer.from('x'), 'file'],
      ]);
      expect(crossed.statusCode).toBe(400);
      expect((await get('/artifacts/version/files', { versionId: artifactVersionId })).json().files).toEqual([]);
    });

    it('serves a file by asset id and artifact version, whatever experiment key comes along', async () => {
      const bytes = sampleBytes(3000, 7);
      const { versionIds } = await artifactWith([{ 'model/weights.bin': bytes }]);
      const versionId = versionIds[0] as string;
      const files = (await get('/artifacts/version/files', { versionId })).json().files;
      const assetId = files[0].assetId;

      const plain = await get('/experiment/asset/get-asset', { assetId, artifactVersionId: versionId });
      expect(plain.statusCode).toBe(200);
      expect(plain.headers['content-type']).toBe('application/octet-stream');
      expect(plain.rawPayload.equals(bytes)).toBe(true);

      // comet_ml's LoggedArtifact sends the key of the experiment that consumes the artifact.
      const consumer = await newExperiment();
      const consumed = await get('/experiment/asset/get-asset', {
        assetId,
        artifactVersionId: versionId,
        experimentKey: consumer,
      });
      expect(consumed.statusCode).toBe(200);
      expect(consumed.rawPayload.equals(bytes)).toBe(true);

      const { versionIds: others } = await artifactWith([{ 'other.bin': Buffer.from('o') }]);
      const wrongVersion = await get('/experiment/asset/get-asset', {
        assetId,
        artifactVersionId: others[0] as string,
      });
      expect(wrongVersion.statusCode).toBe(404);
    });
  });

  describe('reads', () => {
    it('lists a workspace’s artifacts by name with counts, sizes and a type filter', async () => {
      const principal = await t.core.auth.authenticate(admin);
      await t.core.projects.createWorkspace(principal, 'artifacts-list');
      const experimentKey = await newExperiment(admin, 'artifacts-list', 'listing');
      const make = async (name: string, type: string, files: number[][]) => {
        for (const sizes of files) {
          const { artifactVersionId } = await upsert({ artifactName: name, artifactType: type, experimentKey });
          for (const [i, size] of sizes.entries()) {
            await uploadFile(experimentKey, artifactVersionId, `f${i}`, sampleBytes(size));
          }
        }
      };
      await make('zeta', 'model', [[10], [20, 30]]);
      await make('alpha', 'dataset', [[5]]);
      await make('Beta', 'dataset', [[]]);

      const all = await get('/artifacts/get-all', { workspace: 'artifacts-list' });
      expect(all.statusCode).toBe(200);
      expect(all.headers['content-type']).toBe('application/json');
      const row = { project: 'listing', description: null, tags: [], isPublic: false, emoji: null };
      expect(all.json()).toEqual({
        artifacts: [
          { ...row, artifactId: expect.any(String), name: 'Beta', type: 'dataset', versionsCount: 1, sizeInBytes: 0 },
          { ...row, artifactId: expect.any(String), name: 'alpha', type: 'dataset', versionsCount: 1, sizeInBytes: 5 },
          { ...row, artifactId: expect.any(String), name: 'zeta', type: 'model', versionsCount: 2, sizeInBytes: 60 },
        ],
      });
      const models = (await get('/artifacts/get-all', { workspace: 'artifacts-list', type: 'model' })).json();
      expect(models.artifacts.map((a: { name: string }) => a.name)).toEqual(['zeta']);
      expect((await get('/artifacts/get-all', { workspace: 'artifacts-list', type: 'none' })).json()).toEqual({
        artifacts: [],
      });

      const unknown = await get('/artifacts/get-all', { workspace: 'no-such-workspace' });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toEqual(cometError(404, 90219));
      expect((await get('/artifacts/get-all', {})).statusCode).toBe(400);
    });

    it('gets an artifact by workspace and name, by artifact_id and by artifactId', async () => {
      const { name, artifactId, experimentKey, versionIds } = await artifactWith([
        { a: sampleBytes(7) },
        { a: sampleBytes(9), b: sampleBytes(1) },
      ]);
      const byName = await get('/artifacts/get', { workspace: 'default', artifactName: name });
      expect(byName.statusCode).toBe(200);
      expect(byName.headers['content-type']).toBe('application/json');
      const version = (id: string, v: string, size: number) => ({
        artifactVersionId: id,
        version: v,
        owner: 'admin',
        metadata: null,
        createdFrom: experimentKey,
        sizeInBytes: size,
        state: 'CLOSED',
        added: expect.any(Number),
        alias: [],
        tags: [],
      });
      expect(byName.json()).toEqual({
        artifactId,
        project: 'artifacts',
        type: 'dataset',
        name,
        description: null,
        latestVersion: '1.1.0',
        tags: [],
        isPublic: false,
        emoji: null,
        sizeInBytes: 17,
        versions: [version(versionIds[0] as string, '1.0.0', 7), version(versionIds[1] as string, '1.1.0', 10)],
      });
      expect((await get('/artifacts/get', { artifact_id: artifactId })).json()).toEqual(byName.json());
      expect((await get('/artifacts/get', { artifactId })).json()).toEqual(byName.json());

      const missing = await get('/artifacts/get', { workspace: 'default', artifactName: fresh('missing') });
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toEqual(cometError(404, 624522));
      expect((await get('/artifacts/get', { artifactId: 'nope' })).json()).toEqual(cometError(404, 624522));
      expect((await get('/artifacts/get', { artifactName: name })).statusCode).toBe(400);
    });

    it('finds a version by every locator', async () => {
      const experimentKey = await newExperiment();
      const name = fresh('locators');
      const base = { artifactName: name, artifactType: 'model', experimentKey };
      const v1 = await upsert({ ...base, alias: ['prod', '2.0.0'] });
      const v2 = await upsert({ ...base, version: '2.0.0', alias: ['staging'] });
      for (const v of [v1, v2]) expect((await setState(v.artifactVersionId, 'CLOSED')).statusCode).toBe(200);
      const { artifactId } = v1;

      const versionOf = async (query: Record<string, string>) => {
        const response = await get('/artifacts/version', query);
        expect(response.statusCode, `${JSON.stringify(query)}: ${response.body}`).toBe(200);
        expect(response.headers['content-type']).toBe('application/json');
        return response.json().artifactVersion as string;
      };
      const ws = { workspace: 'default', artifactName: name };
      expect(await versionOf({ versionId: v1.artifactVersionId })).toBe('1.0.0');
      expect(await versionOf({ versionId: v1.artifactVersionId, artifactId })).toBe('1.0.0');
      expect(await versionOf({ ...ws, version: '1.0.0' })).toBe('1.0.0');
      expect(await versionOf({ ...ws, alias: 'prod' })).toBe('1.0.0');
      expect(await versionOf({ ...ws, alias: 'staging' })).toBe('2.0.0');
      expect(await versionOf({ ...ws, versionOrAlias: 'prod' })).toBe('1.0.0');
      // A version wins over an alias of the same text.
      expect(await versionOf({ ...ws, versionOrAlias: '2.0.0' })).toBe('2.0.0');
      expect(await versionOf(ws)).toBe('2.0.0');
      expect(await versionOf({ artifactId, version: '1.0.0' })).toBe('1.0.0');
      expect(await versionOf({ artifact_id: artifactId, alias: 'prod' })).toBe('1.0.0');
      expect(await versionOf({ artifactId })).toBe('2.0.0');
      // comet_ml's get_artifact without a workspace: the experiment names it.
      expect(await versionOf({ artifactName: name, experimentKey, versionOrAlias: 'prod' })).toBe('1.0.0');
      expect(
        await versionOf({ ...ws, project: 'ignored', consumerExperimentKey: experimentKey, version: '1.0.0' }),
      ).toBe('1.0.0');

      const detail = (await get('/artifacts/version', { ...ws, alias: 'prod' })).json();
      expect(detail).toEqual({
        artifactVersionId: v1.artifactVersionId,
        artifactVersion: '1.0.0',
        owner: 'admin',
        createdFrom: experimentKey,
        sizeInBytes: 0,
        metadata: null,
        note: null,
        added: expect.any(Number),
        state: 'CLOSED',
        tags: [],
        alias: ['2.0.0', 'prod'],
        experimentKey,
        artifact: {
          artifactId,
          artifactName: name,
          projectId: expect.stringMatching(/^[0-9a-f]{32}$/),
          workspaceId: expect.stringMatching(/^[0-9a-f]{32}$/),
          workspaceName: 'default',
          experimentKey,
          description: null,
          version: '2.0.0',
          metadata: null,
          artifactType: 'model',
          isPublic: false,
          owner: 'admin',
          s3FileSize: 0,
          emoji: null,
          tags: [],
        },
      });

      const noArtifact = await get('/artifacts/version', { workspace: 'default', artifactName: fresh('none') });
      expect(noArtifact.statusCode).toBe(404);
      expect(noArtifact.json()).toEqual(cometError(404, 624522));
      for (const query of [
        { ...ws, version: '9.9.9' },
        { ...ws, alias: 'nope' },
        { ...ws, versionOrAlias: 'nope' },
        { versionId: '00000000-0000-0000-0000-000000000000' },
        // A version id of another artifact does not match the artifact named beside it.
        { versionId: v1.artifactVersionId, artifactId: '00000000-0000-0000-0000-000000000000' },
      ]) {
        const response = await get('/artifacts/version', query);
        expect(response.statusCode, JSON.stringify(query)).toBe(404);
        expect(response.json()).toEqual(cometError(404, 624523));
      }
      expect((await get('/artifacts/version', { version: '1.0.0' })).statusCode).toBe(400);
    });

    it('serves only CLOSED versions by name (90402 OPEN, 90403 ERROR) but any state by id', async () => {
      const experimentKey = await newExperiment();
      const name = fresh('unfinished');
      const base = { artifactName: name, artifactType: 'model', experimentKey };
      const closed = await upsert(base);
      await setState(closed.artifactVersionId, 'CLOSED');
      const failed = await upsert(base);
      await setState(failed.artifactVersionId, 'ERROR');
      const open = await upsert({ ...base, alias: ['next'] });
      const ws = { workspace: 'default', artifactName: name };

      for (const [query, code] of [
        [ws, 90402],
        [{ ...ws, alias: 'next' }, 90402],
        [{ ...ws, version: '1.2.0' }, 90402],
        [{ ...ws, version: '1.1.0' }, 90403],
        [{ ...ws, versionOrAlias: '1.1.0' }, 90403],
      ] as const) {
        for (const path of ['/artifacts/version', '/artifacts/version/download']) {
          const response = await get(path, query);
          expect(response.statusCode, `${path} ${JSON.stringify(query)}`).toBe(400);
          expect(response.json()).toEqual(cometError(400, code));
        }
      }
      expect((await get('/artifacts/version', { ...ws, version: '1.0.0' })).json().state).toBe('CLOSED');
      // comet_ml reads its new version by id right after the upsert, while it is OPEN.
      const byId = await get('/artifacts/version', { versionId: open.artifactVersionId });
      expect(byId.statusCode).toBe(200);
      expect(byId.json()).toMatchObject({ state: 'OPEN', artifactVersion: '1.2.0' });
      expect((await get('/artifacts/version', { versionId: failed.artifactVersionId })).json().state).toBe('ERROR');
      // Files can be listed in any state.
      expect((await get('/artifacts/version/files', { ...ws, alias: 'next' })).statusCode).toBe(200);
    });

    it('lists files by name and version, by alias, and of the latest version', async () => {
      const { name, artifactId, versionIds } = await artifactWith([{ one: sampleBytes(1) }, { two: sampleBytes(2) }]);
      const labels = await post('/write/artifacts/version/labels', {
        artifactVersionId: versionIds[0],
        alias: ['first'],
      });
      expect(labels.statusCode).toBe(200);
      const names = async (query: Record<string, string>) => {
        const response = await get('/artifacts/version/files', query);
        expect(response.statusCode, JSON.stringify(query)).toBe(200);
        expect(response.headers['content-type']).toBe('application/json');
        return response.json().files.map((f: { fileName: string }) => f.fileName);
      };
      expect(await names({ workspace: 'default', artifactName: name, version: '1.0.0' })).toEqual(['one']);
      expect(await names({ workspace: 'default', artifactName: name, alias: 'first' })).toEqual(['one']);
      expect(await names({ artifact_id: artifactId, version: '1.1.0' })).toEqual(['two']);
      expect(await names({ workspace: 'default', artifactName: name })).toEqual(['two']);
      const missing = await get('/artifacts/version/files', { artifactId, version: '7.0.0' });
      expect(missing.json()).toEqual(cometError(404, 624523));
    });

    it('downloads a version as a zip of its files at their file names, remote files left out', async () => {
      const experimentKey = await newExperiment();
      const name = fresh('zip');
      const { artifactVersionId } = await upsert({ artifactName: name, artifactType: 'model', experimentKey });
      const weights = sampleBytes(200_000, 2);
      const config = Buffer.from('{"layers":3}');
      await uploadFile(experimentKey, artifactVersionId, 'model/weights.bin', weights);
      await uploadFile(experimentKey, artifactVersionId, 'config.json', config);
      await upload({ experimentKey, fileName: 'remote', artifactVersionId, isRemote: 'true' }, [['link', 's3://b/k']]);

      // By id it downloads while OPEN; by name only once CLOSED.
      const early = await get('/artifacts/version/download', { versionId: artifactVersionId });
      expect(early.statusCode).toBe(200);
      await setState(artifactVersionId, 'CLOSED');
      const zip = await get('/artifacts/version/download', {
        workspace: 'default',
        artifactName: name,
        version: '1.0.0',
      });
      expect(zip.statusCode).toBe(200);
      expect(zip.headers['content-type']).toBe('application/zip');
      expect(zip.headers['content-disposition']).toBe(`attachment; filename*=UTF-8''${name}-1.0.0.zip`);
      expect(zip.headers['content-length']).toBe(String(zip.rawPayload.length));
      const files = unzip(zip.rawPayload);
      expect([...files.keys()].sort()).toEqual(['config.json', 'model/weights.bin']);
      expect(files.get('model/weights.bin')?.equals(weights)).toBe(true);
      expect(files.get('config.json')?.equals(config)).toBe(true);
      expect(unzip(early.rawPayload).get('config.json')?.equals(config)).toBe(true);

      const missing = await get('/artifacts/version/download', { workspace: 'default', artifactName: fresh('none') });
      expect(missing.json()).toEqual(cometError(404, 624522));
    });
  });

  describe('details and labels', () => {
    it('updates the artifact’s type, tags and metadata; null fields stay', async () => {
      const { artifactId, name } = await artifactWith([{}]);
      const response = await post('/write/artifacts/details', {
        artifactId,
        artifactType: 'model',
        versionMetadata: '{"owner":"team"}',
        version: null,
        tags: ['b', 'a', 'b'],
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(OK);
      await post('/write/artifacts/details', { artifactId, artifactType: null, tags: null, description: 'kept' });
      const version = (await get('/artifacts/version', { workspace: 'default', artifactName: name })).json();
      expect(version.artifact).toMatchObject({
        artifactType: 'model',
        metadata: '{"owner":"team"}',
        tags: ['b', 'a'],
        description: 'kept',
      });
      expect((await get('/artifacts/get', { artifactId })).json()).toMatchObject({ type: 'model', tags: ['b', 'a'] });

      const unknown = await post('/write/artifacts/details', { artifactId: 'nope', tags: [] });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toEqual(cometError(404, 624522));
      expect((await post('/write/artifacts/details', { artifactId, versionMetadata: '{' })).statusCode).toBe(400);
    });

    it('replaces aliases (moving them between versions), tags and metadata, also on CLOSED versions', async () => {
      const { name, versionIds } = await artifactWith([{}, {}]);
      const [first, second] = versionIds as [string, string];
      const relabel = await post('/write/artifacts/version/labels', {
        artifactVersionId: first,
        alias: ['prod', 'best'],
        versionTags: ['checked'],
        versionMetadata: '{"score":0.9}',
      });
      expect(relabel.statusCode).toBe(200);
      expect(relabel.json()).toEqual(OK);
      await post('/write/artifacts/version/labels', { artifactVersionId: second, alias: ['prod'] });

      const versions = (await get('/artifacts/get', { workspace: 'default', artifactName: name })).json().versions;
      expect(versions[0]).toMatchObject({ alias: ['best'], tags: ['checked'], metadata: '{"score":0.9}' });
      expect(versions[1]).toMatchObject({ alias: ['prod'], tags: [], metadata: null });
      const prod = (
        await get('/artifacts/version', { workspace: 'default', artifactName: name, alias: 'prod' })
      ).json();
      expect(prod.artifactVersionId).toBe(second);

      await post('/write/artifacts/version/labels', { artifactVersionId: first, alias: [], versionTags: null });
      const cleared = (await get('/artifacts/version', { versionId: first })).json();
      expect(cleared).toMatchObject({ alias: [], tags: ['checked'] });

      const unknown = await post('/write/artifacts/version/labels', {
        artifactVersionId: '00000000-0000-0000-0000-000000000000',
        alias: ['x'],
      });
      expect(unknown.json()).toEqual(cometError(404, 624523));
      const empty = await post('/write/artifacts/version/labels', { artifactVersionId: first, alias: [''] });
      expect(empty.statusCode).toBe(400);
    });
  });

  describe('tenancy', () => {
    it('shows another tenant nothing and lets it change nothing', async () => {
      const bob = t.otherKey;
      const { name, artifactId, experimentKey, versionIds } = await artifactWith([{ 'secret.bin': sampleBytes(50) }]);
      const versionId = versionIds[0] as string;
      const { assetId } = (await get('/artifacts/version/files', { versionId })).json().files[0];

      const list = await get('/artifacts/get-all', { workspace: 'default' }, bob);
      expect(list.statusCode).toBe(404);
      expect(list.json()).toEqual(cometError(404, 90219));
      for (const query of [{ workspace: 'default', artifactName: name }, { artifactId }, { artifact_id: artifactId }]) {
        expect((await get('/artifacts/get', query, bob)).json()).toEqual(cometError(404, 624522));
      }
      for (const path of ['/artifacts/version', '/artifacts/version/files', '/artifacts/version/download']) {
        expect((await get(path, { workspace: 'default', artifactName: name }, bob)).json()).toEqual(
          cometError(404, 624522),
        );
        expect((await get(path, { artifactId, version: '1.0.0' }, bob)).json()).toEqual(cometError(404, 624522));
        expect((await get(path, { versionId }, bob)).json()).toEqual(cometError(404, 624523));
      }
      const asset = await get('/experiment/asset/get-asset', { assetId, artifactVersionId: versionId }, bob);
      expect(asset.statusCode).toBe(404);

      expect((await setState(versionId, 'ERROR', bob)).json()).toEqual(cometError(404, 624523));
      expect((await post('/write/artifacts/details', { artifactId, tags: ['x'] }, bob)).json()).toEqual(
        cometError(404, 624522),
      );
      expect(
        (await post('/write/artifacts/version/labels', { artifactVersionId: versionId, alias: ['x'] }, bob)).json(),
      ).toEqual(cometError(404, 624523));
      const upsertOnAdmin = await post(
        '/write/artifacts/upsert',
        { artifactName: name, artifactType: 'd', experimentKey },
        bob,
      );
      expect(upsertOnAdmin.statusCode).toBe(404);

      // Bob's own artifact of the same name lives in his workspace, apart from admin's.
      const bobExperiment = await newExperiment(bob, 'bob', 'mine');
      const bobs = await upsert({ artifactName: name, artifactType: 'own', experimentKey: bobExperiment }, bob);
      expect(bobs).toMatchObject({ currentVersion: '1.0.0', previousVersion: null });
      expect(bobs.artifactId).not.toBe(artifactId);
      const intoAdmins = await upload(
        { experimentKey: bobExperiment, fileName: 'x', artifactVersionId: versionId },
        [['file', Buffer.from('x'), 'file']],
        bob,
      );
      expect(intoAdmins.json()).toEqual(cometError(404, 624523));
      expect((await get('/artifacts/get-all', { workspace: 'bob' }, bob)).json().artifacts).toEqual([
        expect.objectContaining({ name, type: 'own', versionsCount: 1 }),
      ]);
      expect((await get('/artifacts/get-all', { workspace: 'bob' })).statusCode).toBe(404);

      // Admin's artifact is untouched.
      const details = (await get('/artifacts/get', { artifactId })).json();
      expect(details).toMatchObject({ tags: [], sizeInBytes: 50 });
      expect(details.versions[0]).toMatchObject({ state: 'CLOSED', alias: [] });
    });

    it('needs the write scope for writes and a key for everything', async () => {
      const experimentKey = await newExperiment();
      const readOnly = await post(
        '/write/artifacts/upsert',
        { artifactName: fresh('ro'), artifactType: 'd', experimentKey },
        t.readOnlyKey,
      );
      expect(readOnly.statusCode).toBe(403);
      const { artifactVersionId } = await upsert({ artifactName: fresh('ro'), artifactType: 'd', experimentKey });
      expect((await setState(artifactVersionId, 'CLOSED', t.readOnlyKey)).statusCode).toBe(403);
      expect((await get('/artifacts/version', { versionId: artifactVersionId }, t.readOnlyKey)).statusCode).toBe(200);
      const anonymous = await t.request('GET', `${V2}/artifacts/get-all?workspace=default`, { key: null });
      expect(anonymous.statusCode).toBe(401);
    });
  });
});
