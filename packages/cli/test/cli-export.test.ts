import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Cairn } from '@cairn/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cairn, requireBuilt, startTestServer, type TestServer } from './support/cli.js';

/**
 * `cairn export` and `cairn import` as subprocesses against real servers: a rich project built on
 * server A is exported, imported into a fresh server B and exported again; the two folders must
 * be the same file by file, and the API must read the same from A and B. A damaged export must be
 * refused before anything is created.
 */

const KEY_A = 'ExportTestServerAKey000000000000000000000';
const KEY_B = 'ExportTestServerBKey000000000000000000000';
const KEY_C = 'ExportTestServerCKey000000000000000000000';
const T0 = 1_764_783_600_000;
const LOSS_POINTS = 60_000;

interface Built {
  keys: string[];
  bigAsset: Buffer;
}

/** Files of a folder, relative and "/"-separated, sorted. */
async function filesOf(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/'))
    .sort();
}

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A project with every kind of data the format carries, written through the SDK. */
async function buildProject(client: Cairn, dir: string): Promise<Built> {
  await client.projects.create('default', { name: 'rich', description: 'everything', isPublic: true });
  await client.projects.update('default', 'rich', { notes: '# Notes\nkept' });

  // 1. An ended run with everything.
  const e1 = await client.experiments.create('default', 'rich', { key: `e1${'a'.repeat(30)}`, name: 'lr-0.01' });
  await client.tags.add(e1.key, ['baseline', 'a/b', 'x y']);
  await client.params.log(
    e1.key,
    { lr: 0.01, optimizer: { name: 'adam', betas: [0.9, 0.999] }, amp: true },
    { timestamp: T0 },
  );
  await client.params.log(
    e1.key,
    { lr: 0.005, '10': 'ten', note: '' },
    { step: 5, timestamp: T0 + 5, context: 'train' },
  );
  await client.params.log(e1.key, { lr: 0.001 }, { step: 9, timestamp: T0 + 9 });
  await client.others.log(e1.key, { seed: 7, 'data.set': 'mnist' }, { timestamp: T0 + 1, context: 'val' });
  await client.documents.put(e1.key, 'html', '<p>hello</p>');
  await client.documents.put(e1.key, 'code', 'print("hi")\n');
  await client.documents.put(e1.key, 'git-metadata', '{"branch": "main", "parent": null}');
  await client.documents.put(e1.key, 'dependencies', '[{"name":"torch","version":"2.1"},{"name":"x","version":null}]');
  // A zipped patch: bytes that must survive as bytes.
  await client.gitPatch.put(e1.key, new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0xff, 0x80, 10, 13, 0]));
  await client.output.log(
    e1.key,
    Array.from({ length: 2_500 }, (_, i) => ({
      text: i % 100 === 0 ? `line ${i}: ünïcödé\ttab "quoted"` : `line ${i}`,
      stderr: i % 7 === 0,
      context: i % 3 === 0 ? 'train' : null,
      timestamp: T0 + i,
    })),
  );
  const bigAsset = randomBytes(3 * 1024 * 1024 + 17);
  const bigPath = join(dir, 'weights.bin');
  await writeFile(bigPath, bigAsset);
  await client.assets.upload(e1.key, bigPath, { id: 'big-weights', name: 'checkpoints/weights.bin', step: 100 });
  await client.assets.upload(e1.key, new Blob(['{"layers": 3}']), {
    name: 'model/config.json',
    model: 'net',
    type: 'model-element',
    metadata: '{ "framework": "torch" }',
  });
  await client.assets.upload(e1.key, new Blob([randomBytes(1000)]), { name: 'model/weights.pt', model: 'net' });
  await client.assets.upload(e1.key, new Blob(['png']), {
    id: 'img-1',
    name: '../../escape?.png',
    type: 'image',
    step: 3,
    epoch: 1,
    context: 'val',
    metadata: { w: 640 },
  });
  await client.assets.logRemote(e1.key, 's3://bucket/train.csv', {
    id: 'remote-1',
    name: 'train.csv',
    type: 'dataset',
    epoch: 2,
  });
  await client.tables.put(e1.key, 'eval/metrics', {
    format: 'csv',
    data: 'epoch,loss,label\n1,0.5,a\n2,0.25,"b, c"\n',
    description: 'per epoch',
  });
  await client.tables.put(e1.key, 'times', {
    columns: [
      { name: 'at', type: 'datetime' },
      { name: 'x', type: 'double' },
      { name: 'ok', type: 'boolean' },
    ],
    rows: [
      ['2024-01-31T12:00:00Z', 'NaN', true],
      [null, 1.5, null],
    ],
  });
  // A long series spanning pages and blocks, with non-finite values and contexts in runs.
  const steps: number[] = [];
  const values: (number | string)[] = [];
  const timestamps: number[] = [];
  const epochs: number[] = [];
  for (let i = 0; i < LOSS_POINTS; i++) {
    steps.push(i);
    const v = i === 10 ? 'NaN' : i === 11 ? 'Infinity' : i === 12 ? '-Infinity' : 1 / (i + 1) + i * 1e-9;
    values.push(v);
    timestamps.push(T0 + i * 3);
    epochs.push(Math.floor(i / 1000));
  }
  const half = LOSS_POINTS / 2;
  await client.metrics.log(e1.key, {
    allowNonFinite: true,
    series: [
      {
        name: 'loss',
        context: 'train',
        values: values.slice(0, half),
        steps: steps.slice(0, half),
        timestamps: timestamps.slice(0, half),
        epochs: epochs.slice(0, half),
      },
      { name: 'loss', context: 'val', values: [0.7, 0.6], steps: [half, half], timestamps: [T0, T0 + 1] },
      {
        name: 'loss',
        context: 'train',
        values: values.slice(half),
        steps: steps.slice(half),
        timestamps: timestamps.slice(half),
        epochs: epochs.slice(half),
      },
      { name: 'acc', values: [0.1, 0.2, 0.2, 1e-300, -5e300], timestamps: [T0, T0, T0 + 1, T0 + 2, T0 + 3] },
      { name: 'eval/ünï', values: [3], steps: [-4], epochs: [0], timestamps: [T0] },
    ],
  });
  await client.experiments.update(e1.key, { startTime: T0 - 1_000, status: 'SUCCEEDED', endTime: T0 + 200_000 });

  // 2. Archived, failed, renamed by an "other", a text patch.
  const e2 = await client.experiments.create('default', 'rich', { key: `e2${'b'.repeat(30)}` });
  await client.others.log(e2.key, { Name: 'via-other' }, { timestamp: T0 });
  await client.gitPatch.put(e2.key, 'diff --git a/x b/x\n+y\n');
  await client.metrics.log(e2.key, { series: [{ name: 'loss', values: [1, 2], steps: [0, 1], timestamps: [T0, T0] }] });
  await client.experiments.update(e2.key, {
    name: 'final-name',
    archived: true,
    startTime: T0 + 10,
    status: 'FAILED',
    endTime: T0 + 20,
  });

  // 3. Still running, nothing logged, no name.
  const e3 = await client.experiments.create('default', 'rich', { key: `e3${'c'.repeat(30)}` });
  await client.experiments.update(e3.key, { startTime: T0 + 30 });
  return { keys: [e1.key, e2.key, e3.key], bigAsset };
}

