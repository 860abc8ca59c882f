import { statSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../core/errors.js';
import { inSnapshot } from './atomic.js';
import { openSqlite } from './dialect.js';
import { SqliteWriterDriver, type SqliteWriterDriverOptions } from './sqlite-writer-driver.js';

interface Scratch {
  t: { id: number; body: Buffer | null };
}

describe('SQLite writer driver', () => {
  let dir: string;
  let db: Kysely<Scratch>;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-writer-'));
    db = openSqlite(join(dir, 'cairn.db'), { synchronous: 'full' }).db as unknown as Kysely<Scratch>;
    await sql`create table t (id integer primary key, body blob)`.execute(db);
  });
  afterEach(async () => {
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a read while a write transaction is open on the writer, without its uncommitted rows', async () => {
    await db.insertInto('t').values({ id: 1, body: null }).execute();
    const seen = await db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 2, body: null }).execute();
      // Outside the transaction: with one connection for both, this would wait for the commit that
      // waits for it, and never return.
      return db.selectFrom('t').select('id').orderBy('id').execute();
    });
    expect(seen.map((r) => r.id)).toEqual([1]);
    expect((await db.selectFrom('t').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual([1, 2]);
  });

  it('shows every acknowledged write to the next read (read your writes across connections)', async () => {
    for (let i = 1; i <= 50; i++) {
      if (i % 2 === 0) await db.insertInto('t').values({ id: i, body: null }).execute();
      else await db.transaction().execute((trx) => trx.insertInto('t').values({ id: i, body: null }).execute());
      const last = await db.selectFrom('t').select(sql<number>`max(id)`.as('id')).executeTakeFirstOrThrow();
      expect(last.id).toBe(i);
    }
  });

  it('keeps one snapshot for a read-only transaction while writes commit', async () => {
    await db.insertInto('t').values({ id: 1, body: null }).execute();
    const counts = await inSnapshot(db as never, async (snapshot) => {
      const s = snapshot as unknown as Kysely<Scratch>;
      const before = await s.selectFrom('t').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
      await db.insertInto('t').values({ id: 2, body: null }).execute();
      const after = await s.selectFrom('t').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow();
      return [before.n, after.n];
    });
    expect(counts).toEqual([1, 1]);
    expect((await db.selectFrom('t').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n).toBe(2);
  });

  it('returns blobs as Buffers and keeps SQLite error codes from the writer', async () => {
    const body = Buffer.from([0, 1, 2, 255]);
    const read = await db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 1, body }).execute();
      return trx.selectFrom('t').select('body').where('id', '=', 1).executeTakeFirstOrThrow();
    });
    expect(Buffer.isBuffer(read.body)).toBe(true);
    expect(read.body).toEqual(body);
    const failed = await db
      .insertInto('t')
      .values({ id: 1, body: null })
      .execute()
      .catch((error: unknown) => error);
    expect((failed as { code?: string }).code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
  });

  it('fails the statements of a transaction cut off by close as unavailable instead of leaving them waiting', async () => {
    const error = await db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('t').values({ id: 1, body: null }).execute();
        const closing = db.destroy();
        try {
          await trx.insertInto('t').values({ id: 2, body: null }).execute();
        } finally {
          await closing;
        }
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
  });
});

