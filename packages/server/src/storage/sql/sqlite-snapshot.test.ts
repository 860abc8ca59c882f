import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hex, insertExperiment, newAsset, T0 } from '../../../test/support/store-fixtures.js';
import { gitPatchBlobKey } from '../../core/projects.service.js';
import { SqlStore } from './sql-store.js';
import { SqliteSnapshot, snapshotSqlite, sqliteFileOf } from './sqlite-snapshot.js';

describe('SQLite snapshots', () => {
  let dir: string;
  let store: SqlStore;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-snapshot-'));
    file = join(dir, 'cairn.db');
    store = await SqlStore.open(`sqlite:${file}`, { synchronous: 'normal' });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the file of a sqlite: URL only', () => {
    expect(sqliteFileOf('sqlite:/data/cairn.db')).toBe('/data/cairn.db');
    expect(sqliteFileOf('postgres://u@h/db')).toBeUndefined();
  });

  it('copies what was committed while the store stays open and writable, and lists every blob key column', async () => {
    const experiment = await insertExperiment(store);
    const other = await insertExperiment(store);
    const asset = newAsset(experiment.id, { blobKey: `experiments/${experiment.id}/assets/${hex()}` });
    await store.assets.insert(asset);
    await store.assets.insert(newAsset(experiment.id, { remote: true, link: 'https://x.test/y', blobKey: null }));
    const tableKey = `experiments/${other.id}/tables/${hex()}`;
    await store.artifactTables.put({
      experimentId: other.id,
      name: 'scores',
      description: null,
      columns: [{ name: 'a', type: 'integer' }],
      rowCount: 1,
      sizeBytes: 10,
      createdAt: T0,
      updatedAt: T0,
      blobKey: tableKey,
      rowIndex: [0],
    });
    const panelKey = `code-panels/${hex()}/${hex()}`;
    await store.codePanels.insert({
      id: hex(),
      workspaceId: experiment.workspaceId,
      ownerUserId: experiment.createdBy,
      name: 'panel',
      queryBuilderId: 'qb',
      scopeType: 'PRIVATE',
      code: {
        code: '',
        css: '',
        description: '',
        html: '',
        defaultConfig: '',
        internalResources: [],
        userResources: [],
        pyCode: '',
        type: 'js',
        pyConfig: '',
      },
      thumbnailName: null,
      revisionId: T0,
      blobKey: panelKey,
      createdAt: T0,
      updatedAt: T0,
    });

    const target = join(dir, 'backup', 'cairn.db');
    await mkdir(join(dir, 'backup'));
    await snapshotSqlite(file, target);
    // The live store keeps taking writes; the snapshot does not see them.
    const late = await insertExperiment(store);

    const snapshot = SqliteSnapshot.open(target);
    try {
      expect(snapshot.integrityProblems()).toEqual([]);
      expect(snapshot.latestMigration()).toMatch(/^\d{4}-/);
      const references = snapshot.blobReferences();
      expect(references.required).toEqual([asset.blobKey, panelKey, tableKey].sort());
      expect(references.optional).toEqual([experiment.id, other.id].sort().map(gitPatchBlobKey));
      expect(references.optional).not.toContain(gitPatchBlobKey(late.id));
    } finally {
      snapshot.close();
    }
    // Rollback-journal mode: opened read-only, it leaves nothing beside it.
    expect((await readdir(join(dir, 'backup'))).sort()).toEqual(['cairn.db']);
    expect(await store.experiments.get(late.id)).toBeDefined();
  });

  it('reports damage that PRAGMA integrity_check finds', async () => {
    await insertExperiment(store);
    const target = join(dir, 'copy.db');
    await snapshotSqlite(file, target);
    const database = new Sqlite(target);
    const { rootpage } = database
      .prepare("select rootpage from sqlite_schema where type = 'index' and tbl_name = 'experiments' limit 1")
      .get() as { rootpage: number };
    const pageSize = database.pragma('page_size', { simple: true }) as number;
    database.close();
    const handle = await open(target, 'r+');
    await handle.write(Buffer.alloc(64, 0xa5), 0, 64, (rootpage - 1) * pageSize + 8);
    await handle.close();

    const snapshot = SqliteSnapshot.open(target);
    try {
      expect(snapshot.integrityProblems().length).toBeGreaterThan(0);
    } finally {
      snapshot.close();
    }
    expect(existsSync(`${target}-wal`)).toBe(false);
  });
});
