import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
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
}

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
  return {
    db: new Kysely<Database>({ dialect: new SqliteDialect({ database }) }),
    dialect: { name: 'sqlite', binaryType: 'blob', maxBindParameters: 32_766 },
  };
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
    dialect: { name: 'postgres', binaryType: 'bytea', maxBindParameters: 65_535 },
  };
}

/** Binary columns come back as Buffer from both drivers; normalise for the codec. */
export function toBytes(value: Uint8Array | Buffer): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(value);
}
