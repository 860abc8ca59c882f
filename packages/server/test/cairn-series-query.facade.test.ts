import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/core/principal.js';
import { BLOCK_SIZE, DIRECT_SEAL_MIN } from '../src/storage/series/series.repository.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const API = '/api/cairn/v1';
type Axis = 'step' | 'epoch' | 'wall' | 'relative';
const AXES: Axis[] = ['step', 'epoch', 'wall', 'relative'];

/** A point as the test logged it, in logging (offset) order. */
interface Logged {
  step: number | null;
  epoch: number | null;
  timestamp: number;
  value: number;
  context: string | null;
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const wire = (v: number): number | string => (Number.isFinite(v) ? v : String(v));

/**
 * The documented semantics, computed the obvious way over every point: the reference the server's
 * block pruning, caching and run folding must reproduce bit for bit.
 */
function reference(
  points: readonly Logged[],
  query: { x: Axis; from?: number; to?: number; buckets: number; startTime: number },
) {
  const xOf = (p: Logged) =>
    query.x === 'step'
      ? p.step
      : query.x === 'epoch'
        ? p.epoch
        : query.x === 'wall'
          ? p.timestamp
          : p.timestamp - query.startTime;
  const from = query.from ?? Number.NEGATIVE_INFINITY;
  const to = query.to ?? Number.POSITIVE_INFINITY;
  const inRange = points
    .map((p, order) => ({ x: xOf(p), value: p.value, order }))
    .filter((p): p is { x: number; value: number; order: number } => p.x !== null && p.x >= from && p.x <= to);
  const base = { total: points.length, inRange: inRange.length };
  if (inRange.length <= query.buckets) {
    const sorted = [...inRange].sort((a, b) => a.x - b.x || a.order - b.order);
    return { ...base, exact: true, x: sorted.map((p) => p.x), values: sorted.map((p) => wire(p.value)) };
  }
  const lo = query.from ?? Math.min(...inRange.map((p) => p.x));
  const hi = query.to ?? Math.max(...inRange.map((p) => p.x));
  const buckets = new Map<number, typeof inRange>();
  for (const p of inRange) {
    const b = hi > lo ? Math.min(query.buckets - 1, Math.floor(((p.x - lo) * query.buckets) / (hi - lo))) : 0;
    buckets.set(b, [...(buckets.get(b) ?? []), p]);
  }
  const columns = { x0: [], x1: [], first: [], last: [], min: [], max: [], mean: [], count: [] } as Record<
    string,
    (number | string)[]
  >;
  for (const b of [...buckets.keys()].sort((a, b) => a - b)) {
    const members = (buckets.get(b) ?? []).sort((a, b) => a.order - b.order);
    const byX = [...members].sort((a, b) => a.x - b.x || a.order - b.order);
    const numbers = members.map((p) => p.value).filter((v) => !Number.isNaN(v));
    let sum = 0;
    numbers.forEach((v, i) => {
      sum = i === 0 ? v : sum + v;
    });
    columns.x0?.push((byX[0] as { x: number }).x);
    columns.x1?.push((byX[byX.length - 1] as { x: number }).x);
    columns.first?.push(wire((byX[0] as { value: number }).value));
    columns.last?.push(wire((byX[byX.length - 1] as { value: number }).value));
    columns.min?.push(wire(numbers.length ? Math.min(...numbers) : Number.NaN));
    columns.max?.push(wire(numbers.length ? Math.max(...numbers) : Number.NaN));
    columns.mean?.push(wire(numbers.length ? sum / numbers.length : Number.NaN));
    columns.count?.push(members.length);
  }
  return { ...base, exact: false, ...columns };
}

/** Reads the binary answer (`format=binary`) back into the JSON answer's shape. */
function decodeBinary(bytes: Buffer) {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const headerLength = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(Buffer.from(buffer, 4, headerLength).toString('utf8')) as {
    x: string;
    series: { exact: boolean; length: number; [field: string]: unknown }[];
  };
  let at = Math.ceil((4 + headerLength) / 8) * 8;
  const column = (length: number, values = false) => {
    const view = new Float64Array(buffer, at, length);
    at += length * 8;
    return Array.from(view, (v) => (values ? wire(v) : v));
  };
  return {
    x: header.x,
    series: header.series.map(({ length, ...entry }) =>
      entry.exact
        ? { ...entry, x: column(length), values: column(length, true) }
        : {
            ...entry,
            x0: column(length),
            x1: column(length),
            first: column(length, true),
            last: column(length, true),
            min: column(length, true),
            max: column(length, true),
            mean: column(length, true),
            count: column(length),
          },
    ),
  };
}

describe.each(backends)('Cairn series query (%s)', (backend) => {
  let t: TestContext;
  let admin: Principal;
  let first: { key: string; startTime: number };
  let second: { key: string; startTime: number };
  let foreignKey: string;
  const logged = new Map<string, Logged[]>();
  const random = prng(20261203);

  const query = (body: unknown, key: string | null = t.adminKey) =>
    t.request('POST', `${API}/series/query`, {
      key,
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });

  async function log(experimentKey: string, name: string, points: Logged[]): Promise<void> {
    // One entry per context, in a fixed order: that order is the logging order within the request.
    const contexts = [null, 'train', 'val'];
    const entries = contexts
      .map((context) => ({ context, points: points.filter((p) => p.context === context) }))
      .filter((entry) => entry.points.length > 0);
    const response = await t.request('POST', `${API}/experiments/${experimentKey}/metrics`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        allowNonFinite: true,
        series: entries.map((entry) => ({
          name,
          context: entry.context,
          values: entry.points.map((p) => wire(p.value)),
          steps: entry.points.map((p) => p.step),
          epochs: entry.points.map((p) => p.epoch),
          timestamps: entry.points.map((p) => p.timestamp),
        })),
      }),
    });
    expect(response.statusCode, response.body).toBe(200);
    const list = logged.get(`${experimentKey}/${name}`) ?? [];
    for (const entry of entries) list.push(...entry.points);
    logged.set(`${experimentKey}/${name}`, list);
  }

  /** Random points: steps out of order and repeated, some missing; epochs and NaN/infinities too. */
  function noisy(count: number, startTime: number): Logged[] {
    return Array.from({ length: count }, () => {
      const r = random();
      const step = random() < 0.1 ? null : Math.floor(random() * 3000);
      return {
        step,
        epoch: random() < 0.3 ? null : Math.floor(random() * 40),
        timestamp: startTime - 5_000 + Math.floor(random() * 600_000),
        value: r < 0.05 ? Number.NaN : r < 0.06 ? Number.POSITIVE_INFINITY : r < 0.065 ? -1e308 : random() * 10 - 5,
        context: ([null, 'train', 'val'] as const)[Math.floor(random() * 3)] ?? null,
      };
    });
  }

  beforeAll(async () => {
    t = await createTestContext(backend);
    admin = await t.core.auth.authenticate(t.adminKey);
    const create = async (projectName: string, principal = admin, workspaceName = 'default') => {
      const view = await t.core.experiments.create(principal, { workspaceName, projectName });
      return { key: view.experiment.id, startTime: view.experiment.startTime };
    };
    first = await create('series-query');
    second = await create('series-query');
    const bob = await t.core.auth.authenticate(t.otherKey);
    foreignKey = (await create('bobs', bob, 'bob')).key;

    // Tail only, a direct seal, full blocks and a shorter one, then a tail again.
    for (const size of [30, DIRECT_SEAL_MIN + 44, BLOCK_SIZE + 404, 700, 17, 120]) {
      await log(first.key, 'noisy', noisy(size, first.startTime));
    }
    // In order, with one spike, across blocks and tail.
    const sorted = (from: number, count: number): Logged[] =>
      Array.from({ length: count }, (_, i) => ({
        step: from + i,
        epoch: Math.floor((from + i) / 1000),
        timestamp: first.startTime + (from + i) * 10,
        value: from + i === 7_777 ? 1e6 : Math.sin((from + i) / 100),
        context: null,
      }));
    await log(first.key, 'sorted', sorted(0, 5_000));
    await log(first.key, 'sorted', sorted(5_000, 4_900));
    await log(first.key, 'sorted', sorted(9_900, 100));
    await log(second.key, 'noisy', noisy(50, second.startTime));
  });
  afterAll(async () => {
    await t?.close();
  });

  const expected = (x: Axis, range: { from?: number; to?: number }, buckets: number) => {
    const result = [];
    for (const experiment of [first, second]) {
      for (const metric of ['noisy', 'sorted']) {
        const points = logged.get(`${experiment.key}/${metric}`);
        if (!points) continue;
        result.push({
          experiment: experiment.key,
          metric,
          ...reference(points, { x, ...range, buckets, startTime: experiment.startTime }),
        });
      }
    }
    return result;
  };

  it('matches a brute-force reference on every axis, range and bucket count', async () => {
    const extents: Record<Axis, [number, number]> = {
      step: [0, 9_999],
      epoch: [0, 39],
      wall: [first.startTime - 5_000, first.startTime + 600_000],
      relative: [-5_000, 600_000],
    };
    for (const x of AXES) {
      const [lo, hi] = extents[x];
      const q1 = Math.round(lo + (hi - lo) / 4);
      const q3 = Math.round(lo + ((hi - lo) * 3) / 4);
      const ranges = [
        {},
        { from: q1 },
        { to: q3 },
        { from: q1, to: q3 },
        { from: q1 - 0.5, to: q3 + 0.25 },
        { from: q1, to: q1 },
        { from: hi + 1 },
      ];
      for (const range of ranges) {
        for (const buckets of [1, 7, 256, 1000, 15_000]) {
          const body = { experiments: [first.key, second.key], metrics: ['noisy', 'sorted'], x, ...range, buckets };
          const response = await query(body);
          expect(response.statusCode, response.body).toBe(200);
          expect(response.json(), JSON.stringify({ x, range, buckets })).toEqual({
            x,
            series: expected(x, range, buckets),
          });
        }
      }
    }
  });

  it('fetches only the blocks a range needs, with the same answer as reading them all', async () => {
    // Fresh series, queried with a range first: their blocks come from SQL, pruned by extent, and
    // not from the decoded blocks earlier tests left in memory.
    const view = await t.core.experiments.create(admin, { workspaceName: 'default', projectName: 'series-query' });
    const fresh = { key: view.experiment.id, startTime: view.experiment.startTime };
    const ranges: Record<Axis, { from?: number; to?: number }[]> = {
      step: [{ from: 1_000.5, to: 1_999.5 }, { to: 500 }, { from: 2_500 }],
      epoch: [{ from: 10, to: 12 }, { from: 30.5 }, { to: 3.25 }],
      wall: [{ from: fresh.startTime + 100_000.5, to: fresh.startTime + 150_000 }, { to: fresh.startTime }],
      relative: [
        { from: 100_000, to: 100_000.75 },
        { from: -4_000.5, to: 0 },
      ],
    };
    const data = noisy(BLOCK_SIZE * 3 + 100, fresh.startTime).sort((a, b) => (a.step ?? -1) - (b.step ?? -1));
    const metrics = AXES.flatMap((x) => ranges[x].map((_, i) => `${x}-${i}`));
    for (const metric of metrics) {
      // Sorted by step: blocks then have narrow step extents, so ranges really prune.
      for (let at = 0; at < data.length; at += 1_000) await log(fresh.key, metric, data.slice(at, at + 1_000));
    }
    for (const x of AXES) {
      for (const [i, range] of ranges[x].entries()) {
        const body = { experiments: [fresh.key], metrics: [`${x}-${i}`], x, ...range, buckets: 64 };
        const response = await query(body);
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json().series, JSON.stringify(body)).toEqual([
          {
            experiment: fresh.key,
            metric: `${x}-${i}`,
            ...reference(logged.get(`${fresh.key}/${x}-${i}`) ?? [], {
              x,
              ...range,
              buckets: 64,
              startTime: fresh.startTime,
            }),
          },
        ]);
      }
    }
  });

  it('answers the same as float64 columns with format=binary', async () => {
    for (const body of [
      { experiments: [first.key, second.key], metrics: ['noisy', 'sorted'], buckets: 100 },
      { experiments: [first.key, second.key], metrics: ['noisy', 'sorted'], x: 'relative', from: 0, to: 9_000 },
      { experiments: [second.key], metrics: ['noisy'], buckets: 15_000 },
      { experiments: [second.key], metrics: ['nothing'] },
    ]) {
      const json = await query(body);
      const binary = await t.request('POST', `${API}/series/query?format=binary`, {
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
      expect(binary.statusCode).toBe(200);
      expect(binary.headers['content-type']).toBe('application/vnd.cairn.series');
      expect(decodeBinary(binary.rawPayload), JSON.stringify(body)).toEqual(json.json());
    }
    const bad = await t.request('POST', `${API}/series/query?format=csv`, {
      body: JSON.stringify({ experiments: [first.key], metrics: ['noisy'] }),
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('answers the same from cached blocks, and sees points appended since', async () => {
    const body = { experiments: [first.key], metrics: ['noisy'], x: 'wall', buckets: 300 };
    const once = (await query(body)).json();
    expect((await query(body)).json()).toEqual(once);
    await log(first.key, 'noisy', noisy(BLOCK_SIZE, first.startTime));
    const after = (await query(body)).json();
    expect(after.series[0].total).toBe(once.series[0].total + BLOCK_SIZE);
    expect(after).toEqual({ x: 'wall', series: expected('wall', {}, 300).slice(0, 1) });
  });

  it('defaults to the step axis and 1,000 buckets, and answers exactly up to that many points', async () => {
    const defaults = (await query({ experiments: [first.key], metrics: ['sorted'] })).json();
    expect(defaults.x).toBe('step');
    expect(defaults.series[0]).toMatchObject({ exact: false, total: 10_000, inRange: 10_000 });
    expect(defaults.series[0].count).toHaveLength(1000);
    // 1,000 points in range with 1,000 buckets: exact; 1,001: bucketed.
    const exact = (await query({ experiments: [first.key], metrics: ['sorted'], from: 3_000, to: 3_999 })).json();
    expect(exact.series[0]).toMatchObject({ exact: true, inRange: 1000 });
    expect(exact.series[0].x).toEqual(Array.from({ length: 1000 }, (_, i) => 3_000 + i));
    const bucketed = (await query({ experiments: [first.key], metrics: ['sorted'], from: 3_000, to: 4_000 })).json();
    expect(bucketed.series[0]).toMatchObject({ exact: false, inRange: 1001 });
  });

  it('puts bucket edges where the formula says, the upper bound into the last bucket', async () => {
    const body = { experiments: [first.key], metrics: ['sorted'], from: 0, to: 10, buckets: 5 };
    const series = (await query(body)).json().series[0];
    expect(series).toMatchObject({
      exact: false,
      inRange: 11,
      x0: [0, 2, 4, 6, 8],
      x1: [1, 3, 5, 7, 10],
      count: [2, 2, 2, 2, 3],
      first: [Math.sin(0), Math.sin(0.02), Math.sin(0.04), Math.sin(0.06), Math.sin(0.08)],
      last: [Math.sin(0.01), Math.sin(0.03), Math.sin(0.05), Math.sin(0.07), Math.sin(0.1)],
    });
    // A range wider than the data keeps its own edges: buckets beyond the points are left out.
    const wide = (await query({ ...body, from: 9_990, to: 10_089, buckets: 5 })).json().series[0];
    expect(wide).toMatchObject({ exact: false, inRange: 10, x0: [9_990], x1: [9_999], count: [10] });
  });

  it('keeps a spike as the maximum of its bucket', async () => {
    for (const x of AXES) {
      const series = (await query({ experiments: [first.key], metrics: ['sorted'], x, buckets: 50 })).json().series[0];
      const at = series.max.indexOf(1e6);
      expect(at, x).toBeGreaterThanOrEqual(0);
      expect(Math.max(...series.max)).toBe(1e6);
      if (x === 'step') expect(series.x0[at] <= 7_777 && series.x1[at] >= 7_777).toBe(true);
      // Its bucket's mean carries it: the other values are sines, at least −1 each.
      expect(series.mean[at] * series.count[at]).toBeGreaterThanOrEqual(1e6 - series.count[at]);
    }
  });

  it('leaves out pairs that do not exist and keeps the requested order', async () => {
    const body = { experiments: [second.key, first.key], metrics: ['sorted', 'nope', 'noisy'], buckets: 10 };
    const series = (await query(body)).json().series;
    expect(series.map((s: { experiment: string; metric: string }) => `${s.experiment}/${s.metric}`)).toEqual([
      `${second.key}/noisy`,
      `${first.key}/sorted`,
      `${first.key}/noisy`,
    ]);
  });

  it('reads blocks sealed before their timestamp and epoch extents were kept', async () => {
    const view = await t.core.experiments.create(admin, { workspaceName: 'default', projectName: 'series-query' });
    const legacy = { key: view.experiment.id, startTime: view.experiment.startTime };
    await log(legacy.key, 'old', noisy(BLOCK_SIZE * 2 + 300, legacy.startTime));
    // What migration 0010 leaves in blocks written before it (no backfill).
    const db = Reflect.get(t.store, 'db') as import('kysely').Kysely<import('../src/storage/sql/database.js').Database>;
    await db
      .updateTable('series_blocks')
      .set({ min_timestamp: null, max_timestamp: null, min_epoch: null, max_epoch: null })
      .where('series_id', 'in', db.selectFrom('series').select('id').where('experiment_id', '=', legacy.key))
      .execute();
    const points = logged.get(`${legacy.key}/old`) ?? [];
    for (const x of ['epoch', 'relative'] as const) {
      const range = x === 'epoch' ? { from: 10, to: 20 } : { from: 100_000, to: 200_000 };
      const body = { experiments: [legacy.key], metrics: ['old'], x, ...range, buckets: 100 };
      expect((await query(body)).json().series).toEqual([
        {
          experiment: legacy.key,
          metric: 'old',
          ...reference(points, { x, ...range, buckets: 100, startTime: legacy.startTime }),
        },
      ]);
    }
  });

  it('is 404 for an experiment the caller cannot read, even beside readable ones, and needs a key', async () => {
    for (const experiments of [[foreignKey], [first.key, foreignKey], [first.key, 'f'.repeat(32)]]) {
      const response = await query({ experiments, metrics: ['noisy'] });
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await query({ experiments: [first.key], metrics: ['noisy'] }, t.otherKey)).statusCode).toBe(404);
    expect((await query({ experiments: [first.key], metrics: ['noisy'] }, null)).statusCode).toBe(401);
    // The read scope is enough.
    expect((await query({ experiments: [first.key], metrics: ['noisy'] }, t.readOnlyKey)).statusCode).toBe(200);
    // A public project's experiments are readable by everyone.
    await t.core.projects.updateProject(
      admin,
      { workspaceName: 'default', projectName: 'series-query' },
      { isPublic: true },
    );
    const shared = await query({ experiments: [first.key], metrics: ['sorted'], buckets: 3 }, t.otherKey);
    expect(shared.statusCode).toBe(200);
    expect(shared.json().series[0].count).toEqual([3333, 3333, 3334]);
    await t.core.projects.updateProject(
      admin,
      { workspaceName: 'default', projectName: 'series-query' },
      { isPublic: false },
    );
  });

  it('refuses bad input with 400', async () => {
    const ok = { experiments: [first.key], metrics: ['noisy'] };
    for (const bad of [
      {},
      { ...ok, experiments: [] },
      { ...ok, metrics: [] },
      { ...ok, metrics: [''] },
      { ...ok, x: 'time' },
      { ...ok, buckets: 0 },
      { ...ok, buckets: 15_001 },
      { ...ok, buckets: 2.5 },
      { ...ok, from: 'soon' },
      { ...ok, from: 10, to: 5 },
      { ...ok, bucket: 10 },
      {
        experiments: Array.from({ length: 50 }, (_, i) => `${first.key.slice(0, 30)}${String(i).padStart(2, '0')}`),
        metrics: Array.from({ length: 50 }, (_, i) => `m${i}`),
        buckets: 1000,
      },
    ]) {
      const response = await query(bad);
      expect(response.statusCode, JSON.stringify(bad)).toBe(400);
      expect(response.json()).toMatchObject({ status: 400, title: 'Bad Request' });
    }
    const malformed = await t.request('POST', `${API}/series/query`, {
      payload: '{"experiments": [',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.statusCode).toBe(400);
  });
});
