import type { Kysely } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/**
 * Table artifacts: metadata here, rows in the blob store. `columns` and `row_index` are JSON
 * texts read and written whole with the row; `row_index` holds byte offsets into the blob so a
 * page of rows is one ranged blob read.
 */
export async function artifactTables(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  await db.schema
    .createTable('artifact_tables')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('name', dialect.orderedTextType, (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('columns', 'text', (c) => c.notNull())
    .addColumn('row_count', 'bigint', (c) => c.notNull())
    .addColumn('size_bytes', 'bigint', (c) => c.notNull())
    .addColumn('blob_key', 'text', (c) => c.notNull())
    .addColumn('row_index', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('artifact_tables_pk', ['experiment_id', 'name'])
    .execute();
}
