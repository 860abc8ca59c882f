import type { Kysely } from 'kysely';
import type { Database } from './database.js';

/**
 * Reserves `count` numbers of the experiment's sequence and returns the first. The sequence
 * orders metric offsets, logged values, tags and output lines, so "current" and "in arrival
 * order" are well defined even when timestamps tie. The row lock taken here also serialises
 * concurrent writers to one experiment on PostgreSQL. `updatedAt`, when given, is set in the same
 * statement (a writer that would otherwise update the row again saves a statement).
 */
export async function allocateSequence(
  db: Kysely<Database>,
  experimentId: string,
  count: number,
  updatedAt?: number,
): Promise<number> {
  const row = await db
    .updateTable('experiments')
    .set((eb) => ({
      next_seq: eb('next_seq', '+', count),
      ...(updatedAt === undefined ? {} : { updated_at: updatedAt }),
    }))
    .where('id', '=', experimentId)
    .returning('next_seq')
    .executeTakeFirstOrThrow();
  return row.next_seq - count;
}
