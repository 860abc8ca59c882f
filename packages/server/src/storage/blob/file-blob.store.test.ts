import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TooLargeError } from '../../core/errors.js';
import { FileBlobStore } from './file-blob.store.js';

async function readAll(stream: Readable | undefined): Promise<Buffer> {
  if (!stream) throw new Error('expected a stream');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A source that yields some bytes and then fails, like a client connection that drops. */
function failingSource(bytes: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) this.destroy(new Error('connection reset'));
      else {
        sent = true;
        this.push(bytes);
      }
    },
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describe('FileBlobStore', () => {
  let root: string;
  let blobs: FileBlobStore;
  const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cairn-blobs-'));
    blobs = new FileBlobStore(root);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores a stream and reads it back whole or by inclusive byte range', async () => {
    expect(await blobs.put('a/b/c', Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]))).toEqual({
      size: bytes.length,
    });
    expect(await blobs.size('a/b/c')).toBe(bytes.length);
    expect((await readAll(await blobs.get('a/b/c'))).equals(bytes)).toBe(true);
    expect((await readAll(await blobs.get('a/b/c', { start: 10, end: 19 }))).equals(bytes.subarray(10, 20))).toBe(true);
    expect((await readAll(await blobs.get('a/b/c', { start: 4095, end: 4095 }))).equals(bytes.subarray(4095))).toBe(
      true,
    );
  });

  it('reports absent keys as undefined and deletes idempotently', async () => {
    expect(await blobs.get('missing')).toBeUndefined();
    expect(await blobs.size('missing')).toBeUndefined();
    await blobs.put('k', Readable.from([bytes]));
    await blobs.delete('k');
    await blobs.delete('k');
    expect(await blobs.get('k')).toBeUndefined();
  });

  it('accepts exactly maxBytes and rejects one byte more without leaving anything behind', async () => {
    expect(await blobs.put('exact', Readable.from([bytes]), { maxBytes: bytes.length })).toEqual({
      size: bytes.length,
    });
    await expect(
      blobs.put('over', Readable.from([bytes, Buffer.from([1])]), { maxBytes: bytes.length }),
    ).rejects.toBeInstanceOf(TooLargeError);
    expect(await blobs.size('over')).toBeUndefined();
    expect(await filesUnder(root)).toEqual(['exact']);
  });

  it('keeps the previous object when a replacing write fails', async () => {
    await blobs.put('patch', Readable.from([Buffer.from('old')]));
    await expect(blobs.put('patch', failingSource(Buffer.from('partial new')))).rejects.toThrow('connection reset');
    expect((await readAll(await blobs.get('patch'))).toString()).toBe('old');
    expect(await filesUnder(root)).toEqual(['patch']);

    await blobs.put('patch', Readable.from([Buffer.from('new')]));
    expect((await readAll(await blobs.get('patch'))).toString()).toBe('new');
  });

  it('refuses keys that would escape its folder', async () => {
    await expect(blobs.put('../outside', Readable.from([bytes]))).rejects.toThrow(/invalid blob key/);
    await expect(blobs.get('a/../../outside')).rejects.toThrow(/invalid blob key/);
  });
});
