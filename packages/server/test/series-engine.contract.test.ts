import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricPointInput } from '../src/core/entities.js';
import { CHUNK_SIZE } from '../src/storage/series/chunk-summary.js';
import { BLOCK_SIZE, DIRECT_SEAL_MIN } from '../src/storage/series/series.repository.js';
import { insertExperiment } from './support/store-fixtures.js';
import { backends, openTestStore, type TestStore } from './support/test-context.js';

/** Series reads beyond plain paging: step ranges and downsampling, on every backend. */
describe.each(backends)('series engine contract (%s)', (backend) => {
  let t: TestStore;
  let experimentId: string;

  const points = (from: number, count: number, value: (i: number) => number): MetricPointInput[] =>
    Array.from({ length: count }, (_, k) => ({
      name: 'm',
      value: value(from + k),
      step: from + k,
      epoch: null,
      timestamp: 1_000 + from + k,
      context: null,
    }));
  const valueAt = (i: number) => (i === 7_777 ? 500 : i === 12_345 ? -500 : Math.cos(i / 10));

  beforeAll(async () => {
    t = await openTestStore(backend);
    experimentId = (await insertExperiment(t.store)).id;
    // A mix of direct seals, tail appends and tail seals: 20,000 points.
    let at = 0;
    for (const size of [DIRECT_SEAL_MIN, 100, BLOCK_SIZE * 2 + 5, 7, 3000, 1, 20_000]) {
      const count = Math.min(size, 20_000 - at);
      if (count <= 0) break;
      await t.store.series.append(experimentId, points(at, count, valueAt));
      at += count;
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reads a step range exactly, with paging inside the range', async () => {
    const range = await t.store.series.readPoints(experimentId, 'm', { stepFrom: 4_000, stepTo: 9_000 });
    expect(range.map((p) => p.step)).toEqual(Array.from({ length: 5_001 }, (_, i) => 4_000 + i));
    expect(range.map((p) => p.value)).toEqual(range.map((p) => valueAt(p.step as number)));
    const page = await t.store.series.readPoints(experimentId, 'm', { stepFrom: 4_000, offset: 10, limit: 3 });
    expect(page.map((p) => p.step)).toEqual([4_010, 4_011, 4_012]);
    expect(await t.store.series.readPoints(experimentId, 'm', { stepFrom: 30_000 })).toEqual([]);
  });

  it('reads columns exactly, whether the block index comes from SQL or from the decoded-block cache', async () => {
    // A series of its own, so that its first reads find nothing cached.
    const cold = (from: number, count: number) =>
      points(from, count, valueAt).map((p) => ({ ...p, name: 'cold', epoch: p.step % 3 === 0 ? null : p.step }));
    for (const [from, count] of [
      [0, BLOCK_SIZE + 300],
      [BLOCK_SIZE + 300, 40],
      [BLOCK_SIZE + 340, BLOCK_SIZE * 2],
    ] as const) {
      await t.store.series.append(experimentId, cold(from, count));
    }
    const total = BLOCK_SIZE * 3 + 340;
    const expectSteps = (columns: Awaited<ReturnType<typeof t.store.series.readColumns>>, steps: number[]) => {
      expect(columns.total).toBe(total);
      expect(Array.from(columns.steps)).toEqual(steps);
      expect(Array.from(columns.values)).toEqual(steps.map(valueAt));
      expect(Array.from(columns.timestamps)).toEqual(steps.map((s) => 1_000 + s));
      expect(Array.from(columns.epochs, (e) => (Number.isNaN(e) ? null : e))).toEqual(
        steps.map((s) => (s % 3 === 0 ? null : s)),
      );
      expect(Array.from(columns.contextIds, (id) => columns.contexts[id])).toEqual(steps.map(() => null));
      const offsets = Array.from(columns.offsets);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    };
    const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
    const page = { offset: BLOCK_SIZE - 5, limit: 1_000 };
    const steps = { stepFrom: BLOCK_SIZE * 2 - 2, stepTo: BLOCK_SIZE * 2 + 2, offset: 1, limit: 3 };
    // Cold: one block decoded, the index from SQL.
    expectSteps(await t.store.series.readColumns(experimentId, 'cold', page), range(BLOCK_SIZE - 5, 1_000));
    expectSteps(await t.store.series.readColumns(experimentId, 'cold', steps), range(BLOCK_SIZE * 2 - 1, 3));
    // Every block decoded once, then the same reads again from the cache alone (and the tail).
    expectSteps(await t.store.series.readColumns(experimentId, 'cold'), range(0, total));
    expectSteps(await t.store.series.readColumns(experimentId, 'cold'), range(0, total));
    expectSteps(await t.store.series.readColumns(experimentId, 'cold', page), range(BLOCK_SIZE - 5, 1_000));
    expectSteps(await t.store.series.readColumns(experimentId, 'cold', steps), range(BLOCK_SIZE * 2 - 1, 3));
    expectSteps(await t.store.series.readColumns(experimentId, 'cold', { offset: total - 10 }), range(total - 10, 10));
    expectSteps(await t.store.series.readColumns(experimentId, 'cold', { offset: total }), []);
    expectSteps(await t.store.series.readColumns(experimentId, 'cold', { stepFrom: total }), []);
    expectSteps(await t.store.series.readColumns(experimentId, 'cold', { limit: 0 }), []);
    const absent = await t.store.series.readColumns(experimentId, 'absent');
    expect([absent.total, absent.offsets.length]).toEqual([0, 0]);
  });

  it('downsamples from chunk summaries with every bucket’s exact extremes', async () => {
    const buckets = 10;
    expect(20_000).toBeGreaterThanOrEqual(buckets * CHUNK_SIZE);
    const sampled = await t.store.series.downsample(experimentId, 'm', buckets);
    expect(sampled.total).toBe(20_000);
    expect(sampled.exact).toBe(false);
    expect(sampled.points.length).toBeLessThanOrEqual(2 * buckets + 2);
    const values = sampled.points.map((p) => p.value);
    expect(values).toContain(500);
    expect(values).toContain(-500);
    for (const p of sampled.points) expect(p.value).toBe(valueAt(p.step as number));
    expect(sampled.points.find((p) => p.value === 500)).toMatchObject({ step: 7_777, timestamp: 8_777 });
  });

  it('returns every point when the series is short enough', async () => {
    const all = await t.store.series.downsample(experimentId, 'm', 15_000);
    expect(all.exact).toBe(true);
    expect(all.points.map((p) => p.step)).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
    expect(await t.store.series.downsample(experimentId, 'absent', 10)).toEqual({ total: 0, exact: true, points: [] });
  });
});
