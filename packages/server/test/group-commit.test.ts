import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

/** Concurrent appends to one experiment share commits; each caller still gets its own offsets. */
describe.each(backends)('metric group commit (%s)', (backend) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('resolves every concurrent caller with its own contiguous offsets, all stored once', async () => {
    const principal = await t.core.auth.authenticate(t.adminKey);
    const key = (await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'gc' })).experiment
      .id;
    const calls = Array.from({ length: 60 }, (_, c) =>
      t.core.metrics.logMetrics(
        principal,
        key,
        Array.from({ length: 1 + (c % 3) }, (_, i) => ({ name: `m${c % 4}`, value: c * 10 + i, step: c })),
      ),
    );
    const offsets = await Promise.all(calls);
    const flat = offsets.flat();
    expect(new Set(flat).size).toBe(flat.length);
    for (const [c, mine] of offsets.entries()) {
      expect(mine).toHaveLength(1 + (c % 3));
      mine.forEach((offset, i) => {
        expect(offset).toBe((mine[0] as number) + i);
      });
    }
    let stored = 0;
    for (let m = 0; m < 4; m++) {
      const points = await t.core.metrics.readMetric(principal, key, `m${m}`);
      stored += points.length;
      // The value encodes the call, so each point sits at an offset its call was given.
      for (const p of points) expect(offsets[Math.floor(p.value / 10)]).toContain(p.offset);
    }
    expect(stored).toBe(flat.length);
  });

  it('commits concurrent single writes to many experiments, refusing only the one that cannot be written', async () => {
    const principal = await t.core.auth.authenticate(t.adminKey);
    const keys: string[] = [];
    for (let i = 0; i < 12; i++) {
      keys.push(
        (await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'gc-many' })).experiment
          .id,
      );
    }
    const missing = 'b'.repeat(32);
    const bob = await t.core.auth.authenticate(t.otherKey);
    // Three rounds at once, each experiment written by three callers: they share commits across
    // experiments where the store serialises writes, and each keeps its own outcome.
    const calls = [...keys, missing, ...keys, missing, ...keys].map((key, c) =>
      t.core.metrics.logMetrics(principal, key, [{ name: 'loss', value: c, step: c }]),
    );
    // Bob is no member of the default workspace: his write to an existing experiment is refused.
    const intruder = t.core.metrics.logMetrics(bob, keys[0] as string, [{ name: 'loss', value: -1, step: 0 }]);
    const [results, refused] = await Promise.all([Promise.allSettled(calls), Promise.allSettled([intruder])]);
    expect(refused[0]?.status).toBe('rejected');
    const written = [...keys, missing, ...keys, missing, ...keys];
    results.forEach((result, c) => {
      expect(result.status).toBe(written[c] === missing ? 'rejected' : 'fulfilled');
    });
    for (const key of keys) {
      const points = await t.core.metrics.readMetric(principal, key, 'loss');
      // Each experiment holds exactly its own three points, each at the offset its caller was told.
      const mine = written.flatMap((k, c) => (k === key ? [c] : []));
      expect(points.map((p) => p.value).sort((a, b) => Number(a) - Number(b))).toEqual(mine);
      for (const p of points) {
        const result = results[Number(p.value)] as PromiseFulfilledResult<number[]>;
        expect(result.value).toEqual([p.offset]);
      }
    }
  });

  it('rejects every caller of a group whose commit fails, storing none of it', async () => {
    const principal = await t.core.auth.authenticate(t.adminKey);
    const missing = 'a'.repeat(32);
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => t.core.metrics.logMetrics(principal, missing, [{ name: 'x', value: i }])),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
  });
});
