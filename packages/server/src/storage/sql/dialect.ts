import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresDialect,
  type RawBuilder,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  sql,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';
import type { Database } from './database.js';

/** Every difference between SQLite and PostgreSQL lives in this file. */
export interface SqlDialect {
  readonly name: 'sqlite' | 'postgres';
  /** Column type for byte strings. */
  readonly binaryType: 'blob' | 'bytea';
  /**
   * Rows per multi-row INSERT. PostgreSQL allows 65,535 bind parameters per statement and
   * SQLite 32,766 (SQLITE_MAX_VARIABLE_NUMBER since 3.32); callers divide by their column count.
   */
  readonly maxBindParameters: number;
  /**
   * Column type of the names that lists are ordered by. SQLite compares text bytewise; PostgreSQL
   * would follow the database's locale (en_US puts "a" before "B"), so its names use the "C"
   * collation and both backends list in the same byte order, served by the unique indexes.
   */
  readonly orderedTextType: 'text' | RawBuilder<unknown>;
  /** A top-level field of a JSON text column as text; NULL when absent. */
  jsonText(json: RawBuilder<unknown>, field: string): RawBuilder<string | null>;
  /** A top-level field of a JSON text column when it is a JSON number; NULL otherwise. */
  jsonNumber(json: RawBuilder<unknown>, field: string): RawBuilder<number | null>;
  /** 1-based position of `needle` in `text`, 0 when absent; case-sensitive on both backends. */
  position(text: RawBuilder<unknown>, needle: string): RawBuilder<number>;
  /** A text expression that sorts and compares bytewise (as `orderedTextType` columns do). */
  bytewise(text: RawBuilder<unknown>): RawBuilder<unknown>;
}

const sqliteFunctions = {
  jsonText: (json: RawBuilder<unknown>, field: string) =>
    sql<string | null>`cast(json_extract(${json}, ${`$.${field}`}) as text)`,
  jsonNumber: (json: RawBuilder<unknown>, field: string) =>
    sql<
      number | null
    >`(case when json_type(${json}, ${`$.${field}`}) in ('integer', 'real') then json_extract(${json}, ${`$.${field}`}) end)`,
  position: (text: RawBuilder<unknown>, needle: string) => sql<number>`instr(${text}, ${needle})`,
  bytewise: (text: RawBuilder<unknown>) => text,
};

const postgresFunctions = {
  jsonText: (json: RawBuilder<unknown>, field: string) => sql<string | null>`(cast(${json} as jsonb) ->> ${field})`,
  jsonNumber: (json: RawBuilder<unknown>, field: string) =>
    sql<
      number | null
    >`(case when jsonb_typeof(cast(${json} as jsonb) -> ${field}) = 'number' then cast(cast(${json} as jsonb) ->> ${field} as double precision) end)`,
  position: (text: RawBuilder<unknown>, needle: string) => sql<number>`strpos(${text}, ${needle})`,
  bytewise: (text: RawBuilder<unknown>) => sql`((${text}) collate "C")`,
};

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: SqlDialect;
}

export interface SqliteOptions {
  /** `full` fsyncs the WAL on every commit, so acknowledged writes survive power loss too. */
  synchronous: 'full' | 'normal';
}

export function openSqlite(file: string, options: SqliteOptions): OpenedDatabase {
  mkdirSync(dirname(file), { recursive: true });
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${options.synchronous.toUpperCase()}`);
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // After a checkpoint the WAL is cut back to this size instead of keeping its high-water mark.
  database.pragma(`journal_size_limit = ${8 * 1024 * 1024}`);
  return {
    db: new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }) }),
    dialect: {
      name: 'sqlite',
      binaryType: 'blob',
      maxBindParameters: 32_766,
      orderedTextType: 'text',
      ...sqliteFunctions,
    },
  };
}

/** Distinct SQL texts kept prepared; the store issues a few dozen shapes, batch sizes multiply them. */
const STATEMENT_CACHE_SIZE = 512;

/**
 * Kysely prepares every statement it runs; on the bulk path preparing cost as much as executing.
 * Statements are reused by SQL text. Safe because Kysely runs one statement at a time on its
 * single SQLite connection and never leaves an iterator open across statements.
 */
function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement) {
        // Re-insert to keep the map in least-recently-used order.
        statements.delete(sql);
      } else {
        statement = database.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) {
          const oldest = statements.keys().next().value;
          if (oldest !== undefined) statements.delete(oldest);
        }
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}

/**
 * Write transactions begin IMMEDIATE. Kysely's plain BEGIN defers the write lock to the first
 * write; in WAL mode a transaction that read first and then finds another connection (the CLI
 * beside the server) committed meanwhile fails with SQLITE_BUSY_SNAPSHOT at once, busy_timeout
 * or not. Taking the lock up front makes concurrent writers wait for each other instead.
 * Read-only transactions (snapshots) keep BEGIN so they never block writers.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  // Kysely passes the settings to every driver; SqliteDriver's own signature just omits them.
  override async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    const readOnly = settings?.accessMode === 'read only';
    await connection.executeQuery(CompiledQuery.raw(readOnly ? 'begin' : 'begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly config: SqliteDialectConfig) {
    super(config);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.config);
  }
}

let int8ParserInstalled = false;

/**
 * Opens a PostgreSQL pool. A `schema` query parameter (ours, not libpq's) selects the
 * search_path, which is how the test suites isolate themselves in one database.
 */
export function openPostgres(url: string): OpenedDatabase {
  if (!int8ParserInstalled) {
    // Times and counts are bigint columns; every value we store fits in 2^53.
    pg.types.setTypeParser(20, (value) => Number(value));
    int8ParserInstalled = true;
  }
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  return {
    db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
    dialect: {
      name: 'postgres',
      binaryType: 'bytea',
      maxBindParameters: 65_535,
      orderedTextType: sql`text collate "C"`,
      ...postgresFunctions,
    },
  };
}

/** Binary columns come back as Buffer from both drivers; normalise for the codec. */
export function toBytes(value: Uint8Array | Buffer): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(value);
}
