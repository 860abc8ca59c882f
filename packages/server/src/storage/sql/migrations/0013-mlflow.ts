import { type Kysely, sql } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/**
 * What the MLflow facade needs beyond the Comet model (docs/api/mlflow.md has the mapping rules):
 *
 * - Projects (MLflow experiments) can be soft-deleted and restored, carry key/value tags and an
 *   artifact location other than the default `mlflow-artifacts:/<id>`.
 * - Experiments (MLflow runs) keep the MLflow status Cairn's three statuses cannot hold
 *   (KILLED, SCHEDULED) beside `status`.
 * - Series keep MLflow's "latest" point, the greatest by (step, timestamp, value), beside the
 *   last logged one; rows written before this migration take their last point as latest (they were
 *   logged by Comet clients, whose steps grow, so the two agree there).
 * - Dataset inputs of runs (log-inputs), deduplicated per run by (name, digest).
 * - Experiment models carry what MLflow 3's logged models add: an `m-<hex>` id, a status, a model
 *   type, tags and params, and the step the run logged them at.
 * - Registry models and versions carry tags; versions an integer number (MLflow's version,
 *   numbered per model in creation order), a source URI, a run link and a status; aliases name
 *   one version each.
 */
export async function mlflow(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  await db.schema.alterTable('projects').addColumn('deleted_at', 'bigint').execute();
  await db.schema.alterTable('projects').addColumn('artifact_location', 'text').execute();
  await db.schema
    .createTable('project_tags')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('key', dialect.orderedTextType, (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_tags_pk', ['project_id', 'key'])
    .execute();

  await db.schema.alterTable('experiments').addColumn('status_detail', 'text').execute();

  await db.schema.alterTable('series').addColumn('latest_value', 'double precision').execute();
  await db.schema.alterTable('series').addColumn('latest_step', 'bigint').execute();
  await db.schema.alterTable('series').addColumn('latest_timestamp', 'bigint').execute();
  await db.schema.alterTable('series').addColumn('latest_context', 'text').execute();
  await db.schema.alterTable('series').addColumn('latest_offset', 'bigint').execute();
  await sql`update series set latest_value = last_value, latest_step = last_step, latest_timestamp = last_timestamp,
    latest_context = last_context, latest_offset = last_offset`.execute(db);

  await db.schema
    .createTable('experiment_inputs')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('name', dialect.orderedTextType, (c) => c.notNull())
    .addColumn('digest', dialect.orderedTextType, (c) => c.notNull())
    .addColumn('source_type', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('schema', 'text')
    .addColumn('profile', 'text')
    // JSON array of {key, value}: the input's tags, such as mlflow.data.context.
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('experiment_inputs_pk', ['experiment_id', 'name', 'digest'])
    .execute();

  await db.schema.alterTable('experiment_models').addColumn('logged_model_id', 'text').execute();
  await db.schema.alterTable('experiment_models').addColumn('status', 'text').execute();
  await db.schema.alterTable('experiment_models').addColumn('model_type', 'text').execute();
  await db.schema.alterTable('experiment_models').addColumn('tags', 'text').execute();
  await db.schema.alterTable('experiment_models').addColumn('params', 'text').execute();
  await db.schema.alterTable('experiment_models').addColumn('step', 'bigint').execute();
  await db.schema.alterTable('experiment_models').addColumn('updated_at', 'bigint').execute();
  await db.schema
    .createIndex('experiment_models_logged_model_id')
    .on('experiment_models')
    .column('logged_model_id')
    .unique()
    .execute();

  await db.schema
    .alterTable('registry_models')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.alterTable('registry_versions').addColumn('number', 'bigint').execute();
  await db.schema.alterTable('registry_versions').addColumn('source', 'text').execute();
  await db.schema.alterTable('registry_versions').addColumn('run_link', 'text').execute();
  await db.schema.alterTable('registry_versions').addColumn('status', 'text').execute();
  await db.schema
    .alterTable('registry_versions')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  // Existing versions are numbered 1, 2, … per model in creation order (ties by id).
  await sql`update registry_versions set number = (
    select count(*) from registry_versions earlier
    where earlier.registry_model_id = registry_versions.registry_model_id
      and (earlier.created_at < registry_versions.created_at
        or (earlier.created_at = registry_versions.created_at and earlier.id <= registry_versions.id)))`.execute(db);
  await db.schema
    .createIndex('registry_versions_model_number')
    .on('registry_versions')
    .columns(['registry_model_id', 'number'])
    .unique()
    .execute();
  await db.schema
    .createTable('registry_aliases')
    .addColumn('registry_model_id', 'text', (c) => c.notNull().references('registry_models.id').onDelete('cascade'))
    .addColumn('alias', dialect.orderedTextType, (c) => c.notNull())
    .addColumn('version_id', 'text', (c) => c.notNull().references('registry_versions.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('registry_aliases_pk', ['registry_model_id', 'alias'])
    .execute();
  await db.schema.createIndex('registry_aliases_version').on('registry_aliases').column('version_id').execute();
}
