import type { Kysely } from 'kysely';

/**
 * Client batches already applied, for exactly-once logging under retries: a row per batch per
 * experiment and stream, written in the transaction that stores the batch's data. Rows go with
 * their experiment.
 */
export async function clientlib(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('client_batches')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('batch_key', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('client_batches_pk', ['experiment_id', 'stream', 'batch_key'])
    .execute();
}
