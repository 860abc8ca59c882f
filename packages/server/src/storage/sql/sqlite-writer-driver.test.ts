import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../core/errors.js';
import { inSnapshot } from './atomic.js';
import { openSqlite } from './dialect.js';

interface Scratch {
  t: { id: number; body: Buffer | null };
}

describe('SQLite writer thread', () => {
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