/** A gate the test opens by hand: fsyncs wait on it, so the test sees what waits for them. */
function gatedSyncs() {
  const waiting: (() => void)[] = [];
  let started = 0;
  return {
    get started() {
      return started;
    },
    sync: (handle: FileHandle) => {
      started++;
      return new Promise<void>((resolve) => waiting.push(resolve)).then(() => handle.sync());
    },
    releaseOne() {
      waiting.shift()?.();
    },
  };
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('SQLite writer driver: durability and locks', () => {
  let dir: string;
  let file: string;
  const opened: Kysely<Scratch>[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-writer-'));
    file = join(dir, 'cairn.db');
  });
  afterEach(async () => {
    for (const db of opened.splice(0)) await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  async function open(
    options: Partial<SqliteWriterDriverOptions> = {},
    driver = new SqliteWriterDriver({
      file,
      pragmas: ['journal_mode = WAL'],
      busyTimeoutMillis: 5_000,
      durable: true,
      ...options,
    }),
  ): Promise<Kysely<Scratch>> {
    const db = new Kysely<Scratch>({
      dialect: new (class extends SqliteDialect {
        override createDriver() {
          return driver;
        }
      })({ database: () => Promise.reject(new Error('unused')) }),
    });
    opened.push(db);
    await sql`create table if not exists t (id integer primary key, body blob)`.execute(db);
    return db;
  }

  it('acknowledges a commit only after the WAL is fsynced, serving and committing more meanwhile, one fsync for all of them', async () => {
    const syncs = gatedSyncs();
    let gated = false;
    const db = await open({ syncFile: (handle) => (gated ? syncs.sync(handle) : handle.sync()) });
    gated = true;

    const acknowledged: number[] = [];
    const commit = (id: number) =>
      db
        .transaction()
        .execute((trx) => trx.insertInto('t').values({ id, body: null }).execute())
        .then(() => acknowledged.push(id));
    const first = commit(1);
    await until(() => syncs.started === 1);
    // The first commit's fsync is under way: the event loop turns, and two more groups commit.
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    const second = commit(2);
    const third = commit(3);
    await until(() => ticks >= 5);
    // Committed, so visible to readers; not acknowledged, because not yet on disk.
    const visible = await db.selectFrom('t').select('id').orderBy('id').execute();
    expect(visible.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(acknowledged).toEqual([]);
    expect(syncs.started).toBe(1);

    syncs.releaseOne();
    await first;
    expect(acknowledged).toEqual([1]);
    // The two commits made during that fsync share the next one.
    await until(() => syncs.started === 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(acknowledged).toEqual([1]);
    syncs.releaseOne();
    await Promise.all([second, third]);
    clearInterval(ticker);
    expect(acknowledged.sort()).toEqual([1, 2, 3]);
    expect(syncs.started).toBe(2);
  });

  it('fails the commit, not the data already durable, when the fsync fails', async () => {
    let fail = false;
    const db = await open({
      syncFile: (handle) => (fail ? Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' })) : handle.sync()),
    });
    await db.insertInto('t').values({ id: 1, body: null }).execute();
    fail = true;
    await expect(db.insertInto('t').values({ id: 2, body: null }).execute()).rejects.toThrow('EIO');
    fail = false;
    await db.insertInto('t').values({ id: 3, body: null }).execute();
    expect((await db.selectFrom('t').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it("waits for another process's write lock on timers, not by blocking the event loop", async () => {
    const db = await open({ busyTimeoutMillis: 2_000 });
    const other = new SQLite(file);
    try {
      other.exec('begin immediate');
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      const write = db.transaction().execute((trx) => trx.insertInto('t').values({ id: 1, body: null }).execute());
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(ticks).toBeGreaterThanOrEqual(10);
      other.exec('commit');
      await write;
      clearInterval(ticker);
    } finally {
      other.close();
    }
    expect((await db.selectFrom('t').select('id').execute()).map((r) => r.id)).toEqual([1]);
  });

  it('answers unavailable when the lock is held past the busy timeout', async () => {
    const kysely = openSqlite(file, { synchronous: 'full', busyTimeoutMillis: 100 }).db as unknown as Kysely<Scratch>;
    opened.push(kysely);
    await sql`create table t (id integer primary key, body blob)`.execute(kysely);
    const other = new SQLite(file);
    try {
      other.exec('begin immediate');
      const started = Date.now();
      const error = await kysely
        .transaction()
        .execute((trx) => trx.insertInto('t').values({ id: 1, body: null }).execute())
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnavailableError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
      // Outside a transaction too.
      await expect(kysely.insertInto('t').values({ id: 2, body: null }).execute()).rejects.toBeInstanceOf(
        UnavailableError,
      );
    } finally {
      other.exec('rollback');
      other.close();
    }
  });

  it('checkpoints the WAL on its own thread, so it does not grow with what is written', async () => {
    const db = openSqlite(file, { synchronous: 'full' }).db as unknown as Kysely<Scratch>;
    opened.push(db);
    await sql`create table t (id integer primary key, body blob)`.execute(db);
    const body = Buffer.alloc(64 * 1024, 7);
    // 48 MiB in a steady stream of commits: with no checkpoint, or none that ever copies every
    // frame (one running beside the writes never catches up), the WAL would hold all of it.
    let largest = 0;
    for (let i = 0; i < 768; i++) {
      await db.insertInto('t').values({ id: i, body }).execute();
      largest = Math.max(largest, statSync(`${file}-wal`).size);
    }
    expect(largest).toBeLessThan(16 * 1024 * 1024);
    expect((await db.selectFrom('t').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n).toBe(768);
  });

  it('starts a new checkpointer when its thread dies, so the WAL still starts over', async () => {
    const driver = new SqliteWriterDriver({
      file,
      pragmas: ['journal_mode = WAL'],
      busyTimeoutMillis: 5_000,
      durable: true,
    });
    const db = await open({}, driver);
    const first = (driver as unknown as { checkpointer: { worker: Worker } }).checkpointer;
    await first.worker.terminate();
    const body = Buffer.alloc(64 * 1024, 7);
    let largest = 0;
    for (let i = 0; i < 768; i++) {
      await db.insertInto('t').values({ id: i, body }).execute();
      largest = Math.max(largest, statSync(`${file}-wal`).size);
    }
    expect((driver as unknown as { checkpointer: unknown }).checkpointer).not.toBe(first);
    expect(largest).toBeLessThan(16 * 1024 * 1024);
  });
});
