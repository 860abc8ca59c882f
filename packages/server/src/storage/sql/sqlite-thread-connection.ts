import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker's code, run with `eval` so that it works the same from the compiled dist and from the
 * TypeScript sources the tests run (a worker file path would differ between the two). Plain
 * JavaScript (CommonJS); it owns one connection and answers one message per statement, in the
 * order the statements arrive.
 *
 * A statement's bytes cross as Uint8Array (structured clone drops Buffer's class); better-sqlite3
 * binds Buffers, and rows holding blobs are flagged so the main thread makes Buffers of them again.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require(workerData.module);

function serialise(error) {
  if (error === null || typeof error !== 'object') return { name: 'Error', message: String(error) };
  return { name: error.name, message: error.message, code: error.code };
}

function main() {
  let database;
  try {
    database = new SQLite(workerData.file);
    for (const pragma of workerData.pragmas) database.pragma(pragma);
  } catch (error) {
    parentPort.postMessage({ id: 0, error: serialise(error) });
    parentPort.close();
    return;
  }
  const statements = new Map();
  const prepare = (sql) => {
    let statement = statements.get(sql);
    if (statement) {
      statements.delete(sql);
    } else {
      statement = database.prepare(sql);
      if (statements.size >= workerData.cacheSize) statements.delete(statements.keys().next().value);
    }
    statements.set(sql, statement);
    return statement;
  };
  const toBuffers = (parameters) =>
    parameters.map((p) => (p instanceof Uint8Array ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
  parentPort.on('message', (message) => {
    const id = message.id;
    if (message.close) {
      try {
        database.close();
        parentPort.postMessage({ id });
      } catch (error) {
        parentPort.postMessage({ id, error: serialise(error) });
      }
      parentPort.close();
      return;
    }
    try {
      const statement = prepare(message.sql);
      const parameters = toBuffers(message.parameters);
      if (statement.reader) {
        const rows = statement.all(parameters);
        let binary = false;
        for (const row of rows) {
          for (const key in row) if (row[key] instanceof Uint8Array) binary = true;
          if (binary) break;
        }
        parentPort.postMessage({ id, rows, binary });
      } else {
        const { changes, lastInsertRowid } = statement.run(parameters);
        parentPort.postMessage({ id, changes, lastInsertRowid });
      }
    } catch (error) {
      parentPort.postMessage({ id, error: serialise(error) });
    }
  });
  parentPort.postMessage({ id: 0 });
}
main();
`;

/** What one statement run on the writer returns, as better-sqlite3 reports it. */
export interface WriterResult {
  rows?: Record<string, unknown>[];
  changes?: number | bigint;
  lastInsertRowid?: number | bigint;
}

interface Reply extends WriterResult {
  id: number;
  binary?: boolean;
  error?: { name: string; message: string; code?: unknown };
}

/**
 * The connection's thread went away (crashed, or the store was closed) while statements still needed
 * it: they fail as "database unavailable" (503) instead of waiting for an answer that never comes.
 */
export class SqliteConnectionGoneError extends Error {
  override readonly name = 'SqliteConnectionGoneError';
}

/** An error as the worker reported it, with the `code` that classifies SQLite's errors kept. */
function revive(serialised: { name: string; message: string; code?: unknown }): Error {
  const error = serialised.name === 'TypeError' ? new TypeError(serialised.message) : new Error(serialised.message);
  if (serialised.name !== 'TypeError') error.name = serialised.name;
  if (serialised.code !== undefined) (error as Error & { code?: unknown }).code = serialised.code;
  return error;
}

/** Blobs come back from the worker as Uint8Array; the store's code expects Buffers, as on the main thread. */
function withBuffers(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const row of rows) {
    for (const key in row) {
      const value = row[key];
      if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
        row[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      }
    }
  }
  return rows;
}

export interface ThreadConnectionOptions {
  file: string;
  /** Run in order once the connection is open (`journal_mode = WAL`, `synchronous = FULL`, …). */
  pragmas: string[];
  /** Distinct SQL texts the worker keeps prepared. */
  statementCacheSize: number;
}

/**
 * A worker thread owning a SQLite connection, for work that waits on the disk (the embedded store's
 * WAL checkpoints, which fsync the database file). Statements run there one after another while
 * the event loop goes on serving requests.
 */
export class ThreadConnection {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(reply: Reply): void; reject(error: unknown): void }>();
  private nextId = 1;
  private gone: Error | undefined;
  private closing = false;
  private readonly exited: Promise<void>;

  private constructor(options: ThreadConnectionOptions) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        module: createRequire(import.meta.url).resolve('better-sqlite3'),
        file: options.file,
        pragmas: options.pragmas,
        cacheSize: options.statementCacheSize,
      },
    });
    this.worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      // Idle, the thread must not keep the process alive; closing, it must until it has exited.
      if (this.pending.size === 0 && !this.closing) this.worker.unref();
      if (reply.error) waiting.reject(revive(reply.error));
      else waiting.resolve(reply);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.fail(new Error(`the SQLite connection's thread exited (code ${code})`));
        resolve();
      });
    });
  }

  /** Starts the thread and opens its connection; rejects with SQLite's error when it cannot. */
  static async start(options: ThreadConnectionOptions): Promise<ThreadConnection> {
    const thread = new ThreadConnection(options);
    try {
      await thread.request(0, undefined);
    } catch (error) {
      await thread.worker.terminate();
      throw error;
    }
    return thread;
  }

  async execute(sql: string, parameters: readonly unknown[]): Promise<WriterResult> {
    const reply = await this.request(this.nextId++, { sql, parameters });
    if (reply.binary && reply.rows) withBuffers(reply.rows);
    return reply;
  }

  /** Statements sent and not yet answered. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Throws the error every statement now gets when the thread is gone. */
  assertRunning(): void {
    if (this.gone) throw this.gone;
  }

  /** Closes the connection (statements already sent run first) and ends the thread. */
  async close(): Promise<void> {
    if (!this.gone && !this.closing) {
      this.closing = true;
      try {
        await this.request(this.nextId++, { close: true });
      } finally {
        await this.exited;
      }
    }
  }

  private request(id: number, message: { sql: string; parameters: readonly unknown[] } | { close: true } | undefined) {
    if (this.gone) return Promise.reject(this.gone);
    return new Promise<Reply>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      if (message) this.worker.postMessage({ id, ...message });
    });
  }

  /** Every statement still waiting fails, and so does every later one. */
  private fail(cause: unknown): void {
    if (!this.gone) {
      this.gone = new SqliteConnectionGoneError(
        this.closing ? 'the database was closed' : "the SQLite connection's thread stopped",
        { cause },
      );
    }
    for (const { reject } of this.pending.values()) reject(this.gone);
    this.pending.clear();
  }
}
