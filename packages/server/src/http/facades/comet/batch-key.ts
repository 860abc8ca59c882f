import { createHash } from 'node:crypto';
import type { BatchKey } from '../../../core/batches.js';
import type { ClientStream } from '../../../core/store.port.js';

/**
 * The key of a comet_ml batch, for exactly-once logging (ClientBatchRepository). comet_ml 3.32.5
 * sends no message offsets with its metric and parameter batches, and when a send fails it
 * resends the very same body (urllib3 retries after a 5xx or a dropped connection, e.g. a server
 * restarting after the commit and before the answer). So a batch is named by the SHA-256 of its
 * content: a resent batch carries the same key and is acknowledged without being stored twice.
 * Two genuinely different batches do not collide: every entry carries the client's millisecond
 * timestamp (output lines their message offset), so equal contents would mean the same values
 * logged in the same millisecond and split across two batches, which the client's batching
 * (a send every 2 s or 1000 entries, of what was logged since the last) does not do.
 */
export function contentBatchKey(stream: ClientStream, content: unknown): BatchKey {
  return { stream, key: createHash('sha256').update(JSON.stringify(content)).digest('hex') };
}

/**
 * A live comet_ml Experiment marks its REST calls with this header. Its output lines carry the
 * run's message offsets (continued across sessions through the handshake's lastOffset), unique
 * within the run, so a byte-identical output post from it is a resend. Other callers (the REST
 * API, other SDKs, `comet upload`) may legitimately post the same lines twice. (Its other
 * appending write, HTML, is not deduplicated: it carries only a millisecond timestamp, and equal
 * HTML logged twice within a millisecond is plausible.)
 */
export function isLiveExperimentCall(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['x-comet-sdk-source'] === 'Experiment';
}
