import type { Kysely } from 'kysely';
import type { SqlDialect } from '../dialect.js';

export async function initialSchema(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  // Names that lists are ordered by sort bytewise on both backends (see SqlDialect).
  const orderedText = dialect.orderedTextType;

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('email', 'text')
    .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('default_workspace_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('workspaces')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', orderedText, (c) => c.notNull().unique())
    .addColumn('created_by', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('workspace_members')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('workspace_members_pk', ['workspace_id', 'user_id'])
    .execute();
  await db.schema.createIndex('workspace_members_user').on('workspace_members').column('user_id').execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();

  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('name', orderedText, (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('is_public', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('notes', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('owner_user_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('projects_workspace_name', ['workspace_id', 'name'])
    .execute();

  await db.schema
    .createTable('experiments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id'))
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('archived', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('start_time', 'bigint', (c) => c.notNull())
    .addColumn('end_time', 'bigint')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('optimization_id', 'text')
    .addColumn('file_path', 'text')
    .addColumn('file_name', 'text')
    .addColumn('last_heartbeat', 'bigint')
    .addColumn('has_crashed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    // Per-experiment sequence behind metric offsets, value seqs and output order.
    .addColumn('next_seq', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('experiments_project').on('experiments').columns(['project_id', 'created_at']).execute();
  await db.schema.createIndex('experiments_optimization').on('experiments').column('optimization_id').execute();

  const experimentRef = (table: string) =>
    db.schema
      .createTable(table)
      .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'));

  await experimentRef('experiment_symlinks')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('experiment_symlinks_pk', ['experiment_id', 'project_id'])
    .execute();
  await db.schema.createIndex('experiment_symlinks_project').on('experiment_symlinks').column('project_id').execute();

  await experimentRef('experiment_documents')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('experiment_documents_pk', ['experiment_id', 'kind'])
    .execute();

  await experimentRef('experiment_tags')
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('experiment_tags_pk', ['experiment_id', 'tag'])
    .execute();

  await experimentRef('experiment_output')
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('stderr', 'integer', (c) => c.notNull())
    .addColumn('context', 'text')
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('client_offset', 'bigint')
    .addPrimaryKeyConstraint('experiment_output_pk', ['experiment_id', 'seq'])
    .execute();

  await experimentRef('experiment_values')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', orderedText, (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('value_type', 'text', (c) => c.notNull())
    .addColumn('value_text', 'text', (c) => c.notNull())
    .addColumn('step', 'bigint')
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('context', 'text')
    .addPrimaryKeyConstraint('experiment_values_pk', ['experiment_id', 'kind', 'name', 'seq'])
    .execute();

  // One row per series keeps the exact summary (min/max/last and the points that supplied them)
  // so summaries never scan points. Metric value columns are nullable because NULL stands for NaN:
  // SQLite stores a bound NaN as NULL, and a point always has a value.
  await experimentRef('series')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', orderedText, (c) => c.notNull())
    .addColumn('contexts', 'text', (c) => c.notNull())
    .addColumn('point_count', 'bigint', (c) => c.notNull())
    .addColumn('block_count', 'integer', (c) => c.notNull())
    .addColumn('tail_count', 'integer', (c) => c.notNull())
    .addColumn('min_value', 'double precision')
    .addColumn('min_step', 'bigint')
    .addColumn('min_timestamp', 'bigint', (c) => c.notNull())
    .addColumn('min_context', 'text')
    .addColumn('min_offset', 'bigint', (c) => c.notNull())
    .addColumn('max_value', 'double precision')
    .addColumn('max_step', 'bigint')
    .addColumn('max_timestamp', 'bigint', (c) => c.notNull())
    .addColumn('max_context', 'text')
    .addColumn('max_offset', 'bigint', (c) => c.notNull())
    .addColumn('last_value', 'double precision')
    .addColumn('last_step', 'bigint')
    .addColumn('last_timestamp', 'bigint', (c) => c.notNull())
    .addColumn('last_context', 'text')
    .addColumn('last_offset', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('series_experiment_name', ['experiment_id', 'name'])
    .execute();

  // Sealed points: one row per block of up to BLOCK_SIZE points, columnar and compressed, with the
  // block's summary so downsampling and range reads can skip or summarise blocks without decoding.
  await db.schema
    .createTable('series_blocks')
    .addColumn('series_id', 'text', (c) => c.notNull().references('series.id').onDelete('cascade'))
    .addColumn('block_no', 'integer', (c) => c.notNull())
    .addColumn('point_count', 'integer', (c) => c.notNull())
    .addColumn('first_offset', 'bigint', (c) => c.notNull())
    .addColumn('last_offset', 'bigint', (c) => c.notNull())
    .addColumn('min_step', 'bigint')
    .addColumn('max_step', 'bigint')
    // Extremes of the block's non-NaN values; NULL when the block holds NaN alone.
    .addColumn('min_value', 'double precision')
    .addColumn('max_value', 'double precision')
    .addColumn('payload', dialect.binaryType, (c) => c.notNull())
    // Min/max points per CHUNK_SIZE run (chunk-summary.ts): downsampling reads these, not payloads.
    .addColumn('chunk_summaries', dialect.binaryType, (c) => c.notNull())
    .addPrimaryKeyConstraint('series_blocks_pk', ['series_id', 'block_no'])
    .execute();

  // Points not yet sealed into a block (fewer than BLOCK_SIZE per series).
  await db.schema
    .createTable('series_tail')
    .addColumn('series_id', 'text', (c) => c.notNull().references('series.id').onDelete('cascade'))
    .addColumn('offset', 'bigint', (c) => c.notNull())
    .addColumn('value', 'double precision')
    .addColumn('step', 'bigint')
    .addColumn('epoch', 'bigint')
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('context_id', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('series_tail_pk', ['series_id', 'offset'])
    .execute();

  await experimentRef('experiment_models')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', orderedText, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('experiment_models_name', ['experiment_id', 'name'])
    .execute();

  await experimentRef('assets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('file_size', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('step', 'bigint')
    .addColumn('epoch', 'bigint')
    .addColumn('context', 'text')
    .addColumn('dir', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text')
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('remote', 'integer', (c) => c.notNull())
    .addColumn('link', 'text')
    .addColumn('grouping_name', 'text')
    .addColumn('artifact_version_id', 'text')
    .addColumn('blob_key', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('assets_experiment').on('assets').columns(['experiment_id', 'created_at']).execute();
}
