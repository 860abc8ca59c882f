import { describe, expect, it } from 'vitest';
import type { Store } from '../src/core/store.port.js';
import { hex, insertExperiment, T0 } from './support/store-fixtures.js';
import { backends, useTestStore } from './support/test-context.js';

/** The contract of the client batch repository (core/store.port.ts), on every backend. */
describe.each(backends)('Client batch store contract (%s)', (backend) => {
  let store: Store;
  useTestStore(backend, (opened) => {
    store = opened;
  });

  it('records a batch key once per experiment and stream', async () => {
    const experiment = await insertExperiment(store);
    const other = await insertExperiment(store);
    const key = hex();
    expect(await store.clientBatches.markApplied(experiment.id, 'metric', key, T0)).toBe(true);
    expect(await store.clientBatches.markApplied(experiment.id, 'metric', key, T0 + 1)).toBe(false);
    expect(await store.clientBatches.markApplied(experiment.id, 'parameter', key, T0)).toBe(true);
    expect(await store.clientBatches.markApplied(experiment.id, 'output', key, T0)).toBe(true);
    expect(await store.clientBatches.markApplied(other.id, 'metric', key, T0)).toBe(true);
    expect(await store.clientBatches.markApplied(experiment.id, 'metric', hex(), T0)).toBe(true);
  });

  it('forgets a key whose transaction rolled back, and keeps one that committed', async () => {
    const experiment = await insertExperiment(store);
    const key = hex();
    await expect(
      store.transaction(async (tx) => {
        expect(await tx.clientBatches.markApplied(experiment.id, 'metric', key, T0)).toBe(true);
        // Within its own transaction the key already counts as applied.
        expect(await tx.clientBatches.markApplied(experiment.id, 'metric', key, T0)).toBe(false);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await store.transaction(async (tx) => {
      expect(await tx.clientBatches.markApplied(experiment.id, 'metric', key, T0)).toBe(true);
    });
    expect(await store.clientBatches.markApplied(experiment.id, 'metric', key, T0)).toBe(false);
  });

  it('lets exactly one of several concurrent transactions record a key', async () => {
    const experiment = await insertExperiment(store);
    const key = hex();
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        store.transaction((tx) => tx.clientBatches.markApplied(experiment.id, 'metric', key, T0)),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('drops the keys with their experiment', async () => {
    const experiment = await insertExperiment(store);
    const key = hex();
    await store.clientBatches.markApplied(experiment.id, 'metric', key, T0);
    await store.experiments.delete(experiment.id);
    await store.experiments.insert({ ...experiment });
    expect(await store.clientBatches.markApplied(experiment.id, 'metric', key, T0)).toBe(true);
  });

  it('reports the highest client offset of the output lines, 0 when there is none', async () => {
    const experiment = await insertExperiment(store);
    expect(await store.clientBatches.lastOutputOffset(experiment.id)).toBe(0);
    const line = { stderr: false, context: null, timestamp: T0 };
    await store.experiments.appendOutput(experiment.id, [
      { ...line, text: 'a', clientOffset: 4 },
      { ...line, text: 'b', clientOffset: null },
    ]);
    await store.experiments.appendOutput(experiment.id, [{ ...line, text: 'c', clientOffset: 17 }]);
    await store.experiments.appendOutput(experiment.id, [{ ...line, text: 'd', clientOffset: 2 }]);
    expect(await store.clientBatches.lastOutputOffset(experiment.id)).toBe(17);
    expect(await store.clientBatches.lastOutputOffset(hex())).toBe(0);
  });
});
