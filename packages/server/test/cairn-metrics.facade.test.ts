import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_SIZE, DIRECT_SEAL_MIN } from '../src/storage/series/series.repository.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const API = '/api/cairn/v1';

const wave = (i: number) => Math.sin(i / 50) * 100 + i / 1000;

/** A binary series answer read the way docs/api/cairn.md describes it, NaN steps and epochs as null. */
function decodePointsBinary(body: Buffer) {
  const headerLength = body.readUInt32LE(0);
  const header = JSON.parse(body.subarray(4, 4 + headerLength).toString()) as {
    name: string;
    total: number;
    length: number;
    contexts: (string | null)[];
  };
  const n = header.length;
  let at = Math.ceil((4 + headerLength) / 8) * 8;
  const column = () => {
    const values = Array.from({ length: n }, (_, i) => body.readDoubleLE(at + i * 8));
    at += n * 8;
    return values;
  };
  const nullable = (values: number[]) => values.map((v) => (Number.isNaN(v) ? null : v));
  const [offsets, steps, values, timestamps, epochs] = [column(), column(), column(), column(), column()];
  const contexts = Array.from({ length: n }, (_, i) => header.contexts[body.readUInt32LE(at + i * 4)]);
  expect(body.length).toBe(at + n * 4);
  return {
    name: header.name,
    total: header.total,
    offsets,
    steps: nullable(steps as number[]),
    values,
    timestamps,
    epochs: nullable(epochs as number[]),
    contexts,
  };
}

