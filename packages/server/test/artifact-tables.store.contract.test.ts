import { describe, expect, it } from 'vitest';
import type { ArtifactTable } from '../src/core/entities.js';
import type { Store } from '../src/core/store.port.js';
import { hex, insertExperiment, T0 } from './support/store-fixtures.js';
import { backends, useTestStore } from './support/test-context.js';

/** The contract of `ArtifactTableRepository` (core/store.port.ts), run against every backend. */

function newTable(experimentId: string, name: string, overrides: Partial<ArtifactTable> = {}): ArtifactTable {
  return {
    experimentId,
    name,
    description: null,
    columns: [
      { name: 'id', type: 'integer' },
      { name: 'label', type: 'string' },
    ],
    rowCount: 3,
    sizeBytes: 42,
    createdAt: T0,
    updatedAt: T0,
    blobKey: `experiments/${experimentId}/tables/${hex()}`,
    rowIndex: [0],
    ...overrides,
  };
}

describe.each(backends)('ArtifactTableRepository contract (%s)', (backend) => {
  let store: Store;
  useTestStore(backend, (opened) => {
    store = opened;
  });

  it('stores a table and gets it back whole; absent tables are undefined', async () => {
    const experiment = await insertExperiment(store);
    const table = newTable(experiment.id, 'eval/confusion', {
      description: 'a description',
      rowCount: 2_500_000,
      sizeBytes: 9_000_000_000,
      rowIndex: [0, 1000, 9_000_000_000],
      columns: [
        { name: 'when', type: 'datetime' },
        { name: 'ok', type: 'boolean' },
        { name: 'x', type: 'double' },
      ],
    });
    await store.artifactTables.put(table);
    expect(await store.artifactTables.get(experiment.id, 'eval/confusion')).toEqual(table);
    expect(await store.artifactTables.get(experiment.id, 'eval')).toBeUndefined();
    expect(await store.artifactTables.get(hex(), 'eval/confusion')).toBeUndefined();
  });

  it('lists an experiment’s tables by name in byte order, without row indexes', async () => {
    const experiment = await insertExperiment(store);
    const elsewhere = await insertExperiment(store);
    for (const name of ['b', 'B', 'a', 'ä', 'a b']) await store.artifactTables.put(newTable(experiment.id, name));
    await store.artifactTables.put(newTable(elsewhere.id, 'a'));
    const list = await store.artifactTables.list(experiment.id);
    expect(list.map((t) => t.name)).toEqual(['B', 'a', 'a b', 'b', 'ä']);
    expect(list[0]).not.toHaveProperty('rowIndex');
    const { rowIndex: _rowIndex, ...info } = newTable(experiment.id, 'x');
    expect(list[0]).toEqual({ ...info, name: 'B', blobKey: list[0]?.blobKey });
    expect(await store.artifactTables.list(hex())).toEqual([]);
  });

  it('replaces every field of a table put again under its name except createdAt', async () => {
    const experiment = await insertExperiment(store);
    await store.artifactTables.put(newTable(experiment.id, 'run', { createdAt: T0, updatedAt: T0 }));
    const replacement = newTable(experiment.id, 'run', {
      description: 'second',
      columns: [{ name: 'v', type: 'double' }],
      rowCount: 0,
      sizeBytes: 0,
      rowIndex: [],
      createdAt: T0 + 500,
      updatedAt: T0 + 500,
    });
    await store.artifactTables.put(replacement);
    expect(await store.artifactTables.get(experiment.id, 'run')).toEqual({ ...replacement, createdAt: T0 });
    expect(await store.artifactTables.list(experiment.id)).toHaveLength(1);
  });

  it('deletes one table, reporting whether it existed', async () => {
    const experiment = await insertExperiment(store);
    await store.artifactTables.put(newTable(experiment.id, 'keep'));
    await store.artifactTables.put(newTable(experiment.id, 'drop'));
    expect(await store.artifactTables.delete(experiment.id, 'drop')).toBe(true);
    expect(await store.artifactTables.delete(experiment.id, 'drop')).toBe(false);
    expect((await store.artifactTables.list(experiment.id)).map((t) => t.name)).toEqual(['keep']);
  });

  it('goes with its experiment, and a put in a rolled-back transaction leaves nothing', async () => {
    const experiment = await insertExperiment(store);
    await store.artifactTables.put(newTable(experiment.id, 'gone'));
    await store.experiments.delete(experiment.id);
    expect(await store.artifactTables.get(experiment.id, 'gone')).toBeUndefined();

    const other = await insertExperiment(store);
    await expect(
      store.transaction(async (tx) => {
        await tx.artifactTables.put(newTable(other.id, 'never'));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await store.artifactTables.get(other.id, 'never')).toBeUndefined();
  });

  it('refuses a table of an experiment that does not exist', async () => {
    await expect(store.artifactTables.put(newTable(hex(), 'orphan'))).rejects.toThrow();
  });
});
