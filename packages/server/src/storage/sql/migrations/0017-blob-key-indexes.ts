import type { Kysely } from 'kysely';

/**
 * Indexes on every column that names a blob, so the blob sweep can ask "does any row refer to
 * these keys?" for a page of keys with index lookups instead of a scan of each table per page.
 */
export async function blobKeyIndexes(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('assets_blob_key').on('assets').column('blob_key').execute();
  await db.schema.createIndex('artifact_tables_blob_key').on('artifact_tables').column('blob_key').execute();
  await db.schema.createIndex('code_panels_blob_key').on('code_panels').column('blob_key').execute();
}
