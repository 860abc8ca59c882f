import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  RawNode,
  SelectQueryNode,
  type TransactionSettings,
} from 'kysely';
import { WriterThread } from './sqlite-writer-thread.js';

/** Distinct SQL texts kept prepared per connection; the store issues a few dozen shapes, batch sizes multiply them. */
export const STATEMENT_CACHE_SIZE = 512;

/** Read connections for read-only snapshot transactions held open at once; more wait for one. */
const SNAPSHOT_READERS = 4;

/** A raw statement that may only read: checked again by SQLite (`readonly`) before it runs off the writer. */
const READ_TEXT = /^\s*(select|with)\b/i;

export interface SqliteWriterDriverOptions {
  file: string;
  /** Pragmas of the writing connection, which also creates the file and puts it in WAL mode. */
  pragmas: string[];
  busyTimeoutMillis: number;
}

/**
 * A statement cache over one better-sqlite3 connection. Kysely prepares every statement it runs;
 * on the bulk path preparing cost as much as executing. Safe because statements on a connection
 * run one at a time to completion and no iterator is left open across statements.
 */
class PreparedStatements {
  private readonly statements = new Map<string, SQLite.Statement>();

  constructor(readonly database: SQLite.Database) {}

  prepare(sql: string): SQLite.Statement {
    let statement = this.statements.get(sql);
    if (statement) {
      // Re-insert to keep the map in least-recently-used order.
      this.statements.delete(sql);
    } else {
      statement = this.database.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) {
        const oldest = this.statements.keys().next().value;
        if (oldest !== undefined) this.statements.delete(oldest);
      }
    }
    this.statements.set(sql, statement);
    return statement;
  }

  run(query: CompiledQuery): QueryResult<unknown> {
    const statement = this.prepare(query.sql);
    if (statement.reader) return { rows: statement.all(query.parameters as unknown[]) };
    statement.run(query.parameters as unknown[]);
    return { rows: [] };
  }
}

class Mutex {
  private held = false;
  private readonly waiting: (() => void)[] = [];

  async lock(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  unlock(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }
}

/**
 * SQLite with its writes off the event loop. One worker thread owns the connection that writes
 * (write transactions, and statements outside a transaction that change something), so a
 * COMMIT's fsync no longer stops the server: requests that arrive meanwhile are parsed, and their
 * writes gather for the next commit. Reads outside a transaction and read-only snapshot
 * transactions run on connections of the main thread in WAL mode: they never wait for the writer,
 * and see every transaction committed (and so acknowledged) before they began.
 *
 * Write transactions take the writer in turn, as Kysely's own SQLite driver takes its single
 * connection, and begin IMMEDIATE: a deferred BEGIN would take the write lock at the first write,
 * and in WAL mode a transaction that read first and finds another connection (the CLI beside the
 * server) committed meanwhile fails with SQLITE_BUSY_SNAPSHOT at once, busy_timeout or not.
 */
export class SqliteWriterDriver implements Driver {
  private writer: WriterThread | undefined;
  private reader: PreparedStatements | undefined;
  private readonly writeTurn = new Mutex();
  private readonly idleSnapshotReaders: PreparedStatements[] = [];
  private snapshotReaders = 0;
  private readonly waitingForReader: ((reader: PreparedStatements) => void)[] = [];
  private readonly allReaders: PreparedStatements[] = [];

  constructor(private readonly options: SqliteWriterDriverOptions) {}

