import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOCK_SIZE, DIRECT_SEAL_MIN } from '../src/storage/series/series.repository.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const API = '/api/cairn/v1';
const BINARY = 'application/vnd.cairn.metrics';

/** A series as a test writes it: JSON's shape, with null for an absent step, timestamp or epoch. */
interface TestSeries {
  name: string;
  context?: string | null;
  values: number[];
  steps?: (number | null)[];
  timestamps?: (number | null)[];
  epochs?: (number | null)[];
}

const OPTIONAL = ['steps', 'timestamps', 'epochs'] as const;

/** The layout of docs/api/cairn.md, written independently of the server's decoder. */
function binaryBody(series: TestSeries[], options: { allowNonFinite?: boolean; header?: unknown } = {}): Buffer {
  const header = Buffer.from(
    JSON.stringify(
      options.header ?? {
        series: series.map((s) => ({
          name: s.name,
          ...(s.context === undefined ? {} : { context: s.context }),
          length: s.values.length,
          ...Object.fromEntries(OPTIONAL.filter((c) => s[c]).map((c) => [c, true])),
        })),
        ...(options.allowNonFinite === undefined ? {} : { allowNonFinite: options.allowNonFinite }),
      },
    ),
  );
  const columns: (number | null)[][] = [];
  for (const s of series) {
    columns.push(s.values);
    for (const c of OPTIONAL) if (s[c]) columns.push(s[c] as (number | null)[]);
  }
  const start = Math.ceil((4 + header.length) / 8) * 8;
  const out = Buffer.alloc(start + 8 * columns.reduce((n, c) => n + c.length, 0));
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  let at = start;
  for (const column of columns) {
    for (const v of column) {
      out.writeDoubleLE(v ?? Number.NaN, at);
      at += 8;
    }
  }
  return out;
}

