import { type Kysely, sql } from 'kysely';
import type { SqlDialect } from '../dialect.js';

/**
 * Every key of the series tables starts with `experiment_id`, so that the tables can later be
 * distributed by experiment (Citus, docs/operations/scale-out.md) without another rewrite: a
 * distributed table's PRIMARY KEY, UNIQUE and FOREIGN KEY constraints must include its
 * distribution column. The layout after this migration:
 *
 * - `series`: PRIMARY KEY (experiment_id, id), UNIQUE (experiment_id, name),
 *   experiment_id → experiments(id). A series id is unique within its experiment only (it is
 *   still 64 random bits, so in practice everywhere).
 * - `series_blocks`: gains `experiment_id`, backfilled from its series; PRIMARY KEY
 *   (experiment_id, series_id, block_no), (experiment_id, series_id) → series(experiment_id, id)
 *   ON DELETE CASCADE.
 *
 * `series_tail` is gone since 0014 (tails are frames on the series row). Both backfills are one
 * INSERT…SELECT / UPDATE…FROM, whatever the size of the database.
 */
export async function seriesExperimentKeys(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  if (dialect.name === 'postgres') return alterOnPostgres(db);
  // Kysely's migrator runs SQLite migrations outside a transaction: this one copies and drops
  // whole tables, so it brings its own.
  if (db.isTransaction) return rebuildOnSqlite(db, dialect);
  return db.transaction().execute((trx) => rebuildOnSqlite(trx, dialect));
}

/** PostgreSQL alters keys in place; the migrator's transaction makes the whole of it atomic. */
async function alterOnPostgres(db: Kysely<unknown>): Promise<void> {
  await sql`alter table series_blocks add column experiment_id text`.execute(db);
  await sql`update series_blocks b set experiment_id = s.experiment_id from series s where s.id = b.series_id`.execute(
    db,
  );
  await sql`alter table series_blocks alter column experiment_id set not null`.execute(db);
  // The names PostgreSQL gave the column constraints of 0001.
  await sql`alter table series_blocks drop constraint series_blocks_series_id_fkey`.execute(db);
  await sql`alter table series_blocks drop constraint series_blocks_pk`.execute(db);
  await sql`alter table series drop constraint series_pkey`.execute(db);
  await sql`alter table series add constraint series_pk primary key (experiment_id, id)`.execute(db);
  await sql`alter table series_blocks add constraint series_blocks_pk primary key (experiment_id, series_id, block_no)`.execute(
    db,
  );
  await sql`alter table series_blocks add constraint series_blocks_series foreign key (experiment_id, series_id)
            references series (experiment_id, id) on delete cascade`.execute(db);
}

/**
 * SQLite cannot change a primary key: both tables are rebuilt (create, copy, drop, rename). The
 * old child is dropped before the old parent, so that with foreign_keys=ON dropping `series`
 * cascades into nothing; renaming `series_new` rewrites the new blocks' REFERENCES clause.
 */
async function rebuildOnSqlite(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  await db.schema
    .createTable('series_new')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', dialect.orderedTextType, (c) => c.notNull())
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
    // Added by 0013 and 0014, nullable as they were added.
    .addColumn('latest_value', 'double precision')
    .addColumn('latest_step', 'bigint')
    .addColumn('latest_timestamp', 'bigint')
    .addColumn('latest_context', 'text')
    .addColumn('latest_offset', 'bigint')
    .addColumn('tail_payload', dialect.binaryType)
    .addPrimaryKeyConstraint('series_pk', ['experiment_id', 'id'])
    .addUniqueConstraint('series_experiment_name', ['experiment_id', 'name'])
    .execute();
  const seriesColumns = sql.raw(SERIES_COLUMNS.join(', '));
  await sql`insert into series_new (${seriesColumns}) select ${seriesColumns} from series`.execute(db);

  await db.schema
    .createTable('series_blocks_new')
    .addColumn('experiment_id', 'text', (c) => c.notNull())
    .addColumn('series_id', 'text', (c) => c.notNull())
    .addColumn('block_no', 'integer', (c) => c.notNull())
    .addColumn('point_count', 'integer', (c) => c.notNull())
    .addColumn('first_offset', 'bigint', (c) => c.notNull())
    .addColumn('last_offset', 'bigint', (c) => c.notNull())
    .addColumn('min_step', 'bigint')
    .addColumn('max_step', 'bigint')
    .addColumn('min_value', 'double precision')
    .addColumn('max_value', 'double precision')
    .addColumn('payload', dialect.binaryType, (c) => c.notNull())
    .addColumn('chunk_summaries', dialect.binaryType, (c) => c.notNull())
    // Added by 0010.
    .addColumn('min_timestamp', 'bigint')
    .addColumn('max_timestamp', 'bigint')
    .addColumn('min_epoch', 'bigint')
    .addColumn('max_epoch', 'bigint')
    .addPrimaryKeyConstraint('series_blocks_pk', ['experiment_id', 'series_id', 'block_no'])
    .addForeignKeyConstraint(
      'series_blocks_series',
      ['experiment_id', 'series_id'],
      'series_new',
      ['experiment_id', 'id'],
      (c) => c.onDelete('cascade'),
    )
    .execute();
  const blockColumns = sql.raw(BLOCK_COLUMNS.join(', '));
  const fromBlocks = sql.raw(BLOCK_COLUMNS.map((column) => `b.${column}`).join(', '));
  await sql`insert into series_blocks_new (experiment_id, ${blockColumns})
            select s.experiment_id, ${fromBlocks} from series_blocks b join series s on s.id = b.series_id`.execute(db);

  await db.schema.dropTable('series_blocks').execute();
  await db.schema.dropTable('series').execute();
  await sql`alter table series_new rename to series`.execute(db);
  await sql`alter table series_blocks_new rename to series_blocks`.execute(db);
  // The index of 0003, dropped with the old table.
  await db.schema.createIndex('series_name').on('series').columns(['name', 'experiment_id']).execute();
}

const SERIES_COLUMNS = [
  'experiment_id',
  'id',
  'name',
  'contexts',
  'point_count',
  'block_count',
  'tail_count',
  ...['min', 'max', 'last', 'latest'].flatMap((p) =>
    ['value', 'step', 'timestamp', 'context', 'offset'].map((c) => `${p}_${c}`),
  ),
  'tail_payload',
];

const BLOCK_COLUMNS = [
  'series_id',
  'block_no',
  'point_count',
  'first_offset',
  'last_offset',
  'min_step',
  'max_step',
  'min_value',
  'max_value',
  'payload',
  'chunk_summaries',
  'min_timestamp',
  'max_timestamp',
  'min_epoch',
  'max_epoch',
];
