import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Driver, Kysely, PostgresDialect, type RawBuilder, type SqlBool, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './database.js';
import { SqliteConnectionGoneError } from './sqlite-thread-connection.js';
import { SqliteWriterDriver } from './sqlite-writer-driver.js';
import { withUnavailability } from './unavailable-driver.js';

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
  /**
   * `text` contains `needle`, ignoring case: SQLite folds ASCII letters only (LIKE), PostgreSQL
   * folds as the database's locale does (lower()).
   */
  containsIgnoringCase(text: RawBuilder<unknown>, needle: string): RawBuilder<SqlBool>;
  /** A text expression that sorts and compares bytewise (as `orderedTextType` columns do). */
  bytewise(text: RawBuilder<unknown>): RawBuilder<unknown>;
  /**
   * `text` matches an SQL LIKE `pattern` with no escape character (`%` any run, `_` one
   * character, all else literal), case-sensitive on both backends; `caseInsensitive` compares
   * both sides through `lower()` (SQLite folds ASCII letters only, PostgreSQL as its locale does).
   */
  like(text: RawBuilder<unknown>, pattern: string, caseInsensitive: boolean): RawBuilder<SqlBool>;
  /** The `value` of the first `{key, value}` whose key is `key` in a JSON array column; NULL when none. */
  jsonArrayTagValue(json: RawBuilder<unknown>, key: string): RawBuilder<string | null>;
}

