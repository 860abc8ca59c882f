import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cairn, type CairnEvent } from '../src/node.js';
import { FaultProxy } from './support/proxy.js';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * The SDK against endpoints of docs/api/cairn.md that are being built on other branches: what
 * is logged to an experiment (logged.schema.ts), the experiment table and key catalogue, chart
 * series reads and live events. Each test runs once this checkout's server has its route and is
 * reported skipped until then — written against the contract, never weakened to pass without it.
 */

let server: TestServer;
let dir: string;
let proxy: FaultProxy | undefined;
const _NO_KEY = '0'.repeat(32);

beforeAll(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(server.dir, 'endpoints-'));
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

const client = (url = server.url) =>
  new Cairn({ url, apiKey: server.apiKey, writer: { spoolDir: dir, exitHandlers: false } });

describe('logged data', () => {
  it('assets: a streamed upload with progress, a retried upload stored once, Range downloads, delete', async () => {
    const file = join(dir, 'weights.bin');
    const bytes = Buffer.alloc(2 * 1024 * 1024 + 5);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) % 251;
    await writeFile(file, bytes);
    // The first upload attempt is cut off before the server sees it; the retry re-reads the file.
    proxy = await FaultProxy.start(server, (req, i) =>
      req.method === 'POST' && req.url?.endsWith('/assets') && i < 3 ? { kind: 'reset' } : { kind: 'forward' },
    );
    const cairn = client(proxy.url);
    const run = await cairn.startExperiment({ workspace: 'default', project: 'assets' });
    const progress: number[] = [];
    const asset = await run.logAsset(file, {
      type: 'model-element',
      model: 'mnist-net',
      step: 3,
      metadata: { framework: 'onnx' },
      onProgress: (p) => progress.push(p.loaded),
    });
    expect(asset).toMatchObject({
      fileName: 'weights.bin',
      size: bytes.length,
      type: 'model-element',
      model: 'mnist-net',
      step: 3,
    });
    expect(JSON.parse(asset.metadata as string)).toEqual({ framework: 'onnx' });
    // Each attempt reports from 0 again; the last one goes up to the whole file.
    const last = progress.slice(progress.lastIndexOf(0));
    expect(last.at(-1)).toBe(bytes.length);
    expect(last).toEqual([...last].sort((a, b) => a - b));
    expect(progress.filter((p) => p === 0).length).toBeGreaterThanOrEqual(2);
    expect(proxy.matching('/assets').map((r) => r.action)).toContain('reset');
    // The same id again replaces: one copy.
    await cairn.assets.upload(run.key, file, {
      id: asset.id,
      name: 'weights.bin',
      type: 'model-element',
      model: 'mnist-net',
    });
    expect(await cairn.assets.list(run.key)).toHaveLength(1);

    const whole = await cairn.assets.download(run.key, asset.id);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const range = await cairn.assets.download(run.key, asset.id, { start: 1_000, end: 1_999 });
    expect(range.status).toBe(206);
    expect(Buffer.from(await range.arrayBuffer()).equals(bytes.subarray(1_000, 2_000))).toBe(true);

    const blob = await cairn.assets.upload(run.key, new Blob(['hello']), { name: 'hello.txt', type: 'text-sample' });
    expect(blob.size).toBe(5);
    async function* chunks() {
      yield new TextEncoder().encode('a,b\n');
      yield new TextEncoder().encode('1,2\n');
    }
    const streamed = await cairn.assets.upload(run.key, { stream: chunks(), name: 'table.csv' });
    expect(streamed.size).toBe(8);
    await cairn.assets.delete(run.key, blob.id);
    expect((await cairn.assets.list(run.key)).map((a) => a.fileName).sort()).toEqual(['table.csv', 'weights.bin']);
    const models = await cairn.models.list(run.key);
    expect(models.map((m) => [m.name, m.assets.map((a) => a.fileName)])).toEqual([['mnist-net', ['weights.bin']]]);
    // Metadata given as JSON text is sent as it is, spacing and all.
    const texted = await cairn.assets.upload(run.key, new Blob(['x']), { name: 'x.txt', metadata: '{ "a": [1, 2] }' });
    expect(texted.metadata).toBe('{ "a": [1, 2] }');
    const remote = await cairn.assets.logRemote(run.key, 'https://example.com/data.csv', {
      name: 'data.csv',
      type: 'dataset',
      epoch: 2,
      metadata: { rows: 3 },
    });
    expect(remote).toMatchObject({
      fileName: 'data.csv',
      type: 'dataset',
      epoch: 2,
      metadata: '{"rows":3}',
      remote: true,
      link: 'https://example.com/data.csv',
      size: 0,
    });
    expect((await cairn.assets.list(run.key, { type: 'dataset' })).map((a) => a.id)).toEqual([remote.id]);
    await run.end();
  });

  it('params, others, tags, documents, git patch and output through the resources', async () => {
    const cairn = client();
    const { key } = await cairn.experiments.create('default', 'logged');
    await cairn.params.log(key, { lr: 0.1, nested: { depth: 2 } }, { step: 1 });
    await cairn.params.log(key, { lr: 0.2 }, undefined, { idempotencyKey: 'w:1:params' });
    await cairn.params.log(key, { lr: 0.3 }, undefined, { idempotencyKey: 'w:1:params' });
    expect((await cairn.params.list(key)).map((p) => [p.name, p.value])).toEqual([
      ['lr', 0.2],
      ['nested.depth', 2],
    ]);
    expect(await cairn.params.list(key, { history: true })).toHaveLength(3);
    await cairn.others.log(key, { seed: 7 }, { context: 'train', timestamp: 1_000 });
    expect((await cairn.others.list(key))[0]).toEqual({
      name: 'seed',
      value: 7,
      type: 'number',
      step: null,
      timestamp: 1_000,
      context: 'train',
    });
    expect(await cairn.tags.add(key, ['a', 'b'])).toEqual(['a', 'b']);
    expect(await cairn.tags.remove(key, 'a')).toEqual(['b']);
    await cairn.documents.put(key, 'code', 'print(1)');
    expect((await cairn.documents.get(key, 'code')).content).toBe('print(1)');
    expect((await cairn.documents.list(key)).map((d) => d.kind)).toEqual(['code']);
    await cairn.gitPatch.put(key, 'diff --git a/x b/x\n');
    expect(await cairn.gitPatch.get(key)).toBe('diff --git a/x b/x\n');
    // A zipped patch is bytes that text would mangle: download() keeps them, a Blob is sent as is.
    const zipped = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0xff, 0xfe, 0x00, 0x80]);
    await cairn.gitPatch.put(key, new Blob([zipped]));
    const patch = await cairn.gitPatch.download(key);
    expect(patch.headers.get('content-type')).toBe('application/zip');
    expect(new Uint8Array(await patch.arrayBuffer())).toEqual(zipped);
    await cairn.output.log(key, [{ text: 'epoch 1' }, { text: 'oops', stderr: true }, { text: 'epoch 2' }]);
    const lines: string[] = [];
    for await (const line of cairn.output.list(key, { limit: 2 })) lines.push(line.text);
    expect(lines).toEqual(['epoch 1', 'oops', 'epoch 2']);
    expect((await cairn.output.list(key, { stream: 'stderr' })).items.map((l) => l.text)).toEqual(['oops']);
  });
});

