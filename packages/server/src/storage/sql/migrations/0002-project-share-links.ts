import type { Kysely } from 'kysely';

/** Share codes of a project (Comet's share links): several may exist, each revocable alone. */
export async function projectShareLinks(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('project_share_links')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('share_code', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_share_links_pk', ['project_id', 'share_code'])
    .execute();
}
