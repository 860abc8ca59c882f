import { type Kysely, sql } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/**
 * What several server nodes on one database need to agree on:
 * - `security_epoch`: one row whose counter every change to users' access (a key revoked, a
 *   membership, a session ended) bumps in its own transaction. Each node reads it a few times a
 *   second and drops its cached principals when it moved.
 * - `webhook_deliveries.seq`: the order deliveries were recorded in (ids are random and
 *   `created_at` ties within a millisecond), so only the head of a URL's queue can be claimed.
 * - `webhook_deliveries.claimed`: 1 while a dispatcher holds the delivery's lease, which tells an
 *   attempt in flight (later deliveries to the URL wait) from a retry scheduled after a failure
 *   (they do not).
 * - `live_event_payloads` (PostgreSQL only): live events too large for a NOTIFY payload (8,000
 *   bytes), kept briefly so that every node's listener can read them by id.
 */
export async function severalNodes(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  await db.schema
    .createTable('security_epoch')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('epoch', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into security_epoch (id, epoch) values (1, 0)`.execute(db);
  await db.schema
    .alterTable('webhook_deliveries')
    .addColumn('claimed', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  if (dialect.name === 'postgres') {
    await sql`create table live_event_payloads (
      id bigint generated always as identity primary key,
      payload text not null,
      created_at bigint not null
    )`.execute(db);
    // Existing rows are numbered as they are stored, which is near enough their recording order.
    await sql`alter table webhook_deliveries add column seq bigint generated always as identity`.execute(db);
  } else {
    // SQLite cannot add an autoincrement column: the rowid already grows with each insert (a new
    // row gets the largest rowid + 1), so seq copies it, for old rows now and new ones by trigger.
    await sql`alter table webhook_deliveries add column seq integer`.execute(db);
    await sql`update webhook_deliveries set seq = rowid`.execute(db);
    await sql`create trigger webhook_deliveries_seq after insert on webhook_deliveries
      begin update webhook_deliveries set seq = new.rowid where rowid = new.rowid; end`.execute(db);
  }
  await db.schema.createIndex('webhook_deliveries_url_seq').on('webhook_deliveries').columns(['url', 'seq']).execute();
}