/** What the API reads about an experiment, less what an import cannot keep (times of writing, offsets). */
async function readAll(client: Cairn, key: string) {
  const experiment = await client.experiments.get(key);
  const { createdAt, updatedAt, lastHeartbeat, durationMillis, projectId, ...kept } = experiment;
  const assets = await client.assets.list(key);
  const bytes: Record<string, string | null> = {};
  for (const asset of assets) {
    bytes[asset.id] = asset.remote
      ? null
      : sha(new Uint8Array(await (await client.assets.download(key, asset.id)).arrayBuffer()));
  }
  const series: Record<string, unknown> = {};
  const summaries = await client.metrics.list(key);
  for (const s of summaries) {
    const { offsets, ...points } = await client.series(key, s.name);
    series[s.name] = points;
  }
  const output = [];
  for await (const line of client.output.list(key, { limit: 1000 })) output.push(line);
  const documents: Record<string, string> = {};
  for (const { kind } of await client.documents.list(key))
    documents[kind] = (await client.documents.get(key, kind)).content;
  const patch = await client.gitPatch.download(key).then(
    async (r) => sha(new Uint8Array(await r.arrayBuffer())),
    () => null,
  );
  const tables = [];
  for (const table of await client.tables.list(key)) {
    const { createdAt: _c, updatedAt: _u, ...info } = table;
    tables.push({ info, rows: (await client.tables.rows(key, table.name, { limit: 10_000 })).rows });
  }
  return {
    experiment: kept,
    params: await client.params.list(key, { history: true }),
    others: await client.others.list(key, { history: true }),
    tags: await client.tags.list(key),
    documents,
    patch,
    output,
    assets: assets.map(({ createdAt: _c, ...a }) => a),
    bytes,
    models: (await client.models.list(key)).map((m) => [m.name, m.assets.map((a) => a.id)]),
    tables,
    summaries: summaries.map((s) => ({
      name: s.name,
      count: s.count,
      min: { ...s.min, offset: 0 },
      max: { ...s.max, offset: 0 },
      last: { ...s.last, offset: 0 },
    })),
    series,
  };
}

