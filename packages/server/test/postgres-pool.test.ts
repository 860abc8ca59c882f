import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '../src/core/errors.js';
import { openPostgres } from '../src/storage/sql/dialect.js';
import { backends, POSTGRES_URL } from './support/test-context.js';

/**
 * The pool size is what a cluster's connection budget is planned with (nodes × pool <
 * max_connections): a server must never hold more, and a request past the pool waits for a free
 * connection up to the connect timeout, then fails as "unavailable" (503), not with a driver error.
 */
describe.skipIf(!backends.includes('postgres'))('PostgreSQL pool size', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A pool of `poolSize`, and a way to count its open connections from outside it. */
  async function open(poolSize: number) {
    const applicationName = `cairn_pool_${Math.random().toString(36).slice(2, 10)}`;
    const opened = openPostgres(`${POSTGRES_URL}?application_name=${applicationName}`, {
      poolSize,
      connectTimeoutMillis: 300,
    });
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    cleanups.push(async () => {
      await admin.end();
    });
    cleanups.push(() => opened.db.destroy());
    const connections = async () =>
      Number(
        (await admin.query('select count(*) as n from pg_stat_activity where application_name = $1', [applicationName]))
          .rows[0].n,
      );
    return { db: opened.db, connections };
  }

  /** Holds `count` connections in open transactions until `release` is called. */
  function hold(db: Awaited<ReturnType<typeof open>>['db'], count: number) {
    let open = () => {};
    const released = new Promise<void>((resolve) => {
      open = resolve;
    });
    let started = 0;
    const transactions: Promise<void>[] = [];
    const begun = new Promise<void>((resolve) => {
      for (let i = 0; i < count; i++) {
        transactions.push(
          db.transaction().execute(async (tx) => {
            await sql`select 1`.execute(tx);
            if (++started === count) resolve();
            await released;
          }),
        );
      }
    });
    const release = async () => {
      open();
      await Promise.all(transactions);
    };
    return { begun, release };
  }

  it('opens no more connections than its size, and answers "unavailable" once they are all busy', async () => {
    const { db, connections } = await open(2);
    const held = hold(db, 2);
    await held.begun;
    expect(await connections()).toBe(2);
    const error = await sql`select 1`.execute(db).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnavailableError);
    expect(await connections()).toBe(2);
    await held.release();
    // A connection handed back serves the next request.
    await expect(sql`select 1 as one`.execute(db)).resolves.toMatchObject({ rows: [{ one: 1 }] });
  });

  it('serves as many requests at once as its size allows', async () => {
    const { db, connections } = await open(3);
    const held = hold(db, 2);
    await held.begun;
    await expect(sql`select 1 as one`.execute(db)).resolves.toMatchObject({ rows: [{ one: 1 }] });
    expect(await connections()).toBe(3);
    await held.release();
  });
});
