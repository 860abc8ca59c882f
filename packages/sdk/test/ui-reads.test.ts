import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newExperiment } from '../../server/test/support/store-fixtures.js';
import { BadRequestError, Cairn, ConflictError, NotFoundError, PermissionDeniedError } from '../src/node.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * The reads and writes the web UI builds on: the experiment table as streamed CSV, the model
 * registry and artifacts of a workspace.
 */

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const client = () => new Cairn({ url: server.url, apiKey: server.apiKey });

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>)
    text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

describe('experiments.exportCsv', () => {
  it('streams the whole filtered, sorted table as CSV, beyond one page of the server', async () => {
    const cairn = client();
    const first = await cairn.experiments.create('default', 'csv', { name: 'first, "quoted"' });
    await cairn.params.log(first.key, { lr: 0.5, note: '=1+1' });
    const principal = await server.principal();
    const { project } = await server.core.experiments.get(principal, first.key);
    // More rows than one page of the export (1,000), written straight to the store.
    const bulk = 1_100;
    await server.core.store.transaction(async (tx) => {
      for (let i = 0; i < bulk; i++) {
        const key = `bulk${String(i).padStart(28, '0')}`;
        await tx.experiments.insert(
          newExperiment(project, {
            id: key,
            name: `run-${i}`,
            status: 'SUCCEEDED',
            startTime: 1_000 + i,
            endTime: 2_000 + i,
            createdBy: principal.userId,
            createdAt: 1_000 + i,
            updatedAt: 1_000 + i,
          }),
        );
        await tx.values.append(key, 'param', [
          { name: 'lr', type: 'number', text: String(i / 10_000), step: null, timestamp: 1_000, context: null },
        ]);
      }
    });

    const stream = await cairn.experiments.exportCsv({
      workspace: 'default',
      project: 'csv',
      sort: '-params.lr',
      columns: ['params.lr', 'params.note', 'startTime'],
    });
    expect(stream).toBeInstanceOf(ReadableStream);
    const text = await readAll(stream);
    const lines = text.split('\r\n');
    expect(lines[0]).toBe('key,name,params.lr,params.note,startTime');
    expect(lines[1]).toBe(`${first.key},"first, ""quoted""",0.5,'=1+1,${new Date(first.startTime).toISOString()}`);
    expect(lines[2]).toBe(`bulk${String(bulk - 1).padStart(28, '0')},run-${bulk - 1},0.1099,,1970-01-01T00:00:02.099Z`);
    expect(lines.at(-2)).toBe(`bulk${'0'.repeat(28)},run-0,0,,1970-01-01T00:00:01.000Z`);
    expect(lines).toHaveLength(1 + 1 + bulk + 1);

    const filtered = await cairn.experiments.exportCsv({
      workspace: 'default',
      project: 'csv',
      filter: "name startswith 'first'",
    });
    expect(await readAll(filtered)).toBe(`key,name\r\n${first.key},"first, ""quoted"""\r\n`);
  });

  it('rejects a bad filter or an unknown project before there is a stream', async () => {
    const cairn = client();
    await expect(
      cairn.experiments.exportCsv({ workspace: 'default', project: 'csv', filter: 'params.lr <' }),
    ).rejects.toBeInstanceOf(BadRequestError);
    await expect(cairn.experiments.exportCsv({ workspace: 'default', project: 'no-such' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});

describe('registry', () => {
  it('pages models, reads versions with files, changes notes, comments and stages, downloads', async () => {
    const cairn = client();
    const principal = await server.principal();
    const run = await cairn.experiments.create('default', 'registry');
    const weights = new Uint8Array(4096).map((_, i) => i % 251);
    await cairn.assets.upload(run.key, new Blob([weights]), { name: 'weights.bin', model: 'net' });
    const [experimentModel] = await server.core.assets.listModels(principal, run.key);
    for (const [name, version] of [
      ['classifier', '1.0.0'],
      ['classifier', '1.1.0'],
      ['detector', '0.1.0'],
      ['segmenter', '2.0.0'],
    ] as const) {
      await server.core.registry.register(
        principal,
        { experimentModelId: experimentModel?.id as string, registryModelName: name, version },
        true,
      );
    }

    const names: string[] = [];
    for await (const model of cairn.registry.list('default', { limit: 2 })) names.push(model.name);
    expect(names).toEqual(['classifier', 'detector', 'segmenter']);
    const firstPage = await cairn.registry.list('default', { search: 'classif' });
    expect(firstPage.total).toBe(1);
    expect(firstPage.items[0]).toMatchObject({ name: 'classifier', versionCount: 2, latest: { version: '1.1.0' } });

    const model = await cairn.registry.get({ workspace: 'default', model: 'Classifier' });
    expect(model.versions.map((v) => v.version)).toEqual(['1.1.0', '1.0.0']);
    const ref = { workspace: 'default', model: 'classifier', version: '1.0.0' };
    const version = await cairn.registry.version(ref);
    expect(version).toMatchObject({ experimentKey: run.key, experimentModel: 'net', size: weights.length });
    expect(version.files.map((f) => f.fileName)).toEqual(['weights.bin']);

    await cairn.registry.setNotes(ref, 'ship 1.0.0');
    expect(await cairn.registry.notes(ref)).toBe('ship 1.0.0');
    expect(await cairn.registry.updateVersion(ref, { comment: 'approved', stages: ['staging'] })).toMatchObject({
      comment: 'approved',
      stages: ['staging'],
    });
    expect((await cairn.registry.addStage(ref, 'production')).stages).toEqual(['staging', 'production']);
    expect((await cairn.registry.removeStage(ref, 'staging')).stages).toEqual(['production']);
    await expect(cairn.registry.removeStage(ref, 'staging')).rejects.toBeInstanceOf(NotFoundError);

    const zip = await cairn.registry.download(ref);
    expect(zip.headers.get('content-type')).toBe('application/zip');
    const zipped = new Uint8Array(await zip.arrayBuffer());
    expect(zipped.byteLength).toBeGreaterThan(weights.length);
    const file = version.files[0]?.id as string;
    const range = await cairn.registry.downloadFile(ref, file, { start: 10, end: 19 });
    expect(range.status).toBe(206);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(weights.subarray(10, 20));
    const whole = await cairn.registry.downloadFile(ref, file);
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(weights);

    const readOnly = await server.core.auth.createKey('admin', 'sdk-read', ['read']);
    const reader = new Cairn({ url: server.url, apiKey: readOnly.secret });
    expect((await reader.registry.version(ref)).stages).toEqual(['production']);
    await expect(reader.registry.addStage(ref, 'x')).rejects.toBeInstanceOf(PermissionDeniedError);
  });
});

describe('artifacts', () => {
  it('pages artifacts, reads versions by version or alias with files, downloads', async () => {
    const cairn = client();
    const principal = await server.principal();
    const run = await cairn.experiments.create('default', 'artifacts');
    const bytes = Buffer.from('id,label\n1,cat\n2,dog\n');
    for (const name of ['pets', 'cars', 'tokens']) {
      const { version } = await server.core.artifacts.upsert(principal, {
        experimentKey: run.key,
        artifactName: name,
        artifactType: name === 'tokens' ? 'model' : 'dataset',
        aliases: ['latest'],
      });
      await server.core.assets.upload(
        principal,
        run.key,
        { fileName: 'data/rows.csv', artifactVersionId: version.id },
        Readable.from([bytes]),
      );
      if (name !== 'cars')
        await server.core.artifacts.setState(principal, { artifactVersionId: version.id, state: 'CLOSED' });
    }

    const names: string[] = [];
    for await (const artifact of cairn.artifacts.list('default', { limit: 1 })) names.push(artifact.name);
    expect(names).toEqual(['cars', 'pets', 'tokens']);
    expect((await cairn.artifacts.list('default', { type: 'model' })).items.map((a) => a.name)).toEqual(['tokens']);

    const pets = await cairn.artifacts.get({ workspace: 'default', artifact: 'pets' });
    expect(pets).toMatchObject({ name: 'pets', type: 'dataset', latestVersion: '1.0.0', size: bytes.length });
    expect(pets.versions.map((v) => [v.version, v.aliases, v.state])).toEqual([['1.0.0', ['latest'], 'CLOSED']]);
    const ref = { workspace: 'default', artifact: 'pets', version: 'latest' };
    const version = await cairn.artifacts.version(ref);
    expect(version.files.map((f) => [f.fileName, f.size])).toEqual([['data/rows.csv', bytes.length]]);

    const zip = await cairn.artifacts.download(ref);
    expect(zip.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''pets-1.0.0.zip");
    await zip.arrayBuffer();
    const file = await cairn.artifacts.downloadFile(ref, version.files[0]?.id as string, { start: 3 });
    expect(Buffer.from(await file.arrayBuffer()).toString()).toBe(bytes.subarray(3).toString());
    // Still OPEN: readable with its files, not downloadable as a whole.
    const cars = { workspace: 'default', artifact: 'cars', version: '1.0.0' };
    expect((await cairn.artifacts.version(cars)).state).toBe('OPEN');
    await expect(cairn.artifacts.download(cars)).rejects.toBeInstanceOf(ConflictError);
    await expect(cairn.artifacts.get({ workspace: 'default', artifact: 'nothing' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});