describe.each(backends)('Cairn bulk metrics API (%s)', (backend) => {
  let t: TestContext;
  let key: string;
  const auth = (k: string) => ({ authorization: `Bearer ${k}` });

  beforeAll(async () => {
    t = await createTestContext(backend);
    const principal = await t.core.auth.authenticate(t.adminKey);
    key = (await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'bulk' })).experiment.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (body: unknown, headers: Record<string, string> = auth(t.adminKey), experimentKey = key) =>
    t.app.inject({
      method: 'POST',
      url: `${API}/experiments/${experimentKey}/metrics`,
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  const get = (path: string, k = t.adminKey) =>
    t.app.inject({ method: 'GET', url: `${API}/experiments/${key}/${path}`, headers: auth(k) });

  it('ingests many series per request, across tail, direct blocks and sealed blocks, and reads them back exactly', async () => {
    // Uneven batches: some go through the tail (< DIRECT_SEAL_MIN), some are sealed directly.
    const sizes = [3, DIRECT_SEAL_MIN - 1, DIRECT_SEAL_MIN, 1, BLOCK_SIZE + 17, 250, 4000];
    let step = 0;
    for (const size of sizes) {
      const steps = Array.from({ length: size }, (_, i) => step + i);
      const response = await post({
        series: [
          { name: 'train/loss', steps, values: steps.map(wave), timestamps: steps.map((s) => 1_700_000_000_000 + s) },
          { name: 'acc', context: 'val', steps, values: steps.map((s) => s / 7), epochs: steps.map((s) => s >> 8) },
        ],
      });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({ points: 2 * size, duplicate: false });
      step += size;
    }
    const total = step;
    const all = await get('metrics/train%2Floss');
    expect(all.statusCode).toBe(200);
    expect(all.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = all.json();
    expect(body.total).toBe(total);
    expect(body.steps).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(body.values).toEqual(body.steps.map(wave));
    expect(body.timestamps).toEqual(body.steps.map((s: number) => 1_700_000_000_000 + s));
    expect(new Set(body.contexts)).toEqual(new Set([null]));

    const acc = (await get('metrics/acc')).json();
    expect(acc.values).toEqual(acc.steps.map((s: number) => s / 7));
    expect(acc.epochs).toEqual(acc.steps.map((s: number) => s >> 8));
    expect(new Set(acc.contexts)).toEqual(new Set(['val']));

    const page = (await get('metrics/train%2Floss?offset=4090&limit=1000')).json();
    expect(page.steps).toEqual(Array.from({ length: 1000 }, (_, i) => 4090 + i));
    const range = (await get('metrics/train%2Floss?stepFrom=5000&stepTo=5009')).json();
    expect(range.steps).toEqual(Array.from({ length: 10 }, (_, i) => 5000 + i));
    expect(range.values).toEqual(range.steps.map(wave));

    const list = (await get('metrics')).json().series as { name: string; count: number; max: { value: number } }[];
    expect(list.map((s) => [s.name, s.count])).toEqual([
      ['acc', total],
      ['train/loss', total],
    ]);
    expect(list[0]?.max.value).toBe((total - 1) / 7);
  });

  it('answers float64 columns for format=binary or Accept: application/vnd.cairn.series, agreeing with JSON', async () => {
    const steps = Array.from({ length: 5_000 }, (_, i) => i);
    const series = [
      { name: 'bin', steps, values: steps.map((s) => wave(s) * 1e-300), epochs: steps.map((s) => s >> 4) },
      { name: 'bin', context: 'val', steps: [5_000], values: ['NaN'], timestamps: [1] },
      { name: 'bin', values: ['-Infinity', 1e308, 'Infinity'] },
    ];
    expect((await post({ series, allowNonFinite: true })).statusCode).toBe(200);
    const inject = (path: string, headers: Record<string, string> = {}) =>
      t.app.inject({
        method: 'GET',
        url: `${API}/experiments/${key}/${path}`,
        headers: { ...auth(t.adminKey), ...headers },
      });
    for (const query of ['', '?offset=4990&limit=20', '?stepFrom=4000&stepTo=4999']) {
      const json = (await inject(`metrics/bin${query}`)).json();
      const answers = [
        await inject(`metrics/bin${query}${query ? '&' : '?'}format=binary`),
        await inject(`metrics/bin${query}`, { accept: 'application/json;q=0.5, application/vnd.cairn.series' }),
      ];
      for (const answer of answers) {
        expect(answer.statusCode).toBe(200);
        expect(answer.headers['content-type']).toBe('application/vnd.cairn.series');
        const decoded = decodePointsBinary(answer.rawPayload);
        expect(decoded, query).toEqual({
          name: json.name,
          total: json.total,
          offsets: json.offsets,
          steps: json.steps,
          values: json.values.map(Number),
          timestamps: json.timestamps,
          epochs: json.epochs,
          contexts: json.contexts,
        });
      }
    }
    // JSON stays the default, also when the binary type is refused.
    const refused = await inject('metrics/bin?limit=1', { accept: 'application/vnd.cairn.series;q=0' });
    expect(refused.headers['content-type']).toBe('application/json; charset=utf-8');
    const forced = await inject('metrics/bin?limit=1&format=json', { accept: 'application/vnd.cairn.series' });
    expect(forced.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(forced.json().steps).toEqual([0]);
    const empty = decodePointsBinary((await inject('metrics/none?format=binary')).rawPayload);
    expect(empty).toMatchObject({ total: 0, offsets: [] });
  });

  it('downsamples a long series keeping every bucket’s extremes, and returns short ones exactly', async () => {
    const n = 60_000;
    const steps = Array.from({ length: n }, (_, i) => i);
    const values = steps.map((s) => (s === 31_337 ? 1e6 : s === 777 ? -1e6 : Math.sin(s)));
    expect((await post({ series: [{ name: 'long', steps, values }] })).statusCode).toBe(200);
    const sampled = (await get('metrics/long/downsample?buckets=500')).json();
    expect(sampled.total).toBe(n);
    expect(sampled.exact).toBe(false);
    expect(sampled.values.length).toBeLessThanOrEqual(1000);
    expect(sampled.values.length).toBeGreaterThan(500);
    expect(sampled.values).toContain(1e6);
    expect(sampled.values).toContain(-1e6);
    expect(sampled.steps[sampled.values.indexOf(1e6)]).toBe(31_337);
    // Every returned point is a real point.
    sampled.steps.forEach((s: number, i: number) => {
      expect(sampled.values[i]).toBe(values[s]);
    });
    const offsets = sampled.offsets as number[];
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));

    const short = (await get('metrics/acc/downsample?buckets=15000')).json();
    expect(short.exact).toBe(true);
    expect(short.values.length).toBe(short.total);
  });

  it('stores NaN and infinities only when asked, and rejects a bad batch whole', async () => {
    const nonFinite = { series: [{ name: 'nf', values: [1, 'NaN', 'Infinity', '-Infinity'], steps: [0, 1, 2, 3] }] };
    const refused = await post(nonFinite);
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ status: 400, title: 'Bad Request' });
    expect((await get('metrics/nf')).json().total).toBe(0);

    expect((await post({ ...nonFinite, allowNonFinite: true })).statusCode).toBe(200);
    expect((await get('metrics/nf')).json().values).toEqual([1, 'NaN', 'Infinity', '-Infinity']);

    const before = (await get('metrics')).json();
    for (const bad of [
      {
        series: [
          { name: 'ok', values: [1, 2] },
          { name: 'bad', values: [1, 2], steps: [0] },
        ],
      },
      {
        series: [
          { name: 'ok', values: [1, 2] },
          { name: 'bad', values: [1, 'x'] },
        ],
      },
      {
        series: [
          { name: 'ok', values: [1, 2] },
          { name: 'bad', values: [1, 2], steps: [0, 1.5] },
        ],
      },
      { series: [{ name: '', values: [1] }] },
      { series: [{ name: 'ok', values: [1], timestamps: [-5] }] },
      { nope: true },
    ]) {
      const response = await post(bad);
      expect(response.statusCode, JSON.stringify(bad)).toBe(400);
    }
    expect((await post('{"series": [')).statusCode).toBe(400);
    expect((await get('metrics')).json()).toEqual(before);
  });

  it('stores a batch with an Idempotency-Key exactly once, also when replays race it', async () => {
    const body = { series: [{ name: 'once', steps: [0, 1, 2], values: [0.5, 0.25, 0.125] }] };
    const keyed = (idempotencyKey: string, experimentKey = key) =>
      post(body, { ...auth(t.adminKey), 'idempotency-key': idempotencyKey }, experimentKey);
    const first = await keyed('writer-a:1');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ points: 3, duplicate: false });
    const replay = await keyed('writer-a:1');
    expect(replay.json()).toEqual({ points: 3, duplicate: true });
    // Concurrent repeats of a new key: one stores, the others are duplicates.
    const racing = await Promise.all([keyed('writer-a:2'), keyed('writer-a:2'), keyed('writer-a:2')]);
    expect(racing.map((r) => r.json().duplicate).sort()).toEqual([false, true, true]);
    expect((await keyed('writer-b:1')).json().duplicate).toBe(false);
    expect((await get('metrics/once')).json().total).toBe(9);

    // Keys are per experiment: the same key applies to another experiment.
    const principal = await t.core.auth.authenticate(t.adminKey);
    const other = (await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'bulk' }))
      .experiment.id;
    expect((await keyed('writer-a:1', other)).json().duplicate).toBe(false);

    // A batch refused as invalid records nothing: fixed and resent under its key, it is stored.
    const invalid = await post(
      { series: [{ name: 'once', values: [1, 'x'] }] },
      { ...auth(t.adminKey), 'idempotency-key': 'writer-c:1' },
    );
    expect(invalid.statusCode).toBe(400);
    expect((await keyed('writer-c:1')).json().duplicate).toBe(false);
    expect((await post(body, { ...auth(t.adminKey), 'idempotency-key': 'has space' })).statusCode).toBe(400);
  });

  it('summarises each series with the step, time, context and offset of its min, max and last points', async () => {
    const principal = await t.core.auth.authenticate(t.adminKey);
    const own = (await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'bulk' }))
      .experiment.id;
    const logged = await post(
      {
        allowNonFinite: true,
        series: [
          {
            name: 'acc',
            steps: [10, 20, 30, 40],
            values: [0.5, 0.93, 'NaN', 0.93],
            timestamps: [1_000, 2_000, 3_000, 4_000],
          },
          { name: 'acc', context: 'val', values: [0.1], timestamps: [5_000] },
          { name: 'only-nan', steps: [1], values: ['NaN'], timestamps: [6_000] },
        ],
      },
      auth(t.adminKey),
      own,
    );
    expect(logged.statusCode, logged.body).toBe(200);
    const response = await t.app.inject({
      method: 'GET',
      url: `${API}/experiments/${own}/metrics`,
      headers: auth(t.adminKey),
    });
    expect(response.json()).toEqual({
      series: [
        {
          name: 'acc',
          count: 5,
          // NaN takes no part in the extremes; the first 0.93 (step 20) keeps the max.
          min: { value: 0.1, step: null, timestamp: 5_000, context: 'val', offset: 4 },
          max: { value: 0.93, step: 20, timestamp: 2_000, context: null, offset: 1 },
          last: { value: 0.1, step: null, timestamp: 5_000, context: 'val', offset: 4 },
        },
        {
          name: 'only-nan',
          count: 1,
          // Offsets number the experiment's points in logging order, across its series.
          min: { value: 'NaN', step: 1, timestamp: 6_000, context: null, offset: 5 },
          max: { value: 'NaN', step: 1, timestamp: 6_000, context: null, offset: 5 },
          last: { value: 'NaN', step: 1, timestamp: 6_000, context: null, offset: 5 },
        },
      ],
    });
  });

  it('accepts gzip bodies and refuses other tenants and read-only keys', async () => {
    const gz = gzipSync(JSON.stringify({ series: [{ name: 'zipped', values: [1, 2, 3] }] }));
    const zipped = await post(gz, { ...auth(t.adminKey), 'content-encoding': 'gzip' });
    expect(zipped.statusCode, zipped.body).toBe(200);
    expect((await get('metrics/zipped')).json().values).toEqual([1, 2, 3]);

    const body = { series: [{ name: 'x', values: [1] }] };
    expect((await post(body, {})).statusCode).toBe(401);
    expect((await post(body, auth('wrong'))).statusCode).toBe(401);
    expect((await post(body, auth(t.otherKey))).statusCode).toBe(404);
    expect((await post(body, auth(t.readOnlyKey))).statusCode).toBe(403);
    expect((await get('metrics/zipped', t.otherKey)).statusCode).toBe(404);
    expect((await get('metrics/x')).json().total).toBe(0);
  });
});
