import { type Kysely, sql } from 'kysely';
import { appendTailFrame, type StoredPoint } from '../../series/block-codec.js';
import type { SqlDialect } from '../dialect.js';

/** Series whose tails are moved per read: bounds memory whatever the store holds. */
const SERIES_PER_PASS = 200;

/**
 * A series' unsealed points move from `series_tail`, one row each, into the series row as
 * encoded frames (block-codec.ts `appendTailFrame`). Small-batch logging (MLflow's log-batch
 * sends ≤1000 points over tens of series) spent a third of its time inserting those rows, reading
 * them back and deleting them at sealing; a frame rides on the series row update every append
 * already makes. Existing tails become one frame per series, in offset order.
 */
export async function seriesTailFrames(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  await db.schema.alterTable('series').addColumn('tail_payload', dialect.binaryType).execute();

  let after = '';
  for (;;) {
    const series = (
      await sql<{ id: string }>`
        select id from series where tail_count > 0 and id > ${after} order by id limit ${SERIES_PER_PASS}
      `.execute(db)
    ).rows.map((row) => row.id);
    if (series.length === 0) break;
    after = series[series.length - 1] as string;
    const rows = (
      await sql<TailRow>`
        select series_id, "offset", value, step, epoch, "timestamp", context_id from series_tail
        where series_id in (${sql.join(series)}) order by series_id, "offset"
      `.execute(db)
    ).rows;
    const tails = new Map<string, StoredPoint[]>();
    for (const row of rows) {
      const points = tails.get(row.series_id) ?? [];
      points.push({
        offset: Number(row.offset),
        // NULL stood for NaN in the row's value column.
        value: row.value === null ? Number.NaN : Number(row.value),
        step: row.step === null ? null : Number(row.step),
        epoch: row.epoch === null ? null : Number(row.epoch),
        timestamp: Number(row.timestamp),
        contextId: Number(row.context_id),
      });
      tails.set(row.series_id, points);
    }
    for (const [id, points] of tails) {
      await sql`update series set tail_payload = ${appendTailFrame(null, points)} where id = ${id}`.execute(db);
    }
  }

  await db.schema.dropTable('series_tail').execute();
}

interface TailRow {
  series_id: string;
  offset: number | string;
  value: number | string | null;
  step: number | string | null;
  epoch: number | string | null;
  timestamp: number | string;
  context_id: number | string;
}
