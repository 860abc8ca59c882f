import { type Kysely, sql } from 'kysely';

/**
 * Bytes of stored asset files per workspace (assets, artifact files, model files: every asset
 * row), kept by the asset and experiment repositories in the transactions that add, delete or
 * move them, so the storage quota is checked by reading one row instead of summing a workspace's
 * assets on every upload. Filled here from what is stored already.
 */
export async function workspaceUsage(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('workspace_usage')
    .addColumn('workspace_id', 'text', (c) => c.primaryKey().references('workspaces.id').onDelete('cascade'))
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .execute();
  await sql`
    insert into workspace_usage (workspace_id, bytes)
    select e.workspace_id, sum(a.file_size)
    from assets a join experiments e on e.id = a.experiment_id
    group by e.workspace_id
  `.execute(db);
}
