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
});
