import type { Readable } from 'node:stream';

export interface ByteRange {
  /** Inclusive start. */
  start: number;
  /** Inclusive end. */
  end: number;
}

/**
 * Content-addressed by caller-chosen keys. A `put` resolves only when the bytes are durable;
 * a failed or aborted `put` leaves no object behind (a killed process may leave remnants that
 * `removeAbandoned` clears). Exceeding `maxBytes` rejects with TooLargeError; a full disk or
 * volume rejects with StorageFullError.
 */
export interface BlobStore {
  put(key: string, body: Readable, options?: { maxBytes?: number }): Promise<{ size: number }>;
  /** Streams the object (or a byte range of it); undefined when absent. */
  get(key: string, range?: ByteRange): Promise<Readable | undefined>;
  size(key: string): Promise<number | undefined>;
  /** Deleting an absent key is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Every complete object whose key starts with `prefix`, with when its bytes were last written
   * (epoch milliseconds), in no particular order. Objects of `put`s still running are not listed.
   */
  list(prefix: string): AsyncIterable<StoredBlob>;
  /**
   * Removes what `put`s that never finished left behind (the process was killed mid-upload) and
   * that nothing has written to since `before` (epoch milliseconds); a `put` still running in this
   * process is never touched, whatever its age. Resolves to how many were removed.
   */
  removeAbandoned(before: number): Promise<number>;
}

export interface StoredBlob {
  key: string;
  writtenAt: number;
}