describe('reads across experiments', () => {
  it('the experiment table: filter, sort, columns, every page with for await', async () => {
    const cairn = client();
    for (let i = 0; i < 5; i++) {
      const { key } = await cairn.experiments.create('default', 'table', { name: `run-${i}` });
      await cairn.metrics.log(key, { series: [{ name: 'acc', values: [i / 10, i / 5] }] });
    }
    const rows = [];
    for await (const row of cairn.experiments({
      workspace: 'default',
      project: 'table',
      filter: 'metrics.acc.max >= 0.4',
      sort: '-metrics.acc.max',
      columns: ['name', 'metrics.acc.max'],
      limit: 1,
    })) {
      rows.push(row);
    }
    expect(rows.map((r) => r.name)).toEqual(['run-4', 'run-3', 'run-2']);
    expect(rows[0]?.values['metrics.acc.max']).toBe(0.8);
    const first = await cairn.experiments({ workspace: 'default', project: 'table', limit: 2 });
    expect(first.total).toBe(5);
    expect(first.hasNextPage()).toBe(true);
    const queried = await cairn.experiments.query({ workspace: 'default', project: 'table', filter: "name = 'run-1'" });
    expect(queried.items.map((r) => r.name)).toEqual(['run-1']);
    await expect(
      cairn.experiments({ workspace: 'default', project: 'table', filter: 'metrics.acc.max >>' }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('the key catalogue', async () => {
    const cairn = client();
    const { key } = await cairn.experiments.create('default', 'keys');
    await cairn.metrics.log(key, { series: [{ name: 'loss', values: [1] }] });
    const keys = [];
    for await (const k of cairn.experiments.keys({ workspace: 'default', project: 'keys', source: 'metric' }))
      keys.push(k);
    expect(keys).toEqual([expect.objectContaining({ source: 'metric', name: 'loss', experiments: 1 })]);
  });

  it('chart series of several experiments, exact and bucketed', async () => {
    const cairn = client();
    const keys = [];
    for (let i = 0; i < 2; i++) {
      const { key } = await cairn.experiments.create('default', 'charts');
      const steps = Array.from({ length: 3_000 }, (_, s) => s);
      await cairn.metrics.log(key, { series: [{ name: 'loss', values: steps.map((s) => 1 / (s + 1)), steps }] });
      keys.push(key);
    }
    const exact = await cairn.series.query({ experiments: keys, metrics: ['loss'], buckets: 5_000 });
    expect(exact.series).toHaveLength(2);
    expect(exact.series[0]).toMatchObject({ exact: true, total: 3_000, inRange: 3_000 });
    const bucketed = await cairn.series.query({ experiments: keys, metrics: ['loss'], buckets: 100 });
    const first = bucketed.series[0];
    expect(first?.exact).toBe(false);
    if (first && !first.exact) expect(first.count.reduce((a, b) => a + b, 0)).toBe(3_000);

    // The typed-array read carries the same numbers as the JSON one, NaN and infinities as numbers.
    await cairn.metrics.log(keys[0] as string, {
      series: [{ name: 'loss', values: ['NaN', 'Infinity', 7], steps: [3_000, 3_001, 3_002] }],
      allowNonFinite: true,
    });
    const asNumber = (v: number | string) => (typeof v === 'string' ? Number(v) : v);
    for (const buckets of [100, 5_000]) {
      const body = { experiments: keys, metrics: ['loss'], buckets, x: 'step' as const };
      const [json, columns] = await Promise.all([cairn.series.query(body), cairn.series.columns(body)]);
      expect(columns.x).toBe('step');
      expect(columns.series).toHaveLength(json.series.length);
      json.series.forEach((expected, i) => {
        const got = columns.series[i];
        expect(got).toMatchObject({ experiment: expected.experiment, metric: expected.metric, exact: expected.exact });
        const names = expected.exact
          ? (['x', 'values'] as const)
          : (['x0', 'x1', 'first', 'last', 'min', 'max', 'mean', 'count'] as const);
        for (const name of names) {
          const want = (expected as unknown as Record<string, (number | string)[]>)[name] as (number | string)[];
          expect([...((got as unknown as Record<string, Float64Array>)[name] as Float64Array)], name).toEqual(
            want.map(asNumber),
          );
        }
      });
    }
    expect(
      [
        ...(
          (await cairn.series.columns({ experiments: [keys[0] as string], metrics: ['loss'], buckets: 5_000 }))
            .series[0] as { values: Float64Array }
        ).values,
      ].slice(-3),
    ).toEqual([Number.NaN, Number.POSITIVE_INFINITY, 7]);
  });

  it('live events: points as they are logged, and a dropped stream resumes with Last-Event-ID', async () => {
    proxy = await FaultProxy.start(server, (req) =>
      req.url?.endsWith('/events') && !req.headers['last-event-id']
        ? { kind: 'cut-after', ms: 1_500 }
        : { kind: 'forward' },
    );
    const cairn = client(proxy.url);
    const run = await cairn.startExperiment({ workspace: 'default', project: 'live' });
    const controller = new AbortController();
    const received: CairnEvent[] = [];
    let opened = 0;
    const following = (async () => {
      const options = { signal: controller.signal, onOpen: () => opened++ };
      for await (const event of cairn.events.experiment(run.key, options)) {
        received.push(event);
        const points = received.filter((e) => e.event === 'points');
        if (points.length >= 2) controller.abort();
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    run.logMetric('loss', 1, { step: 0 });
    await run.flush();
    // After the first connection was cut.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    run.logMetric('loss', 2, { step: 1 });
    await run.flush();
    await following;
    const resumed = proxy.matching('/events', 'GET').filter((r) => r.headers['last-event-id']);
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    // The first connection and the resumed one.
    expect(opened).toBeGreaterThanOrEqual(2);
    const steps = received.flatMap((e) =>
      e.event === 'points' ? e.data.series.flatMap((s) => ('steps' in s ? s.steps : [])) : [],
    );
    expect(steps).toEqual([0, 1]);
    await run.end();
  });
});
