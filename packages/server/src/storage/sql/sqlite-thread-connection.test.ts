import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteUnavailability } from './dialect.js';
import { SqliteConnectionGoneError, ThreadConnection } from './sqlite-thread-connection.js';

describe('SQLite connection on a worker thread', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-thread-connection-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('fails the statements in flight and every later one as unavailable when the thread dies', async () => {
    const thread = await ThreadConnection.start({
      file: join(dir, 'cairn.db'),
      pragmas: ['journal_mode = WAL'],
      statementCacheSize: 8,
    });
    await thread.execute('create table t (id integer primary key)', []);
    // A crash from outside: the thread ends without answering what it was sent.
    const worker = (thread as unknown as { worker: Worker }).worker;
    const inFlight = thread.execute('insert into t values (1)', []).catch((e: unknown) => e);
    await worker.terminate();
    const errors = [await inFlight, await thread.execute('insert into t values (2)', []).catch((e: unknown) => e)];
    for (const error of errors) {
      // The insert may have run before the thread died; it must then have answered, not failed.
      if (error === undefined || !(error instanceof Error)) continue;
      expect(error).toBeInstanceOf(SqliteConnectionGoneError);
      expect(sqliteUnavailability(error)).toBe(5);
    }
    expect(errors[1]).toBeInstanceOf(SqliteConnectionGoneError);
  });

  it("reports a database it cannot open with SQLite's code", async () => {
    const error = await ThreadConnection.start({
      // A directory where the database file should be.
      file: dir,
      pragmas: [],
      statementCacheSize: 8,
    }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('SQLITE_CANTOPEN');
    expect(sqliteUnavailability(error)).toBe(5);
  });
});
