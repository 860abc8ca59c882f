import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../src/core/blob.port.js';
import { TooLargeError } from '../src/core/errors.js';
import { FileBlobStore } from '../src/storage/blob/file-blob.store.js';

/** The contract of `BlobStore` (core/blob.port.ts), run against every implementation. */
interface BlobBackend {
  name: string;
  open(): Promise<{
    blobs: BlobStore;
    /** Every object the backend physically holds (finished or not), to prove nothing leaked. */
    residue(): Promise<string[]>;
    close(): Promise<void>;
  }>;
}

const fileBackend: BlobBackend = {
  name: 'file',
  async open() {
    const root = await mkdtemp(join(tmpdir(), 'cairn-blobs-'));
    return {
      blobs: new FileBlobStore(root),
      residue: async () =>
        (await readdir(root, { recursive: true, withFileTypes: true }))
          .filter((entry) => entry.isFile())
          .map((entry) => join(entry.parentPath, entry.name)),
      close: () => rm(root, { recursive: true, force: true }),
    };
  },
};

/** A body delivered in several chunks, as an upload arrives. */
function chunked(bytes: Buffer, chunkSize = 64 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return Readable.from(chunks);
}

async function read(blobs: BlobStore, key: string, range?: { start: number; end: number }): Promise<Buffer> {
  const stream = await blobs.get(key, range);
  if (!stream) throw new Error(`blob ${key} is absent`);
  return buffer(stream);
}

describe.each([fileBackend])('BlobStore contract ($name)', (backend) => {
  let blobs: BlobStore;
  let residue: () => Promise<string[]>;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ blobs, residue, close } = await backend.open());
  });
  afterAll(async () => {
    await close?.();
  });

  const newKey = () => `experiments/${randomBytes(8).toString('hex')}/assets/${randomBytes(8).toString('hex')}`;

  it('puts, reports the size, and gets the exact bytes back', async () => {
    const key = newKey();
    const bytes = randomBytes(300_000);
    expect(await blobs.put(key, chunked(bytes))).toEqual({ size: bytes.length });
    expect(await blobs.size(key)).toBe(bytes.length);
    expect((await read(blobs, key)).equals(bytes)).toBe(true);
  });

  it('stores an empty object', async () => {
    const key = newKey();
    expect(await blobs.put(key, Readable.from([]))).toEqual({ size: 0 });
    expect(await blobs.size(key)).toBe(0);
    expect((await read(blobs, key)).length).toBe(0);
  });

  it('reads inclusive byte ranges', async () => {
    const key = newKey();
    const bytes = randomBytes(10_000);
    await blobs.put(key, chunked(bytes, 999));
    for (const [start, end] of [
      [0, 0],
      [0, 9_999],
      [5, 5],
      [1_000, 4_321],
      [9_998, 9_999],
    ] as const) {
      expect((await read(blobs, key, { start, end })).equals(bytes.subarray(start, end + 1))).toBe(true);
    }
  });

  it('replaces an object put again under the same key', async () => {
    const key = newKey();
    await blobs.put(key, chunked(randomBytes(5_000)));
    const second = randomBytes(1_234);
    expect(await blobs.put(key, chunked(second))).toEqual({ size: 1_234 });
    expect(await blobs.size(key)).toBe(1_234);
    expect((await read(blobs, key)).equals(second)).toBe(true);
  });

  it('answers undefined for an absent key', async () => {
    const key = newKey();
    expect(await blobs.get(key)).toBeUndefined();
    expect(await blobs.get(key, { start: 0, end: 10 })).toBeUndefined();
    expect(await blobs.size(key)).toBeUndefined();
  });

  it('deletes, and deleting an absent key is not an error', async () => {
    const key = newKey();
    await blobs.put(key, chunked(randomBytes(10)));
    await blobs.delete(key);
    expect(await blobs.get(key)).toBeUndefined();
    expect(await blobs.size(key)).toBeUndefined();
    await expect(blobs.delete(key)).resolves.toBeUndefined();
    await expect(blobs.delete(newKey())).resolves.toBeUndefined();
  });

  it('accepts an object of exactly maxBytes and rejects a larger one with TooLargeError, leaving nothing', async () => {
    const exact = newKey();
    expect(await blobs.put(exact, chunked(randomBytes(4_096)), { maxBytes: 4_096 })).toEqual({ size: 4_096 });

    const before = await residue();
    const key = newKey();
    const attempt = blobs.put(key, chunked(randomBytes(200_000), 10_000), { maxBytes: 50_000 });
    await expect(attempt).rejects.toBeInstanceOf(TooLargeError);
    expect(await blobs.size(key)).toBeUndefined();
    expect(await blobs.get(key)).toBeUndefined();
    expect((await residue()).sort()).toEqual(before.sort());
  });

  it('leaves no object when the body fails part-way', async () => {
    const before = await residue();
    const key = newKey();
    async function* failing() {
      yield randomBytes(70_000);
      yield randomBytes(70_000);
      throw new Error('client went away');
    }
    await expect(blobs.put(key, Readable.from(failing()))).rejects.toThrow('client went away');
    expect(await blobs.size(key)).toBeUndefined();
    expect((await residue()).sort()).toEqual(before.sort());
  });

  it('keeps the previous object when a replacing put fails', async () => {
    const key = newKey();
    const original = randomBytes(2_000);
    await blobs.put(key, chunked(original));
    await expect(blobs.put(key, chunked(randomBytes(9_000)), { maxBytes: 5_000 })).rejects.toBeInstanceOf(
      TooLargeError,
    );
    expect((await read(blobs, key)).equals(original)).toBe(true);
  });

  it('keeps concurrent puts to different keys apart', async () => {
    const entries = Array.from({ length: 12 }, () => ({ key: newKey(), bytes: randomBytes(40_000) }));
    await Promise.all(entries.map(({ key, bytes }) => blobs.put(key, chunked(bytes, 4_000))));
    for (const { key, bytes } of entries) expect((await read(blobs, key)).equals(bytes)).toBe(true);
  });
});