/** A deterministic PRNG (mulberry32): the property test's cases are the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.each(backends)('Cairn bulk metrics API, binary body (%s)', (backend) => {
  let t: TestContext;
  const auth = (k: string) => ({ authorization: `Bearer ${k}` });

  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  const newExperiment = async () => {
    const principal = await t.core.auth.authenticate(t.adminKey);
    return (await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'binary' })).experiment
      .id;
  };
  const postBinary = (key: string, body: Buffer, headers: Record<string, string> = {}) =>
    t.app.inject({
      method: 'POST',
      url: `${API}/experiments/${key}/metrics`,
      headers: { 'content-type': BINARY, ...auth(t.adminKey), ...headers },
      payload: body,
    });
  const postJson = (key: string, body: unknown) =>
    t.app.inject({
      method: 'POST',
      url: `${API}/experiments/${key}/metrics`,
      headers: { 'content-type': 'application/json', ...auth(t.adminKey) },
      payload: JSON.stringify(body),
    });
  const get = (key: string, path: string) =>
    t.app.inject({ method: 'GET', url: `${API}/experiments/${key}/${path}`, headers: auth(t.adminKey) });

  it('stores every column, absent entries and contexts included, and reads back what JSON would', async () => {
    const key = await newExperiment();
    const n = DIRECT_SEAL_MIN + 7;
    const steps = Array.from({ length: n }, (_, i) => (i % 5 === 4 ? null : i));
    const series: TestSeries[] = [
      {
        name: 'train/loss',
        values: steps.map((_, i) => Math.sin(i) * 1e3 + 1 / 3),
        steps,
        timestamps: steps.map((_, i) => (i % 3 === 0 ? null : 1_700_000_000_000 + i * 1.25)),
        epochs: steps.map((_, i) => i >> 4),
      },
      { name: 'acc', context: 'val', values: [0.5, 0.75, 0.875] },
    ];
    const before = Date.now();
    const response = await postBinary(key, binaryBody(series));
    const after = Date.now();
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ points: n + 3, duplicate: false });

    const loss = (await get(key, 'metrics/train%2Floss')).json();
    expect(loss.total).toBe(n);
    expect(loss.values).toEqual(series[0]?.values);
    expect(loss.steps).toEqual(steps);
    expect(loss.epochs).toEqual(series[0]?.epochs);
    // Absent timestamps are the time of the request, as in JSON; given ones are rounded to ms.
    loss.timestamps.forEach((ts: number, i: number) => {
      const sent = series[0]?.timestamps?.[i];
      if (sent === null || sent === undefined) {
        expect(ts).toBeGreaterThanOrEqual(before);
        expect(ts).toBeLessThanOrEqual(after);
      } else {
        expect(ts).toBe(Math.round(sent));
      }
    });
    const acc = (await get(key, 'metrics/acc')).json();
    expect(acc).toMatchObject({ total: 3, values: [0.5, 0.75, 0.875], steps: [null, null, null] });
    expect(acc.contexts).toEqual(['val', 'val', 'val']);
  });

  it('accepts gzip, refuses non-finite values unless the header allows them, and keys batches exactly once', async () => {
    const key = await newExperiment();
    const points = { name: 'nf', values: [1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY] };
    const refused = await postBinary(key, binaryBody([points]));
    expect(refused.statusCode).toBe(400);
    expect(refused.json().detail).toContain('non-finite');
    const zipped = await postBinary(key, gzipSync(binaryBody([points], { allowNonFinite: true })), {
      'content-encoding': 'gzip',
      'idempotency-key': 'w:1',
    });
    expect(zipped.statusCode, zipped.body).toBe(200);
    expect(zipped.json()).toEqual({ points: 4, duplicate: false });
    expect((await get(key, 'metrics/nf')).json().values).toEqual([1, 'NaN', 'Infinity', '-Infinity']);

    const replay = await postBinary(key, binaryBody([points], { allowNonFinite: true }), { 'idempotency-key': 'w:1' });
    expect(replay.json()).toEqual({ points: 4, duplicate: true });
    expect((await get(key, 'metrics/nf')).json().total).toBe(4);
  });

  it('refuses malformed bodies with a problem naming what is wrong, and stores nothing', async () => {
    const key = await newExperiment();
    const good = binaryBody([{ name: 'a', values: [1, 2], steps: [0, 1] }]);
    const headerOf = (header: unknown) => binaryBody([{ name: 'a', values: [1, 2], steps: [0, 1] }], { header });
    const lengthPrefixed = (text: string) => {
      const bytes = Buffer.from(text);
      const out = Buffer.alloc(Math.ceil((4 + bytes.length) / 8) * 8);
      out.writeUInt32LE(bytes.length, 0);
      bytes.copy(out, 4);
      return out;
    };
    const announcing = Buffer.from(good);
    announcing.writeUInt32LE(good.length, 0);
    const cases: [string, Buffer, RegExp][] = [
      ['empty', Buffer.alloc(0), /too short to hold the header length/],
      ['three bytes', Buffer.from([1, 0, 0]), /too short/],
      ['header longer than the body', announcing, /announced as \d+ bytes but only \d+ follow/],
      ['header not JSON', lengthPrefixed('{"series": ['), /not JSON/],
      ['header without series', lengthPrefixed('{}'), /must have required property 'series'/],
      [
        'unknown column flag',
        headerOf({ series: [{ name: 'a', length: 2, step: true }] }),
        /additional properties \("step"\)/,
      ],
      ['negative length', headerOf({ series: [{ name: 'a', length: -1 }] }), /length must be >= 0/],
      ['fractional length', headerOf({ series: [{ name: 'a', length: 1.5 }] }), /length must be integer/],
      ['empty name', headerOf({ series: [{ name: '', length: 2, steps: true }] }), /name must NOT have fewer/],
      [
        'truncated column',
        good.subarray(0, good.length - 3),
        /its steps column needs 16 bytes from byte \d+, the body has 13/,
      ],
      [
        'header announcing more points than sent',
        headerOf({ series: [{ name: 'a', length: 3, steps: true }] }),
        /its steps column needs 24 bytes/,
      ],
      [
        'header announcing fewer points than sent',
        headerOf({ series: [{ name: 'a', length: 1, steps: true }] }),
        /16 bytes follow the last column/,
      ],
      ['trailing bytes', Buffer.concat([good, Buffer.alloc(8)]), /8 bytes follow the last column/],
      ['fractional step', binaryBody([{ name: 'a', values: [1], steps: [1.5] }]), /step must be an integer/],
      ['step beyond 2^53', binaryBody([{ name: 'a', values: [1], steps: [2 ** 53] }]), /step must be an integer/],
      ['infinite epoch', binaryBody([{ name: 'a', values: [1], epochs: [Number.POSITIVE_INFINITY] }]), /epoch must be/],
      ['negative timestamp', binaryBody([{ name: 'a', values: [1], timestamps: [-5] }]), /invalid timestamp/],
    ];
    for (const [what, body, detail] of cases) {
      const response = await postBinary(key, body);
      expect(response.statusCode, what).toBe(400);
      expect(response.headers['content-type'], what).toMatch(/^application\/problem\+json/);
      expect(response.json(), what).toMatchObject({ status: 400, title: 'Bad Request' });
      expect(response.json().detail, what).toMatch(detail);
    }
    // No body and no media type at all: Fastify validates bodies by media type, so none is checked.
    const bare = await t.app.inject({
      method: 'POST',
      url: `${API}/experiments/${key}/metrics`,
      headers: auth(t.adminKey),
    });
    expect(bare.statusCode, 'no body').toBe(400);
    expect(bare.json().detail).toMatch(/send JSON or application\/vnd\.cairn\.metrics columns/);
    const text = await t.app.inject({
      method: 'POST',
      url: `${API}/experiments/${key}/metrics`,
      headers: { 'content-type': 'text/plain', ...auth(t.adminKey) },
      payload: JSON.stringify({ series: [] }),
    });
    expect(text.statusCode, 'a text body').toBe(415);
    expect(text.json()).toMatchObject({ status: 415, title: 'Unsupported Media Type' });
    expect((await get(key, 'metrics')).json()).toEqual({ series: [] });
    // The same body is fine once well formed.
    expect((await postBinary(key, good)).statusCode).toBe(200);
  });

  it('holds binary bodies to the body limit, as JSON ones', async () => {
    const key = await newExperiment();
    // The test app's limit is 2 MiB: 300,000 points are 2.4 MB of values alone.
    const big = binaryBody([{ name: 'big', values: new Array(300_000).fill(1) }]);
    const response = await postBinary(key, big);
    expect(response.statusCode).toBe(413);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    // The media type is the bulk route's alone: elsewhere it is unsupported.
    const elsewhere = await t.app.inject({
      method: 'POST',
      url: `${API}/series/query`,
      headers: { 'content-type': BINARY, ...auth(t.adminKey) },
      payload: binaryBody([{ name: 'a', values: [1] }]),
    });
    expect(elsewhere.statusCode).toBe(415);
  });

  it('stores the same series from a JSON body and a binary body of the same points (property, seeded)', async () => {
    const next = random(20261204);
    const int = (n: number) => Math.floor(next() * n);
    const jsonKey = await newExperiment();
    const binaryKey = await newExperiment();
    const names = ['loss', 'acc', 'lr', 'grad/norm'];
    // Batches of every size class: a few points (tail), a direct seal, more than a block.
    const sizes = [1, 5, DIRECT_SEAL_MIN, 40, BLOCK_SIZE + 3, 0, 17, 2 * DIRECT_SEAL_MIN + 1];
    for (const size of sizes) {
      const series: TestSeries[] = [];
      for (const name of names.slice(0, 1 + int(names.length))) {
        const optional = (make: (i: number) => number) =>
          next() < 0.3 ? undefined : Array.from({ length: size }, (_, i) => (next() < 0.1 ? null : make(i)));
        const value = () => {
          const kind = int(4);
          if (kind === 0) return Math.round(next() * 1e4) / 1e4; // decimal
          if (kind === 1) return (next() - 0.5) * 10 ** (int(40) - 20); // full precision, any scale
          if (kind === 2) return int(5) - 2; // integers and ties, -0 included below
          return next() < 0.5 ? -0 : Number.MAX_VALUE * (next() < 0.5 ? -1 : 1);
        };
        const s: TestSeries = {
          name,
          values: Array.from({ length: size }, value),
          ...(next() < 0.3 ? { context: ['train', 'val', ''][int(3)] as string } : {}),
        };
        const steps = optional((i) => i * int(3) - int(2 ** 40));
        const timestamps = optional(() => 1_600_000_000_000 + int(10 ** 11) + int(1000) / 1000);
        const epochs = optional(() => int(100));
        if (steps) s.steps = steps;
        if (timestamps) s.timestamps = timestamps;
        if (epochs) s.epochs = epochs;
        series.push(s);
      }
      const json = await postJson(jsonKey, { series });
      const binary = await postBinary(binaryKey, binaryBody(series));
      expect(json.statusCode, json.body).toBe(200);
      expect(binary.statusCode, binary.body).toBe(200);
      expect(binary.json()).toEqual(json.json());
    }
    // Timestamps left out are the time each request arrived: equal only where given.
    const withoutNow = (points: { timestamps: number[]; [k: string]: unknown }) => ({
      ...points,
      timestamps: points.timestamps.map((ts) => (ts >= 1_600_000_000_000 && ts <= 1_700_000_001_000 ? ts : 'now')),
    });
    const jsonList = (await get(jsonKey, 'metrics')).json();
    const binaryList = (await get(binaryKey, 'metrics')).json();
    const dropTimes = (list: { series: Record<string, { timestamp: number }>[] }) =>
      list.series.map((s) => ({
        ...s,
        min: { ...s.min, timestamp: 0 },
        max: { ...s.max, timestamp: 0 },
        last: { ...s.last, timestamp: 0 },
      }));
    expect(dropTimes(binaryList)).toEqual(dropTimes(jsonList));
    expect(jsonList.series.length).toBeGreaterThan(0);
    for (const { name } of jsonList.series as { name: string }[]) {
      const path = `metrics/${encodeURIComponent(name)}`;
      const fromJson = (await get(jsonKey, path)).json();
      const fromBinary = (await get(binaryKey, path)).json();
      expect(fromBinary.total).toBeGreaterThan(0);
      expect(withoutNow(fromBinary)).toEqual(withoutNow(fromJson));
    }
  });
});
