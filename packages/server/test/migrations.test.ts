import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kysely, Migrator, sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { SqlSeriesRepository } from '../src/storage/series/series.repository.js';
import type { Database } from '../src/storage/sql/database.js';
import { type OpenedDatabase, openPostgres, openSqlite } from '../src/storage/sql/dialect.js';
import { migrationProvider } from '../src/storage/sql/migrations/index.js';
import { backends, POSTGRES_URL } from './support/test-context.js';

/** Migrations that reshape existing data are tested on data written under the previous schema. */
describe.each(backends)('migrations on existing data (%s)', (backend) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function open(): Promise<OpenedDatabase> {
    if (backend === 'sqlite') {
      const dir = await mkdtemp(join(tmpdir(), 'cairn-migrate-'));
      const opened = openSqlite(join(dir, 'cairn.db'), { synchronous: 'normal' });
      cleanups.push(
        () => rm(dir, { recursive: true, force: true }),
        () => opened.db.destroy(),
      );
      return opened;
    }
    const schema = `m_${Math.random().toString(36).slice(2, 12)}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    const opened = openPostgres(`${POSTGRES_URL}?schema=${schema}`);
    cleanups.push(async () => {
      await admin.query(`drop schema ${schema} cascade`);
      await admin.end();
    });
    cleanups.push(() => opened.db.destroy());
    return opened;
  }

  /** A fresh database migrated up to `migration`, and its migrator for the rest. */
  async function openAt(
    migration: string,
  ): Promise<{ db: OpenedDatabase['db']; dialect: OpenedDatabase['dialect']; migrator: Migrator }> {
    const { db, dialect } = await open();
    const migrationTableSchema =
      dialect.name === 'postgres'
        ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema
        : undefined;
    const migrator = new Migrator({ db, provider: migrationProvider(dialect), migrationTableSchema });
    expect((await migrator.migrateTo(migration)).error).toBeUndefined();
    return { db, dialect, migrator };
  }

  it('0003 backfills the current value of every parameter and other', async () => {
    const { db, migrator } = await openAt('0002-project-share-links');

    await sql`insert into users (id, name, created_at) values ('u', 'ada', 0)`.execute(db);
    await sql`insert into workspaces (id, name, created_by, created_at) values ('w', 'ws', 'u', 0)`.execute(db);
    await sql`insert into projects (id, workspace_id, name, owner_user_id, created_at, updated_at)
              values ('p', 'w', 'proj', 'u', 0, 0)`.execute(db);
    await sql`insert into experiments (id, project_id, workspace_id, status, start_time, created_by, created_at, updated_at)
              values ('e', 'p', 'w', 'RUNNING', 0, 'u', 0, 0)`.execute(db);
    const value = (kind: string, name: string, seq: number, type: string, text: string) =>
      sql`insert into experiment_values (experiment_id, kind, name, seq, value_type, value_text, timestamp)
          values ('e', ${kind}, ${name}, ${seq}, ${type}, ${text}, 0)`.execute(db);
    await value('param', 'lr', 1, 'number', '0.5');
    await value('param', 'lr', 4, 'number', '0.01');
    await value('param', 'opt', 2, 'string', 'adam');
    await value('other', 'lr', 3, 'string', 'not a param');

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const { rows } = await sql<{
      kind: string;
      name: string;
      seq: number;
      value_text: string;
      value_number: number | null;
    }>`
      select kind, name, seq, value_text, value_number from experiment_value_current order by kind, name
    `.execute(db);
    expect(rows.map((r) => ({ ...r, seq: Number(r.seq) }))).toEqual([
      { kind: 'other', name: 'lr', seq: 3, value_text: 'not a param', value_number: null },
      { kind: 'param', name: 'lr', seq: 4, value_text: '0.01', value_number: 0.01 },
      { kind: 'param', name: 'opt', seq: 2, value_text: 'adam', value_number: null },
    ]);
  });

  it('0019 numbers existing webhook deliveries in stored order, and new ones after them', async () => {
    const { db, migrator } = await openAt('0017-blob-key-indexes');
    await sql`insert into users (id, name, created_at) values ('u', 'ada', 0)`.execute(db);
    await sql`insert into workspaces (id, name, created_by, created_at) values ('w', 'w', 'u', 0)`.execute(db);
    const delivery = (id: string) =>
      sql`insert into webhook_deliveries (id, workspace_id, event_type, payload, url, headers, status, attempts,
            next_attempt_at, created_at)
          values (${id}, 'w', 'STAGE_ADDED', '{}', 'https://hooks.example/', '{}', 'pending', 0, 0, 0)`.execute(db);
    // Ids against their recording order: seq must follow the order, not the ids.
    for (const id of ['c', 'a', 'b']) await delivery(id);

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    await delivery('0');
    const { rows } = await sql<{ id: string; seq: number; claimed: number }>`
      select id, seq, claimed from webhook_deliveries order by seq
    `.execute(db);
    expect(rows.map((r) => [r.id, Number(r.claimed)])).toEqual([
      ['c', 0],
      ['a', 0],
      ['b', 0],
      ['0', 0],
    ]);
    expect(new Set(rows.map((r) => Number(r.seq))).size).toBe(4);
    const epoch = await sql<{ epoch: number }>`select epoch from security_epoch where id = 1`.execute(db);
    expect(epoch.rows.map((r) => Number(r.epoch))).toEqual([0]);
  });

  it('0016 fills the workspace usage counter with the bytes already stored per workspace', async () => {
    const { db, migrator } = await openAt('0014-series-tail-frames');

    await sql`insert into users (id, name, created_at) values ('u', 'ada', 0)`.execute(db);
    for (const w of ['w1', 'w2', 'w3']) {
      await sql`insert into workspaces (id, name, created_by, created_at) values (${w}, ${w}, 'u', 0)`.execute(db);
      await sql`insert into projects (id, workspace_id, name, owner_user_id, created_at, updated_at)
                values (${`p${w}`}, ${w}, 'proj', 'u', 0, 0)`.execute(db);
    }
    const experiment = (id: string, w: string) =>
      sql`insert into experiments (id, project_id, workspace_id, status, start_time, created_by, created_at, updated_at)
          values (${id}, ${`p${w}`}, ${w}, 'RUNNING', 0, 'u', 0, 0)`.execute(db);
    await experiment('e1', 'w1');
    await experiment('e2', 'w1');
    await experiment('e3', 'w2');
    const asset = (id: string, e: string, size: number) =>
      sql`insert into assets (id, experiment_id, file_name, file_size, type, dir, tags, remote, created_at)
          values (${id}, ${e}, 'f', ${size}, 'asset', 'assets', '[]', 0, 0)`.execute(db);
    await asset('a1', 'e1', 100);
    await asset('a2', 'e2', 20);
    await asset('a3', 'e3', 3);

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const { rows } = await sql<{ workspace_id: string; bytes: number }>`
      select workspace_id, bytes from workspace_usage order by workspace_id
    `.execute(db);
    expect(rows.map((r) => ({ ...r, bytes: Number(r.bytes) }))).toEqual([
      { workspace_id: 'w1', bytes: 120 },
      { workspace_id: 'w2', bytes: 3 },
    ]);
  });

  it('0011 numbers existing output lines per experiment in seq order', async () => {
    const { db, migrator } = await openAt('0008-clientlib');

    await sql`insert into users (id, name, created_at) values ('u', 'ada', 0)`.execute(db);
    await sql`insert into workspaces (id, name, created_by, created_at) values ('w', 'ws', 'u', 0)`.execute(db);
    await sql`insert into projects (id, workspace_id, name, owner_user_id, created_at, updated_at)
              values ('p', 'w', 'proj', 'u', 0, 0)`.execute(db);
    for (const id of ['e1', 'e2', 'e3']) {
      await sql`insert into experiments (id, project_id, workspace_id, status, start_time, created_by, created_at, updated_at)
                values (${id}, 'p', 'w', 'RUNNING', 0, 'u', 0, 0)`.execute(db);
    }
    const line = (experiment: string, seq: number, text: string) =>
      sql`insert into experiment_output (experiment_id, seq, text, stderr, timestamp)
          values (${experiment}, ${seq}, ${text}, 0, 0)`.execute(db);
    await line('e1', 7, 'third');
    await line('e1', 2, 'first');
    await line('e2', 3, 'only');
    await line('e1', 5, 'second');

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const { rows } = await sql<{ experiment_id: string; line_no: number | string; text: string }>`
      select experiment_id, line_no, text from experiment_output order by experiment_id, seq
    `.execute(db);
    expect(rows.map((r) => [r.experiment_id, Number(r.line_no), r.text])).toEqual([
      ['e1', 1, 'first'],
      ['e1', 2, 'second'],
      ['e1', 3, 'third'],
      ['e2', 1, 'only'],
    ]);
  });

  it('0009 backfills the key catalogue of every project, symlinked experiments included', async () => {
    const { db, migrator } = await openAt('0008-clientlib');

    await sql`insert into users (id, name, created_at) values ('u', 'ada', 0)`.execute(db);
    await sql`insert into workspaces (id, name, created_by, created_at) values ('w', 'ws', 'u', 0)`.execute(db);
    for (const project of ['p', 'q']) {
      await sql`insert into projects (id, workspace_id, name, owner_user_id, created_at, updated_at)
                values (${project}, 'w', ${project}, 'u', 0, 0)`.execute(db);
    }
    for (const [id, project] of [
      ['e1', 'p'],
      ['e2', 'p'],
      ['e3', 'q'],
    ]) {
      await sql`insert into experiments (id, project_id, workspace_id, status, start_time, created_by, created_at, updated_at)
                values (${id}, ${project}, 'w', 'RUNNING', 0, 'u', 0, 0)`.execute(db);
    }
    await sql`insert into experiment_symlinks (experiment_id, project_id) values ('e1', 'q')`.execute(db);
    const current = (id: string, kind: string, name: string, type: string, text: string) =>
      sql`insert into experiment_value_current (experiment_id, kind, name, seq, value_type, value_text)
          values (${id}, ${kind}, ${name}, 0, ${type}, ${text})`.execute(db);
    await current('e1', 'param', 'lr', 'number', '0.1');
    await current('e2', 'param', 'lr', 'string', 'auto');
    await current('e2', 'other', 'seed', 'number', '1');
    await sql`insert into series (id, experiment_id, name, contexts, point_count, block_count, tail_count,
                min_timestamp, min_offset, max_timestamp, max_offset, last_timestamp, last_offset)
              values ('s1', 'e1', 'loss', '[]', 1, 0, 1, 0, 0, 0, 0, 0, 0)`.execute(db);
    await sql`insert into experiment_tags (experiment_id, seq, tag) values ('e3', 0, 'x'), ('e1', 1, 'x')`.execute(db);
    await sql`insert into experiment_documents (experiment_id, kind, body, updated_at)
              values ('e2', 'system-details', ${JSON.stringify({ os: 'Linux', pid: 4, ip: null })}, 0),
                     ('e1', 'git-metadata', ${JSON.stringify({ os: 'not system' })}, 0)`.execute(db);

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const { rows } = await sql<{
      project_id: string;
      source: string;
      name: string;
      experiments: number;
      numbers: number;
      strings: number;
      booleans: number;
    }>`
      select project_id, source, name, experiments, numbers, strings, booleans from project_keys
      order by project_id, source, name
    `.execute(db);
    const key = (project: string, source: string, name: string, experiments: number, numbers = 0, strings = 0) => ({
      project_id: project,
      source,
      name,
      experiments,
      numbers,
      strings,
      booleans: 0,
    });
    expect(
      rows.map((r) => ({
        ...r,
        experiments: Number(r.experiments),
        numbers: Number(r.numbers),
        strings: Number(r.strings),
        booleans: Number(r.booleans),
      })),
    ).toEqual([
      key('p', 'metric', 'loss', 1),
      key('p', 'other', 'seed', 1, 1),
      key('p', 'param', 'lr', 2, 1, 1),
      key('p', 'system', 'os', 1),
      key('p', 'system', 'pid', 1),
      key('p', 'tag', 'x', 1),
      key('q', 'metric', 'loss', 1),
      key('q', 'param', 'lr', 1, 1),
      key('q', 'tag', 'x', 2),
    ]);
  });
  it('0013 numbers existing registry versions per model in creation order, ties by id', async () => {
    const { db, migrator } = await openAt('0012-sessions');

    await sql`insert into users (id, name, created_at) values ('u', 'ada', 0)`.execute(db);
    await sql`insert into workspaces (id, name, created_by, created_at) values ('w', 'ws', 'u', 0)`.execute(db);
    for (const model of ['m1', 'm2']) {
      await sql`insert into registry_models (id, workspace_id, name, created_by, created_at, updated_at)
                values (${model}, 'w', ${model}, 'u', 0, 0)`.execute(db);
    }
    const version = (id: string, model: string, text: string, createdAt: number) =>
      sql`insert into registry_versions (id, registry_model_id, version, experiment_id, experiment_model_name,
            created_by, created_at, updated_at)
          values (${id}, ${model}, ${text}, 'e', 'net', 'u', ${createdAt}, ${createdAt})`.execute(db);
    await version('v-late', 'm1', '0.1.0', 30);
    await version('v-b', 'm1', '2.0.0', 10);
    await version('v-a', 'm1', '1.0.0', 10);
    await version('v-only', 'm2', '5.0.0', 20);

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const { rows } = await sql<{ id: string; number: number | string; tags: string }>`
      select id, number, tags from registry_versions order by id
    `.execute(db);
    expect(rows.map((r) => [r.id, Number(r.number), r.tags])).toEqual([
      ['v-a', 1, '{}'],
      ['v-b', 2, '{}'],
      ['v-late', 3, '{}'],
      ['v-only', 1, '{}'],
    ]);
    const model = await sql<{ tags: string }>`select tags from registry_models where id = 'm1'`.execute(db);
    expect(model.rows[0]?.tags).toBe('{}');
  });

  it('0014 moves every tail row into its series as one frame, read back and appended to as before', async () => {
    const { db, dialect, migrator } = await openAt('0013-mlflow');

    await sql`insert into users (id, name, created_at) values ('u', 'ada', 0)`.execute(db);
    await sql`insert into workspaces (id, name, created_by, created_at) values ('w', 'ws', 'u', 0)`.execute(db);
    await sql`insert into projects (id, workspace_id, name, owner_user_id, created_at, updated_at)
              values ('p', 'w', 'proj', 'u', 0, 0)`.execute(db);
    await sql`insert into experiments (id, project_id, workspace_id, status, start_time, created_by, created_at, updated_at)
              values ('e', 'p', 'w', 'RUNNING', 0, 'u', 0, 0)`.execute(db);
    const series = (id: string, name: string, tailCount: number) =>
      sql`insert into series (id, experiment_id, name, contexts, point_count, block_count, tail_count,
            min_value, min_timestamp, min_offset, max_value, max_timestamp, max_offset,
            last_value, last_timestamp, last_offset, latest_value, latest_timestamp, latest_offset)
          values (${id}, 'e', ${name}, '["","train"]', ${tailCount}, 0, ${tailCount},
            1, 10, 0, 2, 10, 0, 2, 12, 2, 2, 12, 2)`.execute(db);
    await series('s1', 'loss', 3);
    await series('s2', 'acc', 0);
    // Inserted out of order: the frame must follow offsets. A NULL value stood for NaN.
    await sql`insert into series_tail (series_id, "offset", value, step, epoch, "timestamp", context_id) values
              ('s1', 2, 2, 7, null, 12, 0), ('s1', 0, 1, 5, 1, 10, 0), ('s1', 1, null, null, 1, 11, 1)`.execute(db);

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const repository = new SqlSeriesRepository(db as unknown as Kysely<Database>, dialect);
    const point = (
      offset: number,
      value: number,
      step: number | null,
      epoch: number | null,
      context: string | null,
    ) => ({
      offset,
      value,
      step,
      epoch,
      timestamp: 10 + offset,
      context,
    });
    expect(await repository.readPoints('e', 'loss')).toEqual([
      point(0, 1, 5, 1, null),
      point(1, Number.NaN, null, 1, 'train'),
      point(2, 2, 7, null, null),
    ]);
    expect(await repository.readPoints('e', 'acc')).toEqual([]);
    await expect(sql`select 1 from series_tail`.execute(db)).rejects.toThrow();

    await sql`update experiments set next_seq = 3 where id = 'e'`.execute(db);
    await repository.append('e', [{ name: 'loss', value: 3, step: 8, epoch: null, timestamp: 13, context: null }]);
    expect((await repository.readPoints('e', 'loss', { offset: 2 })).map((p) => [p.offset, p.value])).toEqual([
      [2, 2],
      [3, 3],
    ]);
  });
  it('0018 puts experiment_id in every key of the series tables; every point reads back as before', async () => {
    // The data is written by the current repository into a database at the latest version, then
    // copied row for row (blocks without experiment_id) into one at 0017: sealed blocks, shorter
    // blocks and tail frames exactly as appends leave them.
    const reference = await openAt('0017-blob-key-indexes');
    expect((await reference.migrator.migrateToLatest()).error).toBeUndefined();
    const { db, dialect, migrator } = await openAt('0017-blob-key-indexes');
    for (const target of [reference.db, db]) {
      await sql`insert into users (id, name, created_at) values ('u', 'ada', 0)`.execute(target);
      await sql`insert into workspaces (id, name, created_by, created_at) values ('w', 'ws', 'u', 0)`.execute(target);
      await sql`insert into projects (id, workspace_id, name, owner_user_id, created_at, updated_at)
                values ('p', 'w', 'proj', 'u', 0, 0)`.execute(target);
      for (const id of ['e1', 'e2']) {
        await sql`insert into experiments (id, project_id, workspace_id, status, start_time, created_by, created_at, updated_at)
                  values (${id}, 'p', 'w', 'RUNNING', 0, 'u', 0, 0)`.execute(target);
      }
    }
    const written = new SqlSeriesRepository(reference.db, reference.dialect);
    const points = (name: string, count: number, from: number) =>
      Array.from({ length: count }, (_, i) => ({
        name,
        // NaN now and then: stored as NULL in summaries, as a bit pattern in blocks and tails.
        value: (from + i) % 97 === 0 ? Number.NaN : Math.sin(from + i) * 100,
        step: (from + i) % 5 === 0 ? null : from + i,
        epoch: Math.floor((from + i) / 1000),
        timestamp: 1_700_000_000_000 + (from + i) * 10,
        context: (from + i) % 3 === 0 ? 'train' : null,
      }));
    // e1/loss: two full blocks, a shorter one and a tail; e1/acc: a tail; e2/loss: a short block
    // and a tail (same name, other experiment).
    await written.append('e1', points('loss', 9000, 0));
    await written.append('e1', [...points('loss', 100, 9000), ...points('acc', 50, 0)]);
    await written.append('e2', points('loss', 300, 0));
    await written.append('e2', points('loss', 20, 300));

    const seriesRows = await reference.db.selectFrom('series').selectAll().execute();
    const blockRows = await reference.db
      .selectFrom('series_blocks')
      .select(BLOCK_COLUMNS_AT_0017)
      .orderBy('series_id')
      .orderBy('block_no')
      .execute();
    expect(blockRows.length).toBe(4);
    expect(seriesRows.filter((row) => row.tail_payload !== null).length).toBe(3);
    const old = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
    await old.insertInto('series').values(seriesRows).execute();
    await old.insertInto('series_blocks').values(blockRows).execute();
    for (const { id, next_seq } of await reference.db.selectFrom('experiments').select(['id', 'next_seq']).execute()) {
      await old.updateTable('experiments').set({ next_seq }).where('id', '=', id).execute();
    }

    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const migrated = new SqlSeriesRepository(db, dialect);
    for (const [experiment, name, count] of [
      ['e1', 'loss', 9100],
      ['e1', 'acc', 50],
      ['e2', 'loss', 320],
    ] as const) {
      const expected = await written.readPoints(experiment, name);
      expect(expected.length).toBe(count);
      expect(await migrated.readPoints(experiment, name)).toEqual(expected);
      expect(await migrated.readPoints(experiment, name, { offset: 4000, limit: 5000 })).toEqual(
        await written.readPoints(experiment, name, { offset: 4000, limit: 5000 }),
      );
      expect(await migrated.readPoints(experiment, name, { stepFrom: 4100, stepTo: 8300 })).toEqual(
        await written.readPoints(experiment, name, { stepFrom: 4100, stepTo: 8300 }),
      );
      expect(await migrated.downsample(experiment, name, 20)).toEqual(await written.downsample(experiment, name, 20));
    }
    for (const experiment of ['e1', 'e2']) {
      expect(await migrated.listSummaries(experiment)).toEqual(await written.listSummaries(experiment));
    }
    const chart = {
      experiments: [
        { id: 'e1', startTime: 0 },
        { id: 'e2', startTime: 0 },
      ],
      metrics: ['loss', 'acc'],
      buckets: 50,
    };
    for (const x of ['step', 'wall', 'relative', 'epoch'] as const) {
      expect(await migrated.query({ ...chart, x })).toEqual(await written.query({ ...chart, x }));
    }
    // A range that prunes blocks by their extents.
    const ranged = { ...chart, x: 'step' as const, from: 4100, to: 8300 };
    const windows = await migrated.query(ranged);
    // Steps 4100…8300 but every fifth, which was logged without a step.
    expect(windows.find((w) => w.experimentId === 'e1' && w.metric === 'loss')?.inRange).toBe(3360);
    expect(windows).toEqual(await written.query(ranged));
    const backfilled = await sql<{ experiment_id: string; owner: string }>`
      select b.experiment_id, s.experiment_id as owner from series_blocks b join series s on s.id = b.series_id
    `.execute(db);
    expect(backfilled.rows.map((row) => row.experiment_id).sort()).toEqual(['e1', 'e1', 'e1', 'e2']);
    for (const row of backfilled.rows) expect(row.experiment_id).toBe(row.owner);

    // The keys: experiment_id leads each of them.
    if (dialect.name === 'postgres') {
      const constraints = async (table: string) =>
        (
          await sql<{ definition: string }>`
            select pg_get_constraintdef(oid) as definition from pg_constraint
            where conrelid = ${table}::regclass order by definition
          `.execute(db)
        ).rows.map((row) => row.definition);
      expect(await constraints('series')).toEqual([
        'FOREIGN KEY (experiment_id) REFERENCES experiments(id) ON DELETE CASCADE',
        'PRIMARY KEY (experiment_id, id)',
        'UNIQUE (experiment_id, name)',
      ]);
      expect(await constraints('series_blocks')).toEqual([
        'FOREIGN KEY (experiment_id, series_id) REFERENCES series(experiment_id, id) ON DELETE CASCADE',
        'PRIMARY KEY (experiment_id, series_id, block_no)',
      ]);
    } else {
      const primaryKey = async (table: string) =>
        (await sql<{ name: string; pk: number }>`select name, pk from pragma_table_info(${table})`.execute(db)).rows
          .filter((column) => column.pk > 0)
          .sort((a, b) => a.pk - b.pk)
          .map((column) => column.name);
      expect(await primaryKey('series')).toEqual(['experiment_id', 'id']);
      expect(await primaryKey('series_blocks')).toEqual(['experiment_id', 'series_id', 'block_no']);
      const foreignKeys = async (table: string) =>
        (
          await sql<{ table: string; from: string; to: string; on_delete: string }>`
            select "table", "from", "to", on_delete from pragma_foreign_key_list(${table}) order by id, seq
          `.execute(db)
        ).rows;
      expect(await foreignKeys('series')).toEqual([
        { table: 'experiments', from: 'experiment_id', to: 'id', on_delete: 'CASCADE' },
      ]);
      expect(await foreignKeys('series_blocks')).toEqual([
        { table: 'series', from: 'experiment_id', to: 'experiment_id', on_delete: 'CASCADE' },
        { table: 'series', from: 'series_id', to: 'id', on_delete: 'CASCADE' },
      ]);
      const uniques = (
        await sql<{ name: string }>`
          select group_concat(c.name, ',') as name from pragma_index_list('series') i, pragma_index_info(i.name) c
          where i."unique" = 1 and i.origin = 'u' group by i.name
        `.execute(db)
      ).rows.map((row) => row.name);
      expect(uniques).toEqual(['experiment_id,name']);
      const indexes = await sql<{ name: string }>`select name from pragma_index_list('series')`.execute(db);
      expect(indexes.rows.map((row) => row.name)).toContain('series_name');
      expect((await sql`select * from pragma_foreign_key_check`.execute(db)).rows).toEqual([]);
    }
    // The constraints hold: a block must name its series' own experiment, and deleting an
    // experiment still takes its series and their blocks along.
    const e1Loss = seriesRows.find((row) => row.experiment_id === 'e1' && row.name === 'loss');
    const block = blockRows.find((row) => row.series_id === e1Loss?.id);
    await expect(
      old
        .insertInto('series_blocks')
        .values({ ...block, experiment_id: 'e2', block_no: 99 })
        .execute(),
    ).rejects.toThrow(/foreign key/i);
    await sql`delete from experiments where id = 'e1'`.execute(db);
    const left = await sql<{ experiment_id: string }>`select experiment_id from series_blocks`.execute(db);
    expect(left.rows).toEqual([{ experiment_id: 'e2' }]);
    expect(await migrated.readPoints('e2', 'loss')).toEqual(await written.readPoints('e2', 'loss'));

    // Appends after the migration seal into and read from the new layout.
    const more = points('loss', 5000, 320);
    await migrated.append('e2', more);
    await written.append('e2', more);
    expect(await migrated.readPoints('e2', 'loss')).toEqual(await written.readPoints('e2', 'loss'));
    const sealed = await sql<{
      n: number | string;
    }>`select count(*) as n from series_blocks where experiment_id = 'e2'`.execute(db);
    // 20 + 5000 points sealed as a full block and a shorter one, beside the block of before.
    expect(Number(sealed.rows[0]?.n)).toBe(3);
  });

  it('0018 is atomic: a run that fails half-way leaves the tables of 0017 as they were, and can be retried', async () => {
    const { db, dialect, migrator } = await openAt('0017-blob-key-indexes');
    await sql`insert into users (id, name, created_at) values ('u', 'ada', 0)`.execute(db);
    await sql`insert into workspaces (id, name, created_by, created_at) values ('w', 'ws', 'u', 0)`.execute(db);
    await sql`insert into projects (id, workspace_id, name, owner_user_id, created_at, updated_at)
              values ('p', 'w', 'proj', 'u', 0, 0)`.execute(db);
    await sql`insert into experiments (id, project_id, workspace_id, status, start_time, created_by, created_at, updated_at)
              values ('e', 'p', 'w', 'RUNNING', 0, 'u', 0, 0)`.execute(db);
    await sql`insert into series (id, experiment_id, name, contexts, point_count, block_count, tail_count,
                min_value, min_timestamp, min_offset, max_value, max_timestamp, max_offset,
                last_value, last_timestamp, last_offset)
              values ('s', 'e', 'loss', '[""]', 1, 1, 0, 1, 10, 0, 1, 10, 0, 1, 10, 0)`.execute(db);
    await sql`insert into series_blocks (series_id, block_no, point_count, first_offset, last_offset, payload, chunk_summaries)
              values ('s', 0, 1, 0, 0, ${new Uint8Array([1, 2, 3])}, ${new Uint8Array([4])})`.execute(db);
    // A name the migration needs, taken: it fails after the series rows were copied (SQLite) or
    // after the backfill and the dropped keys (PostgreSQL).
    const blocker = dialect.name === 'sqlite' ? 'series_blocks_new' : 'series_pk';
    await sql`create table ${sql.table(blocker)} (x integer)`.execute(db);

    expect((await migrator.migrateToLatest()).error).toBeDefined();
    const tables = async () =>
      dialect.name === 'sqlite'
        ? (
            await sql<{
              name: string;
            }>`select name from sqlite_master where type = 'table' and name like 'series%'`.execute(db)
          ).rows
        : (
            await sql<{ name: string }>`select table_name as name from information_schema.tables
              where table_schema = current_schema() and table_name like 'series%'`.execute(db)
          ).rows;
    expect((await tables()).map((row) => row.name).sort()).toEqual(['series', 'series_blocks', blocker].sort());
    const blockColumns = async () =>
      dialect.name === 'sqlite'
        ? (await sql<{ name: string }>`select name from pragma_table_info('series_blocks')`.execute(db)).rows
        : (
            await sql<{ name: string }>`select column_name as name from information_schema.columns
              where table_schema = current_schema() and table_name = 'series_blocks'`.execute(db)
          ).rows;
    expect((await blockColumns()).map((row) => row.name)).not.toContain('experiment_id');
    expect((await sql`select series_id, block_no from series_blocks`.execute(db)).rows).toEqual([
      { series_id: 's', block_no: 0 },
    ]);
    const executed = (await migrator.getMigrations()).filter((m) => m.executedAt !== undefined).map((m) => m.name);
    expect(executed).not.toContain('0018-series-experiment-keys');

    await sql`drop table ${sql.table(blocker)}`.execute(db);
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    expect((await sql`select experiment_id, series_id, block_no from series_blocks`.execute(db)).rows).toEqual([
      { experiment_id: 'e', series_id: 's', block_no: 0 },
    ]);
  });
});

/** The columns of `series_blocks` up to 0017, in no particular order. */
const BLOCK_COLUMNS_AT_0017 = [
  'series_id',
  'block_no',
  'point_count',
  'first_offset',
  'last_offset',
  'min_step',
  'max_step',
  'min_value',
  'max_value',
  'min_timestamp',
  'max_timestamp',
  'min_epoch',
  'max_epoch',
  'payload',
  'chunk_summaries',
] as const;
