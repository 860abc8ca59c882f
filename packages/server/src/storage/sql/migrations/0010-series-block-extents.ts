import type { Kysely } from 'kysely';

/**
 * Timestamp and epoch extents per sealed block, beside the step extents 0001 keeps, so that
 * chart reads on a wall-clock, relative or epoch axis fetch only the blocks their range touches.
 * Blocks sealed before this migration keep NULL in all four columns and are decoded whenever they
 * belong to a read series (a new block always has a timestamp extent, which tells the two apart);
 * they are not backfilled, as that would decode every block of the database during the upgrade.
 */
export async function seriesBlockExtents(db: Kysely<unknown>): Promise<void> {
  for (const column of ['min_timestamp', 'max_timestamp', 'min_epoch', 'max_epoch']) {
    await db.schema.alterTable('series_blocks').addColumn(column, 'bigint').execute();
  }
}
