import { closeSync, openSync, readSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { endianness } from 'node:os';
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
import { SqliteConnectionGoneError, ThreadConnection } from './sqlite-thread-connection.js';

/** Distinct SQL texts kept prepared per connection; the store issues a few dozen shapes, batch sizes multiply them. */
export const STATEMENT_CACHE_SIZE = 512;

/** Read connections for read-only snapshot transactions held open at once; more wait for one. */
const SNAPSHOT_READERS = 4;

/** A raw statement that may only read: checked again by SQLite (`readonly`) before it runs off the writer. */
const READ_TEXT = /^\s*(select|with)\b/i;

export interface SqliteWriterDriverOptions {
  file: string;
  /**
   * Pragmas of the writing connection, which also creates the file and puts it in WAL mode. Its
   * `synchronous` is NORMAL whatever these say: the driver makes commits durable itself (`durable`).
   */
  pragmas: string[];
  busyTimeoutMillis: number;
  /** `full`: a commit is acknowledged only once the WAL holding it is fsynced. */
  durable: boolean;
  /** How the WAL is fsynced: its handle's `sync()`; tests hold it to watch what waits for it. */
  syncFile?: (handle: FileHandle) => Promise<void>;
}

/** WAL frames (pages) past which a checkpoint copies them into the database and the WAL starts over: SQLite's own default. */
const RESTART_FRAMES = 1000;

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
    const { changes, lastInsertRowid } = statement.run(query.parameters as unknown[]);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
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
 * SQLite whose commits wait for fsync off the event loop. One connection on this thread writes:
 * better-sqlite3 runs a transaction's statements in microseconds, and a statement sent to another
 * thread cost more in hand-offs than it ran (own-experiment single writes, idle 2-core VM: 1,333
 * req/s with a writer thread, 1,608 with synchronous hand-offs to it, ~4,100 here; docs/benchmarks.md). What blocked the
 * event loop was the commit's fsync: the connection runs with `synchronous = NORMAL`, so COMMIT
 * only writes the WAL, and the driver then fsyncs the WAL on libuv's thread pool before the commit
 * is acknowledged. While it waits the event loop parses and answers, the next group's transaction
 * runs, and one fsync covers every commit made before it began. Checkpoints, which fsync the
 * database file, run on a worker thread of their own (`ThreadConnection`) instead of inside a COMMIT.
 *
 * Durability is that of `synchronous = FULL`: a commit is acknowledged only after its WAL frames
 * are on disk, and SQLite's own checkpoint syncs the WAL before copying it. What differs: another
 * reader may see a commit during the fsync that precedes its acknowledgement.
 *
 * Reads outside a transaction, and read-only snapshot transactions, use connections of their own
 * (WAL mode): they never wait for a write transaction, and see every transaction committed before
 * they began. Write transactions take the writer in turn, as Kysely's own SQLite driver takes its
 * single connection, and begin IMMEDIATE: a deferred BEGIN would take the write lock at the first
 * write, and in WAL mode a transaction that read first and finds another connection (the CLI beside
 * the server) committed meanwhile fails with SQLITE_BUSY_SNAPSHOT at once, busy_timeout or not.
 * BEGIN waits for another process's lock by retrying on timers, not in SQLite's busy handler, which
 * would sleep on this thread.
 */
export class SqliteWriterDriver implements Driver {
  private writer: PreparedStatements | undefined;
  private checkpointer: ThreadConnection | undefined;
  private reader: PreparedStatements | undefined;
  private readonly writeTurn = new Mutex();
  private readonly idleSnapshotReaders: PreparedStatements[] = [];
  private snapshotReaders = 0;
  private readonly waitingForReader: ((reader: PreparedStatements) => void)[] = [];
  private readonly allReaders: PreparedStatements[] = [];
  /** Write statements and commits made on the writer, and how many of them an fsync covers. */
  private committed = 0;
  private synced = 0;
  private syncing: Promise<void> | undefined;
  private checkpointing: Promise<void> | undefined;
  private shm: number | undefined;
  private readonly shmHeader = Buffer.alloc(4);
  private closed = false;
  private wal: Promise<FileHandle> | undefined;

  constructor(private readonly options: SqliteWriterDriverOptions) {}

  async init(): Promise<void> {
    // The writer first: it creates the file and switches it to WAL before anyone reads.
    const database = new SQLite(this.options.file);
    try {
      for (const pragma of this.options.pragmas) database.pragma(pragma);
      database.pragma('synchronous = NORMAL');
      // Its own busy handler would sleep on the event loop; BEGIN retries on timers instead.
      database.pragma('busy_timeout = 0');
      // Checkpoints fsync the database file: they run on the checkpointer's thread.
      database.pragma('wal_autocheckpoint = 0');
    } catch (error) {
      database.close();
      throw error;
    }
    this.writer = new PreparedStatements(database);
    this.checkpointer = await this.startCheckpointer();
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
    const writer = this.openWriter();
    await this.whenNotBusy(() => writer.database.exec('begin immediate'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const routed = connection as RoutedConnection;
    if (!routed.writing) {
      await routed.executeQuery(CompiledQuery.raw('commit'));
      return;
    }
    this.openWriter().database.exec('commit');
    const commit = ++this.committed;
    // The next transaction may run while this one's fsync is under way.
    routed.writing = false;
    this.writeTurn.unlock();
    await this.durable(commit);
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
      // A transaction cut off by close (or an error past its ROLLBACK) must not pin the write lock.
      if (this.writer?.database.open && this.writer.database.inTransaction) this.writer.database.exec('rollback');
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
    if (this.closed) return;
    this.closed = true;
    await this.checkpointing;
    await this.syncing?.catch(() => undefined);
    await this.wal?.then((handle) => handle.close()).catch(() => undefined);
    if (this.shm !== undefined) closeSync(this.shm);
    // Readers first: the last connection to close checkpoints the WAL into the database file.
    for (const reader of this.allReaders) reader.database.close();
    await this.checkpointer?.close();
    this.writer?.database.close();
  }

  /** A statement of the transaction that holds the write turn, and so SQLite's write lock. */
  writeInTransaction(query: CompiledQuery): QueryResult<unknown> {
    return this.openWriter().run(query);
  }

  /** A statement outside a transaction that may write: in a turn of its own, acknowledged once durable. */
  async writeInOwnTurn(query: CompiledQuery): Promise<QueryResult<unknown>> {
    await this.writeTurn.lock();
    let result: QueryResult<unknown>;
    let commit: number;
    try {
      const writer = this.openWriter();
      result = await this.whenNotBusy(() => writer.run(query));
      commit = ++this.committed;
    } finally {
      this.writeTurn.unlock();
    }
    await this.durable(commit);
    return result;
  }

  /**
   * The main thread's read connection for a statement outside a transaction, when the statement
   * only reads; undefined when it must go to the writer (any write, DDL, pragma, or a statement
   * this connection cannot prepare, such as one naming a table the writer is about to create).
   */
  readerFor(query: CompiledQuery): SQLite.Statement | undefined {
    const reader = this.reader;
    if (!reader) return undefined;
    if (this.closed) throw new SqliteConnectionGoneError('the database was closed');
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

  private openWriter(): PreparedStatements {
    if (!this.writer) throw new Error('the SQLite driver was not initialised');
    if (this.closed) throw new SqliteConnectionGoneError('the database was closed');
    return this.writer;
  }

  /** Runs `attempt` until another connection no longer holds the lock, for up to busy_timeout. */
  private async whenNotBusy<T>(attempt: () => T): Promise<T> {
    const deadline = Date.now() + this.options.busyTimeoutMillis;
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        return attempt();
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /**
   * Resolves once the WAL holding commit number `commit` is on disk. One fsync covers every commit
   * made before it started; commits made while it runs wait for the next one, which starts as soon
   * as it ends.
   */
  private async durable(commit: number): Promise<void> {
    if (this.options.durable) {
      while (this.synced < commit) {
        if (!this.syncing) {
          const upTo = this.committed;
          this.syncing = this.syncWal().then(
            () => {
              this.synced = Math.max(this.synced, upTo);
              this.syncing = undefined;
            },
            (error: unknown) => {
              this.syncing = undefined;
              throw error;
            },
          );
        }
        await this.syncing;
      }
    }
    this.checkpointSoon();
  }

  /**
   * fsync of the WAL, through a descriptor of its own: it flushes what the writer connection wrote.
   * Opened once: SQLite removes the WAL only when its last connection closes, and the writer's
   * stays open; journal_size_limit truncates it in place.
   */
  private async syncWal(): Promise<void> {
    this.wal ??= open(`${this.options.file}-wal`, 'r');
    const wal = this.wal;
    try {
      const handle = await wal;
      await (this.options.syncFile ? this.options.syncFile(handle) : handle.sync());
    } catch (error) {
      // The next commit opens it again.
      if (this.wal === wal) this.wal = undefined;
      await wal.then((handle) => handle.close()).catch(() => undefined);
      throw error;
    }
  }

  /** A checkpoint on the checkpointer's thread once the WAL holds RESTART_FRAMES, one at a time. */
  private checkpointSoon(): void {
    if (this.checkpointing || this.closed || this.walFrames() < RESTART_FRAMES) return;
    this.checkpointing = this.checkpoint()
      // A failed checkpoint leaves the WAL to the next one; nothing acknowledged depends on it.
      .catch(() => undefined)
      .finally(() => {
        this.checkpointing = undefined;
      });
  }

  /**
   * Frames in the WAL: `mxFrame` of the wal-index header, bytes 16–19 of the `-shm` file in native
   * byte order (https://www.sqlite.org/walformat.html#the_wal_index_file_format). SQLite's own
   * auto-checkpoint counts the same frames, in a hook better-sqlite3 does not expose.
   */
  private walFrames(): number {
    try {
      this.shm ??= openSync(`${this.options.file}-shm`, 'r');
      if (readSync(this.shm, this.shmHeader, 0, 4, 16) < 4) return 0;
      return endianness() === 'LE' ? this.shmHeader.readUInt32LE(0) : this.shmHeader.readUInt32BE(0);
    } catch {
      return 0;
    }
  }

  /**
   * Copies the WAL into the database file beside the writes (PASSIVE: it waits for no one). Only a
   * checkpoint that copies every frame lets the next write start the WAL over, and cut it back to
   * journal_size_limit; under a steady stream of commits one running beside them never catches up.
   * So a second pass runs in the write turn: the first copied nearly everything, so the writes wait
   * for little more than its fsync of the database file, as they would for SQLite's own
   * auto-checkpoint inside a COMMIT (which would block the event loop as well).
   */
  private async checkpoint(): Promise<void> {
    let checkpointer = this.checkpointer;
    if (!checkpointer) return;
    try {
      await checkpointer.execute('pragma wal_checkpoint(PASSIVE)', []);
    } catch (error) {
      if (!(error instanceof SqliteConnectionGoneError) || this.closed) throw error;
      // Its thread died: without checkpoints the WAL would grow for as long as the server runs.
      checkpointer = await this.startCheckpointer();
      if (this.closed) {
        await checkpointer.close();
        return;
      }
      this.checkpointer = checkpointer;
      await checkpointer.execute('pragma wal_checkpoint(PASSIVE)', []);
    }
    if (this.closed) return;
    await this.writeTurn.lock();
    try {
      if (!this.closed) await checkpointer.execute('pragma wal_checkpoint(PASSIVE)', []);
    } finally {
      this.writeTurn.unlock();
    }
  }

  private startCheckpointer(): Promise<ThreadConnection> {
    return ThreadConnection.start({
      file: this.options.file,
      pragmas: ['synchronous = NORMAL', `busy_timeout = ${this.options.busyTimeoutMillis}`],
      statementCacheSize: 4,
    });
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
    if (this.writing) return this.driver.writeInTransaction(query) as QueryResult<R>;
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
