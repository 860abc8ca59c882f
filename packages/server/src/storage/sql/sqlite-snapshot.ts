import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { gitPatchBlobKey } from '../../core/projects.service.js';

/** The file a `sqlite:<file>` database URL names; undefined for any other database. */
export function sqliteFileOf(url: string): string | undefined {
  return url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : undefined;
}

/**
 * Copies a live SQLite database into `target` (a file that must not exist yet) as one consistent
 * snapshot, while other processes keep writing to it.
 *
 * `VACUUM INTO` on a read-only connection of our own, not the online backup API: the backup API
 * copies in steps and starts over whenever another connection writes between two steps, so under
 * steady ingest it may never finish; done in one step it is the same single read transaction as
 * `VACUUM INTO`, which in addition writes a compact file (no free pages) in rollback-journal mode
 * that later opens read-only without creating -wal/-shm files beside it. In WAL mode the read
 * transaction blocks no writer; the WAL only grows until it ends, since checkpoints cannot pass
 * it. The snapshot holds every transaction committed before the statement began.
 */
export async function snapshotSqlite(source: string, target: string): Promise<void> {
  const database = new SQLite(source, { readonly: true, fileMustExist: true });
  try {
    // A WAL database is read without waiting, except while a writer recovers it.
    database.pragma('busy_timeout = 5000');
    database.prepare('VACUUM INTO ?').run(target);
  } finally {
    database.close();
  }
  // VACUUM INTO does not fsync what it wrote.
  await fsync(target);
  await fsync(dirname(target));
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The blob keys a database refers to. */
export interface BlobReferences {
  /** Keys stored in a row: the blob must exist. Sorted, distinct. */
  required: string[];
  /**
   * Keys that exist only if something was uploaded there: one git patch key per experiment
   * (nothing records whether an experiment has a patch). Sorted.
   */
  optional: string[];
}

/**
 * A Cairn SQLite database opened read-only, to check it and to list the blobs it refers to
 * without touching it (a checksummed backup stays byte for byte the same).
 */
export class SqliteSnapshot {
  private constructor(private readonly database: SQLite.Database) {}

  static open(file: string): SqliteSnapshot {
    return new SqliteSnapshot(new SQLite(file, { readonly: true, fileMustExist: true }));
  }

  /** What `PRAGMA integrity_check` finds; empty when the database is intact. */
  integrityProblems(): string[] {
    const rows = this.database.pragma('integrity_check') as { integrity_check: string }[];
    const messages = rows.map((row) => row.integrity_check);
    return messages.length === 1 && messages[0] === 'ok' ? [] : messages;
  }

  /** The newest migration applied to the database; undefined when it is not a Cairn database. */
  latestMigration(): string | undefined {
    if (!this.hasTable('kysely_migration')) return undefined;
    const row = this.database.prepare('select max(name) as name from kysely_migration').get() as {
      name: string | null;
    };
    return row.name ?? undefined;
  }

  /**
   * Every blob key the database refers to. A column holding a blob key is named `blob_key`
   * wherever it is (assets, table artifacts, code panels today); the tables are found in the
   * schema rather than listed here, so the list follows new migrations without knowing them.
   */
  blobReferences(): BlobReferences {
    const tables = this.database
      .prepare(
        `select m.name as name from sqlite_schema m join pragma_table_info(m.name) c
         where m.type = 'table' and c.name = 'blob_key' order by m.name`,
      )
      .all() as { name: string }[];
    const required = new Set<string>();
    for (const { name } of tables) {
      const keys = this.database
        .prepare(`select distinct blob_key as key from "${name.replaceAll('"', '""')}" where blob_key is not null`)
        .pluck()
        .all() as string[];
      for (const key of keys) required.add(key);
    }
    const optional = this.hasTable('experiments')
      ? (this.database.prepare('select id from experiments order by id').pluck().all() as string[]).map(gitPatchBlobKey)
      : [];
    return { required: [...required].sort(), optional };
  }

  close(): void {
    this.database.close();
  }

  private hasTable(name: string): boolean {
    return (
      this.database.prepare("select 1 from sqlite_schema where type = 'table' and name = ?").get(name) !== undefined
    );
  }
}
