import { type Kysely, sql } from 'kysely';
import type { Database } from './database.js';

/**
 * The workspace_usage counter (migration 0016): bytes of asset files per workspace. Every write
 * that adds, removes or moves asset rows adjusts it in the same transaction, so it always equals
 * the sum over the workspace's assets and reading it is one row.
 */

/** Adds `delta` bytes to the workspace of experiment `experimentId`. */
export async function addExperimentBytes(db: Kysely<Database>, experimentId: string, delta: number): Promise<void> {
  if (delta === 0) return;
  // `where true`-style filter on the select: SQLite needs one before ON CONFLICT in INSERT … SELECT.
  await sql`
    insert into workspace_usage (workspace_id, bytes)
    select workspace_id, ${delta} from experiments where id = ${experimentId}
    on conflict (workspace_id) do update set bytes = workspace_usage.bytes + excluded.bytes
  `.execute(db);
}

/** Adds `delta` bytes to workspace `workspaceId`. */
export async function addWorkspaceBytes(db: Kysely<Database>, workspaceId: string, delta: number): Promise<void> {
  if (delta === 0) return;
  await db
    .insertInto('workspace_usage')
    .values({ workspace_id: workspaceId, bytes: delta })
    .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ bytes: sql`workspace_usage.bytes + excluded.bytes` }))
    .execute();
}

/** Bytes of the asset files of one experiment. */
export async function experimentBytes(db: Kysely<Database>, experimentId: string): Promise<number> {
  const row = await db
    .selectFrom('assets')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('file_size'), sql<number>`0`).as('bytes'))
    .where('experiment_id', '=', experimentId)
    .executeTakeFirst();
  return Number(row?.bytes ?? 0);
}

export async function workspaceBytes(db: Kysely<Database>, workspaceId: string): Promise<number> {
  const row = await db
    .selectFrom('workspace_usage')
    .select('bytes')
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return Number(row?.bytes ?? 0);
}
