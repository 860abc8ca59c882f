import type { Kysely } from 'kysely';
import type { ClientBatchRepository, ClientStream } from '../../core/store.port.js';
import type { Database } from './database.js';

export class SqlClientBatchRepository implements ClientBatchRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async markApplied(experimentId: string, stream: ClientStream, batchKey: string, at: number): Promise<boolean> {
    // ON CONFLICT DO NOTHING: on PostgreSQL a concurrent transaction inserting the same key waits
    // for this one, then inserts nothing, so exactly one of them applies the batch.
    const result = await this.db
      .insertInto('client_batches')
      .values({ experiment_id: experimentId, stream, batch_key: batchKey, applied_at: at })
      .onConflict((oc) => oc.columns(['experiment_id', 'stream', 'batch_key']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async lastOutputOffset(experimentId: string): Promise<number> {
    const row = await this.db
      .selectFrom('experiment_output')
      .select((eb) => eb.fn.max('client_offset').as('last'))
      .where('experiment_id', '=', experimentId)
      .executeTakeFirst();
    return Number(row?.last ?? 0);
  }
}