  async init(): Promise<void> {
    // The writer first: it creates the file and switches it to WAL before anyone reads.
    this.writer = await WriterThread.start({
      file: this.options.file,
      pragmas: this.options.pragmas,
      statementCacheSize: STATEMENT_CACHE_SIZE,
    });
    this.reader = this.openReader();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new RoutedConnection(this);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const routed = connection as RoutedConnection;
    if (settings.accessMode === 'read only') {
      routed.snapshot = await this.takeSnapshotReader();
      routed.snapshot.database.exec('begin');
      return;
    }
    await this.writeTurn.lock();
    routed.writing = true;
    await this.write(CompiledQuery.raw('begin immediate'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  /**
   * SQLite rolls a transaction back by itself after some errors (SQLITE_FULL among them, when it
   * hits a disk with no room left); Kysely's ROLLBACK then fails with "no transaction is active"
   * and that error would replace the one that explains the failure. Nothing is left to undo then.
   */
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await connection.executeQuery(CompiledQuery.raw('rollback'));
    } catch (error) {
      if ((error as Error).message !== 'cannot rollback - no transaction is active') throw error;
    }
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quoteName(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`rollback to ${quoteName(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`release ${quoteName(name)}`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const routed = connection as RoutedConnection;
    if (routed.writing) {
      routed.writing = false;
      this.writeTurn.unlock();
    }
    if (routed.snapshot) {
      const reader = routed.snapshot;
      routed.snapshot = undefined;
      // A snapshot that failed half-way may still be open; it must not pin the next one.
      if (reader.database.inTransaction) reader.database.exec('rollback');
      this.giveBackSnapshotReader(reader);
    }
  }

  async destroy(): Promise<void> {
    // Readers first: the last connection to close checkpoints the WAL into the database file.
    for (const reader of this.allReaders) reader.database.close();
    await this.writer?.close();
  }

  /** Runs on the writer, in the caller's turn (a transaction's) or a turn of its own. */
  async write(query: CompiledQuery): Promise<QueryResult<unknown>> {
    const writer = this.writer;
    if (!writer) throw new Error('the SQLite driver was not initialised');
    const result = await writer.execute(query.sql, query.parameters);
    if (result.rows) return { rows: result.rows };
    const { changes, lastInsertRowid } = result;
    return {
      numAffectedRows: changes === undefined || changes === null ? undefined : BigInt(changes),
      insertId: lastInsertRowid === undefined || lastInsertRowid === null ? undefined : BigInt(lastInsertRowid),
      rows: [],
    };
  }

  async writeInOwnTurn(query: CompiledQuery): Promise<QueryResult<unknown>> {
    await this.writeTurn.lock();
    try {
      return await this.write(query);
    } finally {
      this.writeTurn.unlock();
    }
  }

  /**
   * Main-thread reads complete without a turn of the event loop, while the writer's answers come
   * as messages that need one: a caller that reads in a loop until a write lands (a poller) would
   * starve the writer. While the writer has statements in flight, a read first lets it answer.
   */
  async letWriterAnswer(): Promise<void> {
    if (this.writer?.busy) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /**
   * The main thread's read connection for a statement outside a transaction, when the statement
   * only reads; undefined when it must go to the writer (any write, DDL, pragma, or a statement
   * this connection cannot prepare, such as one naming a table the writer is about to create).
   */
  readerFor(query: CompiledQuery): SQLite.Statement | undefined {
    const reader = this.reader;
    if (!reader) return undefined;
    // A server whose writer is gone is unavailable, for its health check (a read) too.
    this.writer?.assertRunning();
    const node = query.query;
    if (!SelectQueryNode.is(node) && !(RawNode.is(node) && READ_TEXT.test(query.sql))) return undefined;
    let statement: SQLite.Statement;
    try {
      statement = reader.prepare(query.sql);
    } catch {
      return undefined;
    }
    return statement.reader && statement.readonly ? statement : undefined;
  }

  private openReader(): PreparedStatements {
    const database = new SQLite(this.options.file, { fileMustExist: true });
    database.pragma(`busy_timeout = ${this.options.busyTimeoutMillis}`);
    // A misrouted write fails loudly here instead of bypassing the writer.
    database.pragma('query_only = ON');
    const reader = new PreparedStatements(database);
    this.allReaders.push(reader);
    return reader;
  }

  private async takeSnapshotReader(): Promise<PreparedStatements> {
    const idle = this.idleSnapshotReaders.pop();
    if (idle) return idle;
    if (this.snapshotReaders < SNAPSHOT_READERS) {
      this.snapshotReaders++;
      return this.openReader();
    }
    return new Promise((resolve) => this.waitingForReader.push(resolve));
  }

  private giveBackSnapshotReader(reader: PreparedStatements): void {
    const next = this.waitingForReader.shift();
    if (next) next(reader);
    else this.idleSnapshotReaders.push(reader);
  }
}

/** SQLite identifiers in double quotes; Kysely's savepoint names are generated, this is for safety. */
function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * One use of the driver: a statement outside a transaction, or a whole transaction (then bound to
 * the writer or to one snapshot reader until it ends).
 */
class RoutedConnection implements DatabaseConnection {
  writing = false;
  snapshot: PreparedStatements | undefined;

  constructor(private readonly driver: SqliteWriterDriver) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.writing) return (await this.driver.write(query)) as QueryResult<R>;
    await this.driver.letWriterAnswer();
    if (this.snapshot) return this.snapshot.run(query) as QueryResult<R>;
    const statement = this.driver.readerFor(query);
    if (statement) return { rows: statement.all(query.parameters as unknown[]) as R[] };
    return (await this.driver.writeInOwnTurn(query)) as QueryResult<R>;
  }

  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const result = await this.executeQuery<R>(query);
    for (const row of result.rows) yield { rows: [row] };
  }
}
