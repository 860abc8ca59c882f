import { type Kysely, sql } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/**
 * What experiment search (Comet's project query, Foundry's search) reads, indexed so filters run
 * as semi-joins (`id IN (select experiment_id …)`) instead of per-experiment probes:
 * - `experiment_value_current`: the current (highest-seq) value of each parameter and "other",
 *   kept on append, with its number when the text is numeric;
 * - name indexes on series and tags, so a filter finds the experiments having a name without
 *   scanning every experiment's rows. The series index leaves the summary columns out: appends
 *   update those on every batch and must not pay for index maintenance.
 */
export async function experimentSearch(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  await db.schema
    .createTable('experiment_value_current')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', dialect.orderedTextType, (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('value_type', 'text', (c) => c.notNull())
    .addColumn('value_text', 'text', (c) => c.notNull())
    .addColumn('value_number', 'double precision')
    .addPrimaryKeyConstraint('experiment_value_current_pk', ['experiment_id', 'kind', 'name'])
    .execute();
  await db.schema
    .createIndex('experiment_value_current_number')
    .on('experiment_value_current')
    .columns(['kind', 'name', 'value_number'])
    .execute();
  await db.schema
    .createIndex('experiment_value_current_text')
    .on('experiment_value_current')
    .columns(['kind', 'name', 'value_text'])
    .execute();

  // Backfill from the full history: the highest seq per (experiment, kind, name) is current.
  await sql`
    insert into experiment_value_current (experiment_id, kind, name, seq, value_type, value_text, value_number)
    select v.experiment_id, v.kind, v.name, v.seq, v.value_type, v.value_text,
           case when v.value_type = 'number' then cast(v.value_text as double precision) end
    from experiment_values v
    where v.seq = (select max(w.seq) from experiment_values w
                   where w.experiment_id = v.experiment_id and w.kind = v.kind and w.name = v.name)
  `.execute(db);

  await db.schema.createIndex('series_name').on('series').columns(['name', 'experiment_id']).execute();
  await db.schema.createIndex('experiment_tags_tag').on('experiment_tags').columns(['tag', 'experiment_id']).execute();
}
