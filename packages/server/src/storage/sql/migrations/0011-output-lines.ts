import { type Kysely, sql } from 'kysely';

/**
 * Output lines get their position in the experiment's output (`line_no`: 1, 2, 3, … in arrival
 * order, without gaps). `seq` orders them too but is shared with metrics, values and tags, so it
 * cannot say "line 5 023" or how many lines there are. With it, an output of a million lines is
 * paged by keyset (`line_no > n`), its length is one index lookup, and a stream-filtered page
 * reads only that stream's index entries.
 */
export async function outputLines(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('experiment_output')
    .addColumn('line_no', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  // UPDATE … FROM runs on PostgreSQL and on SQLite ≥ 3.33 (better-sqlite3 bundles a newer one).
  await sql`
    update experiment_output set line_no = numbered.line_no
    from (
      select experiment_id, seq, row_number() over (partition by experiment_id order by seq) as line_no
      from experiment_output
    ) as numbered
    where experiment_output.experiment_id = numbered.experiment_id and experiment_output.seq = numbered.seq
  `.execute(db);
  await db.schema
    .createIndex('experiment_output_line')
    .unique()
    .on('experiment_output')
    .columns(['experiment_id', 'line_no'])
    .execute();
  await db.schema
    .createIndex('experiment_output_stream')
    .on('experiment_output')
    .columns(['experiment_id', 'stderr', 'line_no'])
    .execute();
}
