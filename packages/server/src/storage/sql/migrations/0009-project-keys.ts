import { type Kysely, type RawBuilder, sql } from 'kysely';
import { ENVIRONMENT_FIELDS } from '../../../core/experiment-query.js';
import type { SqlDialect } from '../dialect.js';

/**
 * The key catalogue of each project (metric, parameter, other, tag and system-details field
 * names, each with how many of the project's experiments have it), kept on write in the
 * transaction of the write (key-catalogue.ts). Counting at read time took 100–200 ms per source
 * at 100,000 experiments (a GROUP BY over every value, series and tag row of the project); this
 * table answers a page by index. An experiment counts in its home project and in every project
 * it is symlinked into, as project listings show it. For parameters and others the counts of
 * current values by type give the column's type.
 */
export async function projectKeys(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  await db.schema
    .createTable('project_keys')
    .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
    .addColumn('source', dialect.orderedTextType, (c) => c.notNull())
    .addColumn('name', dialect.orderedTextType, (c) => c.notNull())
    .addColumn('experiments', 'bigint', (c) => c.notNull())
    .addColumn('numbers', 'bigint', (c) => c.notNull())
    .addColumn('strings', 'bigint', (c) => c.notNull())
    .addColumn('booleans', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_keys_pk', ['project_id', 'source', 'name'])
    .execute();

  // Backfill: every key of every experiment, counted in each project the experiment is in.
  const members = sql`(select id as experiment_id, project_id from experiments
                       union select experiment_id, project_id from experiment_symlinks) m`;
  const typed = (type: string) => sql`sum(case when k.value_type = ${type} then 1 else 0 end)`;
  await sql`
    insert into project_keys (project_id, source, name, experiments, numbers, strings, booleans)
    select m.project_id, k.kind, k.name, count(*), ${typed('number')}, ${typed('string')}, ${typed('boolean')}
    from experiment_value_current k join ${members} on m.experiment_id = k.experiment_id
    group by m.project_id, k.kind, k.name
  `.execute(db);
  const untyped = (source: string, rows: RawBuilder<unknown>) => sql`
    insert into project_keys (project_id, source, name, experiments, numbers, strings, booleans)
    select m.project_id, cast(${source} as text), k.name, count(*), 0, 0, 0
    from ${rows} k join ${members} on m.experiment_id = k.experiment_id
    group by m.project_id, k.name
  `;
  await untyped('metric', sql`(select experiment_id, name from series)`).execute(db);
  await untyped('tag', sql`(select experiment_id, tag as name from experiment_tags)`).execute(db);
  const fields = ENVIRONMENT_FIELDS.map(
    (field) =>
      sql`select experiment_id, cast(${field} as text) as name from experiment_documents
          where kind = 'system-details' and ${dialect.jsonText(sql.ref('body'), field)} is not null`,
  );
  await untyped('system', sql`(${sql.join(fields, sql` union all `)})`).execute(db);
}
