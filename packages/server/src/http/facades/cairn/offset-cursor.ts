import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../../../core/errors.js';

/**
 * Cursors for lists that are short enough to page by position (workspaces' projects, an
 * experiment's output). The cursor carries a fingerprint of the query it belongs to, so a cursor
 * handed to another query is refused instead of silently paging something else.
 */
export function encodeOffsetCursor(offset: number, query: readonly unknown[]): string {
  return Buffer.from(JSON.stringify({ o: offset, f: fingerprint(query) })).toString('base64url');
}

export function decodeOffsetCursor(cursor: string, query: readonly unknown[]): number {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidArgumentError('cursor is not one this API issued');
  }
  const { o, f } = (decoded ?? {}) as { o?: unknown; f?: unknown };
  if (typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0 || typeof f !== 'string') {
    throw new InvalidArgumentError('cursor is not one this API issued');
  }
  if (f !== fingerprint(query)) throw new InvalidArgumentError('cursor belongs to another query');
  return o;
}

function fingerprint(query: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 12);
}
