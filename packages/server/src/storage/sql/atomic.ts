import type { Kysely } from 'kysely';
import type { Database } from './database.js';

/**
 * Runs `work` in the caller's transaction, or in a new one when there is none. Repository methods
 * that write with several statements use it, so they are atomic (and serialised against concurrent
 * writers by their row locks) even when a caller uses the store without `Store.transaction`.
 */
export function atomically<T>(db: Kysely<Database>, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

/**
 * Runs several reads against one consistent snapshot. PostgreSQL's default READ COMMITTED takes a
 * new snapshot per statement, so a read transaction must ask for REPEATABLE READ; SQLite ignores
 * the level (a WAL read transaction always reads one snapshot; it runs on a read connection of its
 * own, so writes committed meanwhile stay out of it). Inside a caller's transaction the reads use
 * that transaction as it is.
 */
export function inSnapshot<T>(db: Kysely<Database>, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return work(db);
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(work);
}
