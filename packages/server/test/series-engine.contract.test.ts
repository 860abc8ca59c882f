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

  it('reads the same points as columns, with the total, from storage and again from the decoded-block cache', async () => {
    const cases = [
      {},
      { offset: 250, limit: 1_000 },
      { offset: BLOCK_SIZE - 3, limit: BLOCK_SIZE + 10 },
      { offset: 19_990 },
      { offset: 25_000 },
      { stepFrom: 4_000, stepTo: 9_000 },
      { stepFrom: 4_000, offset: 10, limit: 3 },
      { stepTo: 300, limit: 1 },
      { stepFrom: 30_000 },
    ];
    for (const round of [1, 2]) {
      for (const options of cases) {
        const points = await t.store.series.readPoints(experimentId, 'm', options);
        const columns = await t.store.series.readColumns(experimentId, 'm', options);
        const label = `${JSON.stringify(options)}, round ${round}`;
        expect(columns.total, label).toBe(20_000);
        expect(Array.from(columns.offsets), label).toEqual(points.map((p) => p.offset));
        expect(Array.from(columns.steps), label).toEqual(points.map((p) => p.step));
        expect(Array.from(columns.values), label).toEqual(points.map((p) => p.value));
        expect(Array.from(columns.timestamps), label).toEqual(points.map((p) => p.timestamp));
        expect(
          Array.from(columns.epochs, (e) => (Number.isNaN(e) ? null : e)),
          label,
        ).toEqual(points.map((p) => p.epoch));
        expect(
          Array.from(columns.contextIds, (id) => columns.contexts[id]),
          label,
        ).toEqual(points.map((p) => p.context));
      }
    }
    const absent = await t.store.series.readColumns(experimentId, 'absent');
    expect([absent.total, absent.offsets.length]).toEqual([0, 0]);
    expect((await t.store.series.readColumns(experimentId, 'm', { limit: 0 })).total).toBe(20_000);
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
