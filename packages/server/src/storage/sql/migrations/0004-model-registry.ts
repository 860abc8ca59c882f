import type { Kysely } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/** The model registry (models, versions, their stages) and its webhooks with their delivery log. */
export async function modelRegistry(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  await db.schema
    .createTable('registry_models')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('name', dialect.orderedTextType, (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('is_public', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('notes', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('registry_models_workspace_name', ['workspace_id', 'name'])
    .execute();

  // A version keeps its experiment key and model name when the experiment is deleted (the
  // experiment model then goes and experiment_model_id becomes NULL): the registry's history
  // outlives the run that produced it, only the files go.
  await db.schema
    .createTable('registry_versions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('registry_model_id', 'text', (c) => c.notNull().references('registry_models.id').onDelete('cascade'))
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('experiment_model_id', 'text', (c) => c.references('experiment_models.id').onDelete('set null'))
    .addColumn('experiment_id', 'text', (c) => c.notNull())
    .addColumn('experiment_model_name', 'text', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('registry_versions_model_version', ['registry_model_id', 'version'])
    .execute();
  await db.schema
    .createIndex('registry_versions_experiment_model')
    .on('registry_versions')
    .column('experiment_model_id')
    .execute();

  await db.schema
    .createTable('registry_version_stages')
    .addColumn('version_id', 'text', (c) => c.notNull().references('registry_versions.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('stage', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('registry_version_stages_pk', ['version_id', 'stage'])
    .execute();

  // One row per (workspace, scope): scope is the registry model id, or '' for the workspace-wide
  // configuration. A NULL could not be part of the key (NULLs never collide in a unique index),
  // so the model id is repeated in a nullable column that carries the cascade.
  await db.schema
    .createTable('webhook_configs')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('registry_model_id', 'text', (c) => c.references('registry_models.id').onDelete('cascade'))
    .addColumn('targets', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('webhook_configs_pk', ['workspace_id', 'scope'])
    .execute();

  // The delivery log outlives the models it speaks of: no reference to registry_models.
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('headers', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('next_attempt_at', 'bigint')
    .addColumn('delivered_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_due')
    .on('webhook_deliveries')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('webhook_deliveries_workspace')
    .on('webhook_deliveries')
    .columns(['workspace_id', 'created_at'])
    .execute();
}
