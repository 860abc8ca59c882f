import type { Kysely } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/**
 * API keys get an optional expiry, and administrative actions an append-only audit log
 * (docs/operations.md, "API keys and the audit log"). The log has no foreign keys: an event must
 * outlive the user, key or project it names. Its integer ids give the log's order (SQLite's
 * AUTOINCREMENT never reuses one); the indexes serve the filters of `cairn audit` and
 * `GET /api/cairn/v1/admin/audit-events`, newest first.
 */
export async function keyExpiryAudit(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('expires_at', 'bigint').execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', dialect.name === 'sqlite' ? 'integer' : 'bigserial', (c) =>
      dialect.name === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
    )
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_user_id', 'text')
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('target_name', 'text')
    .addColumn('workspace_id', 'text')
    .addColumn('workspace_name', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text')
    .execute();
  await db.schema.createIndex('audit_events_at').on('audit_events').columns(['at', 'id']).execute();
  await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor_name', 'id']).execute();
  await db.schema.createIndex('audit_events_action').on('audit_events').columns(['action', 'id']).execute();
}
