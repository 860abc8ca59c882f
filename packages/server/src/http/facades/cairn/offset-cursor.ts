import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../../../core/errors.js';

/**
 * Cursors for lists that are short enough to page by position (workspaces' projects). The cursor
 * carries a fingerprint of the query it belongs to, so a cursor handed to another query is
 * refused instead of silently paging something else.
 */
export function encodeOffsetCursor(offset: number, query: readonly unknown[]): string {
  return encodeQueryCursor({ o: offset }, query);
}

export function decodeOffsetCursor(cursor: string, query: readonly unknown[]): number {
  return decodeQueryCursor(cursor, query, ['o']).o as number;
}

/**
 * A cursor holding a few non-negative integers (a position, a count, a horizon) and the
 * fingerprint of its query. Keyset cursors use it as offset cursors do.
 */
export function encodeQueryCursor(state: Record<string, number>, query: readonly unknown[]): string {
  return Buffer.from(JSON.stringify({ ...state, f: fingerprint(query) })).toString('base64url');
}

/** The integers named `fields` of a cursor issued for `query`; anything else is refused with 400. */
export function decodeQueryCursor<F extends string>(
  cursor: string,
  query: readonly unknown[],
  fields: readonly F[],
): Record<F, number> {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidArgumentError('cursor is not one this API issued');
  }
  const state = (decoded ?? {}) as Record<string, unknown>;
  const values = {} as Record<F, number>;
  for (const field of fields) {
    const value = state[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new InvalidArgumentError('cursor is not one this API issued');
    }
    values[field] = value;
  }
  if (typeof state.f !== 'string') throw new InvalidArgumentError('cursor is not one this API issued');
  if (state.f !== fingerprint(query)) throw new InvalidArgumentError('cursor belongs to another query');
  return values;
}

function fingerprint(query: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 12);
}
