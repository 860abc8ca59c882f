import type { Kysely } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/**
 * Artifacts (per workspace), their semver versions and aliases. A version's files are assets
 * carrying its id, hence the index on `assets.artifact_version_id`. No foreign key there: assets
 * predate this table and their rows must stay insertable on their own. Sizes and counts are not
 * stored: they are summed from the assets when read, so no delete path can leave them stale.
 */
export async function artifacts(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  const orderedText = dialect.orderedTextType;

  await db.schema
    .createTable('artifacts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('project_id', 'text', (c) => c.references('projects.id').onDelete('set null'))
    .addColumn('name', orderedText, (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('metadata', 'text')
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('is_public', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('emoji', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    // Experiments can be deleted while their artifacts live on: a key, not a foreign key.
    .addColumn('experiment_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('artifacts_workspace_name', ['workspace_id', 'name'])
    .execute();

  await db.schema
    .createTable('artifact_versions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('artifact_id', 'text', (c) => c.notNull().references('artifacts.id').onDelete('cascade'))
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text')
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('owner_user_id', 'text', (c) => c.notNull())
    .addColumn('experiment_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('artifact_versions_artifact_version', ['artifact_id', 'version'])
    .execute();

  // An alias names one version of an artifact: the key is (artifact, alias), not (version, alias).
  await db.schema
    .createTable('artifact_aliases')
    .addColumn('artifact_id', 'text', (c) => c.notNull().references('artifacts.id').onDelete('cascade'))
    .addColumn('alias', orderedText, (c) => c.notNull())
    .addColumn('version_id', 'text', (c) => c.notNull().references('artifact_versions.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('artifact_aliases_pk', ['artifact_id', 'alias'])
    .execute();
  await db.schema.createIndex('artifact_aliases_version').on('artifact_aliases').column('version_id').execute();

  await db.schema.createIndex('assets_artifact_version').on('assets').column('artifact_version_id').execute();
}