describe('cairn export and import', { timeout: 300_000 }, () => {
  let dir: string;
  let a: TestServer;
  let b: TestServer;
  let c: TestServer;
  let built: Built;
  const env = (server: TestServer) => ({
    CAIRN_URL: server.url,
    CAIRN_API_KEY: server.adminKey,
    CAIRN_CONFIG: join(dir, 'no-config.json'),
  });
  const client = (server: TestServer) => new Cairn({ url: server.url, apiKey: server.adminKey, logLevel: 'off' });

  beforeAll(async () => {
    requireBuilt();
    dir = await mkdtemp(join(tmpdir(), 'cairn-cli-export-'));
    [a, b, c] = await Promise.all([startTestServer(KEY_A), startTestServer(KEY_B), startTestServer(KEY_C)]);
    built = await buildProject(client(a), dir);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), c?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips a project: export from A, import into B, export from B gives the same files and reads', async () => {
    const fromA = join(dir, 'from-a');
    const exported = await cairn(['export', 'default/rich', fromA], env(a));
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(
      new RegExp(`^exported 3 experiments of default/rich to ${fromA}: ${LOSS_POINTS + 10} metric points, 4 assets`),
    );

    // The folder is the documented one.
    const files = await filesOf(fromA);
    const [k1, k2, k3] = built.keys as [string, string, string];
    expect(files).toEqual(
      [
        'SHA256SUMS',
        'cairn-export.json',
        `experiments/${k1}/assets/big-weights/weights.bin`,
        `experiments/${k1}/assets/img-1/escape_.png`,
        `experiments/${k1}/experiment.json`,
        `experiments/${k1}/git.patch`,
        `experiments/${k1}/metrics.parquet`,
        `experiments/${k1}/output.jsonl`,
        `experiments/${k1}/tables/0.parquet`,
        `experiments/${k1}/tables/1.parquet`,
        `experiments/${k2}/experiment.json`,
        `experiments/${k2}/git.patch`,
        `experiments/${k2}/metrics.parquet`,
        `experiments/${k3}/experiment.json`,
        ...files.filter((f) => /assets\/[0-9a-f]{32}\//.test(f)),
      ].sort(),
    );
    expect(files.filter((f) => /assets\/[0-9a-f]{32}\//.test(f))).toHaveLength(2);
    const manifest = JSON.parse(await readFile(join(fromA, 'cairn-export.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'cairn-export',
      version: 1,
      source: { url: a.url, workspace: 'default', project: 'rich', user: 'admin' },
      project: { name: 'rich', description: 'everything', isPublic: true, notes: '# Notes\nkept' },
      experiments: [k1, k2, k3],
    });
    const e1 = JSON.parse(await readFile(join(fromA, `experiments/${k1}/experiment.json`), 'utf8'));
    expect(e1).toMatchObject({
      key: k1,
      name: 'lr-0.01',
      status: 'SUCCEEDED',
      archived: false,
      startTime: T0 - 1_000,
      endTime: T0 + 200_000,
      tags: ['baseline', 'a/b', 'x y'],
      gitPatch: 'git.patch',
      metrics: {
        file: 'metrics.parquet',
        points: LOSS_POINTS + 8,
        series: [
          { name: 'acc', count: 5 },
          { name: 'eval/ünï', count: 1 },
          { name: 'loss', count: LOSS_POINTS + 2 },
        ],
      },
      output: { file: 'output.jsonl', lines: 2_500 },
    });
    expect(e1.params).toHaveLength(8);
    // A JS object lists an array-index name first: "10" was logged before "lr" in that call.
    expect(e1.params.slice(4, 7)).toEqual([
      { name: '10', value: 'ten', type: 'string', step: 5, timestamp: T0 + 5, context: 'train' },
      { name: 'lr', value: 0.005, type: 'number', step: 5, timestamp: T0 + 5, context: 'train' },
      { name: 'note', value: '', type: 'string', step: 5, timestamp: T0 + 5, context: 'train' },
    ]);
    expect(e1.assets.find((x: { id: string }) => x.id === 'remote-1')).toEqual({
      id: 'remote-1',
      fileName: 'train.csv',
      type: 'dataset',
      step: null,
      epoch: 2,
      context: null,
      metadata: null,
      model: null,
      remote: true,
      link: 's3://bucket/train.csv',
      size: 0,
      file: null,
    });
    expect(await readFile(join(fromA, `experiments/${k1}/assets/big-weights/weights.bin`))).toEqual(built.bigAsset);
    const sums = await readFile(join(fromA, 'SHA256SUMS'), 'utf8');
    expect(sums.trim().split('\n')).toHaveLength(files.length - 1);
    expect(sums).toContain(`${sha(built.bigAsset)}  experiments/${k1}/assets/big-weights/weights.bin\n`);

    const imported = await cairn(['import', fromA], env(b));
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`imported 3 experiments into default/rich on ${b.url}`);

    const fromB = join(dir, 'from-b');
    expect((await cairn(['export', 'default/rich', fromB], env(b))).code).toBe(0);
    expect(await filesOf(fromB)).toEqual(files);
    for (const file of files) {
      const [left, right] = await Promise.all([readFile(join(fromA, file)), readFile(join(fromB, file))]);
      if (file === 'cairn-export.json') {
        const { exportedAt: _a, source: sourceA, ...restA } = JSON.parse(left.toString());
        const { exportedAt: _b, source: sourceB, ...restB } = JSON.parse(right.toString());
        expect(restB).toEqual(restA);
        expect(sourceB).toEqual({ ...sourceA, url: b.url });
      } else if (file === 'SHA256SUMS') {
        const withoutManifest = (text: string) => text.split('\n').filter((l) => !l.endsWith('  cairn-export.json'));
        expect(withoutManifest(right.toString())).toEqual(withoutManifest(left.toString()));
      } else {
        expect({ file, same: left.equals(right) }).toEqual({ file, same: true });
      }
    }

    // And what the API reads on A and B directly, beyond the exporter.
    const [onA, onB] = [client(a), client(b)];
    expect(await onB.projects.get('default', 'rich')).toMatchObject({
      description: 'everything',
      isPublic: true,
      notes: '# Notes\nkept',
      experimentCount: 3,
    });
    for (const key of built.keys) {
      const [left, right] = await Promise.all([readAll(onA, key), readAll(onB, key)]);
      expect(right).toEqual(left);
    }
    const loss = await onB.series(k1, 'loss');
    expect(loss.values.slice(9, 14)).toEqual([
      1 / 10 + 9 * 1e-9,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      1 / 14 + 13 * 1e-9,
    ]);
    expect(loss.contexts[LOSS_POINTS / 2]).toBe('val');
    expect((await onB.experiments.get(k2)).name).toBe('final-name');
    expect(await onB.experiments.get(k3)).toMatchObject({ status: 'RUNNING', name: null, endTime: null });

    // Importing again is refused (the keys are taken) and creates nothing; --new-keys makes copies.
    const again = await cairn(['import', fromA, '--project', 'copy'], env(b));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^cairn: experiment e1a+ already exists on .* --new-keys\n$/);
    await expect(onB.projects.get('default', 'copy')).rejects.toMatchObject({ status: 404 });
    const copy = await cairn(['import', fromA, '--project', 'copy', '--new-keys', '--json'], env(b));
    expect(copy.code).toBe(0);
    const summary = JSON.parse(copy.stdout);
    expect(summary).toMatchObject({ experiments: 3, workspace: 'default', project: 'copy', points: LOSS_POINTS + 10 });
    expect(summary.keys.filter((k: string) => built.keys.includes(k))).toEqual([]);
    const copied = await readAll(onB, summary.keys[0]);
    const original = await readAll(onA, k1);
    expect(copied.series).toEqual(original.series);
    expect(copied.assets.map((x) => x.fileName)).toEqual(original.assets.map((x) => x.fileName));
  });

  it('refuses a damaged export before creating anything: a changed byte, a missing file', async () => {
    const good = join(dir, 'good');
    expect((await cairn(['export', 'default/rich', good], env(a))).code).toBe(0);
    const [k1] = built.keys as [string];

    const changed = join(dir, 'changed');
    await cp(good, changed, { recursive: true });
    const asset = join(changed, `experiments/${k1}/assets/big-weights/weights.bin`);
    const bytes = await readFile(asset);
    bytes[1_000_000] = (bytes[1_000_000] as number) ^ 1;
    await writeFile(asset, bytes);

    const missing = join(dir, 'missing');
    await cp(good, missing, { recursive: true });
    await rm(join(missing, `experiments/${k1}/output.jsonl`));

    const unlisted = join(dir, 'unlisted');
    await cp(good, unlisted, { recursive: true });
    const sums = await readFile(join(unlisted, 'SHA256SUMS'), 'utf8');
    await writeFile(
      join(unlisted, 'SHA256SUMS'),
      sums
        .split('\n')
        .filter((l) => !l.endsWith('tables/0.parquet'))
        .join('\n'),
    );

    const cases: [string, string][] = [
      [changed, `experiments/${k1}/assets/big-weights/weights.bin does not match its checksum`],
      [missing, `experiments/${k1}/output.jsonl is missing`],
      [unlisted, `SHA256SUMS does not list experiments/${k1}/tables/0.parquet`],
      [join(dir, 'nowhere'), 'has no readable SHA256SUMS'],
    ];
    for (const [folder, message] of cases) {
      const result = await cairn(['import', folder], env(c));
      expect({ folder, code: result.code }).toEqual({ folder, code: 1 });
      expect(result.stderr).toMatch(/^cairn: .+\n$/);
      expect(result.stderr).toContain(message);
      expect(result.stdout).toBe('');
    }
    const target = client(c);
    expect((await target.projects.list('default')).items).toEqual([]);
    await expect(target.experiments.get(k1)).rejects.toMatchObject({ status: 404 });
    // The intact copy imports.
    expect((await cairn(['import', good], env(c))).code).toBe(0);
    expect((await target.projects.get('default', 'rich')).experimentCount).toBe(3);
  });

  it('refuses to export into a folder that is not empty, and answers usage errors with status 2', async () => {
    const full = join(dir, 'full');
    await cp(join(dir, 'good'), full, { recursive: true });
    const result = await cairn(['export', 'default/rich', full], env(a));
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(`cairn: ${full} is not empty: export into a new or empty folder\n`);
    const usage = await cairn(['export', 'no-slash', join(dir, 'x')], env(a));
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('"no-slash" is not <workspace>/<project>');
    const unknown = await cairn(['export', 'default/none', join(dir, 'none')], env(a));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^cairn: .*not found.* \(HTTP 404\)\n$/);
    await expect(readdir(join(dir, 'none'))).rejects.toMatchObject({ code: 'ENOENT' });
    // A folder that cannot be made: the system's own words, in one line.
    await writeFile(join(dir, 'a-file'), 'x');
    const blocked = await cairn(['export', 'default/rich', join(dir, 'a-file', 'sub')], env(a));
    expect(blocked).toMatchObject({ code: 1, stdout: '' });
    expect(blocked.stderr).toMatch(/^cairn: .*ENOTDIR.*\n$/);
  });
});