/** A LIKE pattern matching `needle` anywhere, its wildcards escaped with `\`. */
function containsPattern(needle: string): string {
  return `%${needle.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A LIKE pattern as a GLOB pattern: SQLite's LIKE ignores ASCII case whatever the pattern, GLOB
 * never does. GLOB's own wildcards are bracketed so that they match themselves.
 */
function likeToGlob(pattern: string): string {
  return pattern.replace(/[%_*?[]/g, (c) => (c === '%' ? '*' : c === '_' ? '?' : `[${c}]`));
}

const sqliteFunctions = {
  jsonText: (json: RawBuilder<unknown>, field: string) =>
    sql<string | null>`cast(json_extract(${json}, ${`$.${field}`}) as text)`,
  jsonNumber: (json: RawBuilder<unknown>, field: string) =>
    sql<
      number | null
    >`(case when json_type(${json}, ${`$.${field}`}) in ('integer', 'real') then json_extract(${json}, ${`$.${field}`}) end)`,
  position: (text: RawBuilder<unknown>, needle: string) => sql<number>`instr(${text}, ${needle})`,
  containsIgnoringCase: (text: RawBuilder<unknown>, needle: string) =>
    sql<SqlBool>`${text} like ${containsPattern(needle)} escape '\\'`,
  bytewise: (text: RawBuilder<unknown>) => text,
  like: (text: RawBuilder<unknown>, pattern: string, caseInsensitive: boolean) =>
    caseInsensitive
      ? sql<SqlBool>`(lower(${text}) glob lower(${likeToGlob(pattern)}))`
      : sql<SqlBool>`(${text} glob ${likeToGlob(pattern)})`,
  jsonArrayTagValue: (json: RawBuilder<unknown>, key: string) =>
    sql<
      string | null
    >`(select cast(json_extract(t.value, '$.value') as text) from json_each(${json}) t where json_extract(t.value, '$.key') = ${key} limit 1)`,
};

const postgresFunctions = {
  jsonText: (json: RawBuilder<unknown>, field: string) => sql<string | null>`(cast(${json} as jsonb) ->> ${field})`,
  jsonNumber: (json: RawBuilder<unknown>, field: string) =>
    sql<
      number | null
    >`(case when jsonb_typeof(cast(${json} as jsonb) -> ${field}) = 'number' then cast(cast(${json} as jsonb) ->> ${field} as double precision) end)`,
  position: (text: RawBuilder<unknown>, needle: string) => sql<number>`strpos(${text}, ${needle})`,
  // strpos over lower() scans about a third faster than ILIKE with the same folding.
  containsIgnoringCase: (text: RawBuilder<unknown>, needle: string) =>
    sql<SqlBool>`strpos(lower(${text}), lower(${needle})) > 0`,
  bytewise: (text: RawBuilder<unknown>) => sql`((${text}) collate "C")`,
  // ESCAPE '' turns off the backslash escape PostgreSQL's LIKE has by default.
  like: (text: RawBuilder<unknown>, pattern: string, caseInsensitive: boolean) =>
    caseInsensitive
      ? sql<SqlBool>`(lower(${text}) like lower(cast(${pattern} as text)) escape '')`
      : sql<SqlBool>`(${text} like ${pattern} escape '')`,
  jsonArrayTagValue: (json: RawBuilder<unknown>, key: string) =>
    sql<
      string | null
    >`(select t ->> 'value' from jsonb_array_elements(cast(${json} as jsonb)) t where t ->> 'key' = ${key} limit 1)`,
};

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: SqlDialect;
}

export interface SqliteOptions {
  /** `full` fsyncs the WAL on every commit, so acknowledged writes survive power loss too. */
  synchronous: 'full' | 'normal';
  /**
   * How long a statement waits for another connection's lock (the CLI beside the server) before
   * the request is answered 503 "unavailable"; 5 s by default.
   */
  busyTimeoutMillis?: number;
}

/**
 * SQLite errors that pass: another connection holds the lock (busy, locked: retry soon), the disk
 * is full (SQLite reports ENOSPC on the database, WAL or shared-memory file as SQLITE_FULL or
 * SQLITE_IOERR_SHMSIZE) or failing, or the database was closed under the request (shutting down).
 */
export function sqliteUnavailability(error: unknown): number | 'storage-full' | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 1;
    if (code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_SHMSIZE') return 'storage-full';
    if (code.startsWith('SQLITE_IOERR') || code === 'SQLITE_CANTOPEN') return 5;
  }
  // The database was closed under the request (shutting down), or a connection's thread crashed.
  if (error instanceof SqliteConnectionGoneError) return 5;
  // better-sqlite3 throws a plain TypeError for a handle that was closed.
  if (error instanceof TypeError && error.message === 'The database connection is not open') return 5;
  return undefined;
}

/** Node's socket errors for a server that cannot be reached or went away. */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** node-postgres' own errors for a connection that broke or never came (they carry no code). */
const PG_CONNECTION_MESSAGE = /^Connection terminated|timeout exceeded when trying to connect|is not queryable/;

/**
 * PostgreSQL errors that pass: the server is unreachable, restarting or shutting down (SQLSTATE
 * class 08, 57P01–57P03), out of connections or resources (class 53), or this transaction lost a
 * deadlock or serialisation conflict and can simply be run again (40001, 40P01, 55P03).
 */
export function postgresUnavailability(error: unknown): number | 'storage-full' | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const { code, message, errors } = error as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string') {
    // disk_full: the server's disk, not a connection problem (the rest of class 53 follows).
    if (code === '53100') return 'storage-full';
    if (CONNECTION_ERRORS.has(code)) return 5;
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return 5;
    if (code === '53300' || code === '40001' || code === '40P01' || code === '55P03') return 1;
    if (code.startsWith('53')) return 5;
  }
  if (typeof message === 'string' && PG_CONNECTION_MESSAGE.test(message)) return 5;
  // Connecting to a name with several addresses fails with an AggregateError of socket errors.
  if (Array.isArray(errors) && errors.length > 0 && errors.every((e) => postgresUnavailability(e) !== undefined)) {
    return 5;
  }
  return undefined;
}

export function openSqlite(file: string, options: SqliteOptions): OpenedDatabase {
  mkdirSync(dirname(file), { recursive: true });
  const driver = new SqliteWriterDriver({
    file,
    pragmas: [
      'journal_mode = WAL',
      'foreign_keys = ON',
      // After a checkpoint the WAL is cut back to this size instead of keeping its high-water mark.
      `journal_size_limit = ${8 * 1024 * 1024}`,
    ],
    busyTimeoutMillis: options.busyTimeoutMillis ?? 5000,
    durable: options.synchronous === 'full',
  });
  return {
    db: new Kysely<Database>({
      dialect: withUnavailability(new SqliteWriterDialect(driver), sqliteUnavailability),
    }),
    dialect: {
      name: 'sqlite',
      binaryType: 'blob',
      maxBindParameters: 32_766,
      orderedTextType: 'text',
      ...sqliteFunctions,
    },
  };
}

/** Kysely's SQLite dialect (compiler, adapter, introspector) over the writer driver (commits fsynced off the event loop). */
class SqliteWriterDialect extends SqliteDialect {
  constructor(private readonly driver: SqliteWriterDriver) {
    // Only Kysely's own SqliteDriver reads the config, and it is replaced.
    super({ database: () => Promise.reject(new Error('unused')) });
  }

  override createDriver(): Driver {
    return this.driver;
  }
}

let int8ParserInstalled = false;

/**
 * Opens a PostgreSQL pool. A `schema` query parameter (ours, not libpq's) selects the
 * search_path, which is how the test suites isolate themselves in one database.
 */
/** Opening a connection takes milliseconds when the server is up; 5 s means it is not. */
export const DEFAULT_POSTGRES_CONNECT_TIMEOUT_MILLIS = 5_000;

/**
 * Connections per server process. Ten keeps a 20-writer ingest busy on a 2-core database; a
 * cluster of N nodes holds up to N × this (CAIRN_DATABASE_POOL_SIZE, docs/operations/scale-out.md).
 */
export const DEFAULT_POSTGRES_POOL_SIZE = 10;

export interface PostgresOptions {
  connectTimeoutMillis?: number;
  /** Most connections held open; a request past them waits for one, up to the connect timeout. */
  poolSize?: number;
}

export function openPostgres(url: string, options: PostgresOptions = {}): OpenedDatabase {
  if (!int8ParserInstalled) {
    // Times and counts are bigint columns; every value we store fits in 2^53.
    pg.types.setTypeParser(20, (value) => Number(value));
    int8ParserInstalled = true;
  }
  const pool = new pg.Pool({
    ...postgresConnection(url),
    max: options.poolSize ?? DEFAULT_POSTGRES_POOL_SIZE,
    // node-postgres waits for a connection forever by default: a database that is down but not
    // refusing (a black-holed address, a stuck failover) would hold every request. This bounds it;
    // the request then fails with 503 like any lost connection.
    connectionTimeoutMillis: options.connectTimeoutMillis ?? DEFAULT_POSTGRES_CONNECT_TIMEOUT_MILLIS,
    // Notices a peer that vanished without a FIN (a host gone mid-query) instead of waiting on it.
    keepAlive: true,
  });
  // A connection the server drops (a restart, a network cut) emits 'error': the pool re-emits it
  // for idle connections, a checked-out client emits it itself (between the statements of a
  // transaction). Unheard, either would end the process. The failure already reaches the request
  // through its query (answered 503), the pool discards the connection and opens a new one on demand.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return {
    db: new Kysely<Database>({ dialect: withUnavailability(new PostgresDialect({ pool }), postgresUnavailability) }),
    dialect: {
      name: 'postgres',
      binaryType: 'bytea',
      maxBindParameters: 65_535,
      orderedTextType: sql`text collate "C"`,
      ...postgresFunctions,
    },
  };
}

/** node-postgres settings for a `postgres://…` URL, its `schema` parameter as the search_path. */
export function postgresConnection(url: string): { connectionString: string; options?: string } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), ...(schema ? { options: `-c search_path=${schema}` } : {}) };
}

/** Binary columns come back as Buffer from both drivers; normalise for the codec. */
export function toBytes(value: Uint8Array | Buffer): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(value);
}
