import type { Readable } from 'node:stream';

export interface ByteRange {
  /** Inclusive start. */
  start: number;
  /** Inclusive end. */
  end: number;
}

/**
 * Content-addressed by caller-chosen keys. A `put` resolves only when the bytes are durable;
 * a failed or aborted `put` leaves no object behind. Exceeding `maxBytes` rejects with
 * TooLargeError.
 */
export interface BlobStore {
  put(key: string, body: Readable, options?: { maxBytes?: number }): Promise<{ size: number }>;
  /** Streams the object (or a byte range of it); undefined when absent. */
  get(key: string, range?: ByteRange): Promise<Readable | undefined>;
  size(key: string): Promise<number | undefined>;
  /** Deleting an absent key is not an error. */
  delete(key: string): Promise<void>;
}
