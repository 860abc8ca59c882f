import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../src/core/blob.port.js';
import { TooLargeError } from '../src/core/errors.js';
import { FileBlobStore } from '../src/storage/blob/file-blob.store.js';
import { S3BlobStore } from '../src/storage/blob/s3-blob.store.js';
import { type SeaweedFs, startSeaweedFs } from './support/seaweedfs.js';

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

/** One SeaweedFS for the file, started by the first suite that needs it. */
let seaweed: Promise<SeaweedFs> | undefined;
const seaweedFs = () => {
  seaweed ??= startSeaweedFs();
  return seaweed;
};
afterAll(async () => {
  await (await seaweed?.catch(() => undefined))?.stop();
}, 30_000);

/** S3's smallest part: multi-part bodies stay small enough for a test. */
const PART_SIZE = 5 * 1024 * 1024;

/** A fresh bucket of the shared SeaweedFS, the store under a key prefix of it. */
async function openS3(): Promise<{ server: SeaweedFs; bucket: string; prefix: string; blobs: S3BlobStore }> {
  const server = await seaweedFs();
  const bucket = await server.createBucket();
  const prefix = 'cairn/blobs/';
  const blobs = new S3BlobStore({
    bucket,
    prefix,
    endpoint: server.endpoint,
    region: server.region,
    credentials: server.credentials,
    forcePathStyle: true,
    partSize: PART_SIZE,
    queueSize: 2,
  });
  return { server, bucket, prefix, blobs };
}

/** Every object and every unfinished multipart upload in the bucket, whatever the prefix. */
async function bucketResidue(server: SeaweedFs, bucket: string): Promise<string[]> {
  const found: string[] = [];
  let token: string | undefined;
  do {
    const page = await server.client.send(
      new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }),
    );
    for (const object of page.Contents ?? []) found.push(`object ${object.Key}`);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  found.push(...(await multipartUploads(server, bucket)).map((upload) => `upload ${upload.key} ${upload.id}`));
  return found;
}

async function multipartUploads(
  server: SeaweedFs,
  bucket: string,
  prefix = '',
): Promise<{ key: string; id: string }[]> {
  const page = await server.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  // The tests leave at most a handful: one page holds them (1000 by default).
  expect(page.IsTruncated ?? false).toBe(false);
  return (page.Uploads ?? []).map((upload) => ({ key: upload.Key ?? '', id: upload.UploadId ?? '' }));
}

const s3Backend: BlobBackend = {
  name: 's3',
  async open() {
    const { server, bucket, blobs } = await openS3();
    return {
      blobs,
      residue: () => bucketResidue(server, bucket),
      close: async () => blobs.client.destroy(),
    };
  },
};

/** Polls `check` until it holds (bounded: a failure, not a hang, when it never does). */
async function until(check: () => Promise<boolean>, what: string, timeoutMillis = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

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

describe.each([fileBackend, s3Backend])('BlobStore contract ($name)', (backend) => {
  let blobs: BlobStore;
  let residue: () => Promise<string[]>;
  let close: () => Promise<void>;

  // Generous: the S3 backend may first create SeaweedFS's venv from PyPI.
  beforeAll(async () => {
    ({ blobs, residue, close } = await backend.open());
  }, 600_000);
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

  it('lists the complete objects under a prefix with when they were written, not a put still running', async () => {
    const folder = `experiments/${randomBytes(8).toString('hex')}/`;
    // Some stores keep whole seconds.
    const since = Math.floor(Date.now() / 1000) * 1000 - 1000;
    const keys = [`${folder}a`, `${folder}b/c`, `${folder}d`];
    for (const key of keys) await blobs.put(key, chunked(randomBytes(1_000)));
    await blobs.put(`${folder.slice(0, -1)}-sibling`, chunked(randomBytes(10)));
    const stalled = new Readable({ read() {} });
    stalled.push(randomBytes(1_000));
    const running = blobs.put(`${folder}running`, stalled);

    const listed: { key: string; writtenAt: number }[] = [];
    for await (const blob of blobs.list(folder)) listed.push(blob);
    expect(listed.map((blob) => blob.key).sort()).toEqual(keys);
    for (const blob of listed) {
      expect(blob.writtenAt).toBeGreaterThanOrEqual(since);
      expect(blob.writtenAt).toBeLessThanOrEqual(Date.now() + 1000);
    }
    stalled.push(null);
    await running;
    const after: string[] = [];
    for await (const blob of blobs.list(folder)) after.push(blob.key);
    expect(after.sort()).toEqual([...keys, `${folder}running`].sort());
  });
});

describe('S3BlobStore on SeaweedFS', () => {
  let server: SeaweedFs;
  let bucket: string;
  let prefix: string;
  let blobs: S3BlobStore;

  beforeAll(async () => {
    ({ server, bucket, prefix, blobs } = await openS3());
    console.log(`SeaweedFS ${server.endpoint} answered ${server.startMillis} ms after it was spawned`);
  }, 600_000);
  afterAll(() => blobs?.client.destroy());

  const newKey = () => `experiments/${randomBytes(8).toString('hex')}/assets/${randomBytes(8).toString('hex')}`;
  const MiB = 1024 * 1024;

  it('reads ranges of a multi-part object, within the second part and across the parts', async () => {
    const key = newKey();
    const bytes = randomBytes(12 * MiB);
    expect(await blobs.put(key, chunked(bytes, 256 * 1024))).toEqual({ size: bytes.length });
    expect(await blobs.size(key)).toBe(bytes.length);
    expect((await read(blobs, key)).equals(bytes)).toBe(true);
    for (const [start, end] of [
      [PART_SIZE + 1_000, PART_SIZE + 2_000_000],
      [PART_SIZE - 10, PART_SIZE + 9],
      [2 * PART_SIZE - 1, 2 * PART_SIZE],
      [12 * MiB - 1, 12 * MiB - 1],
    ] as const) {
      expect((await read(blobs, key, { start, end })).equals(bytes.subarray(start, end + 1))).toBe(true);
    }
  });

  it('enforces the size limit mid-stream: the multipart upload is aborted, the rest of the body never read', async () => {
    const key = newKey();
    const before = await bucketResidue(server, bucket);
    const chunk = randomBytes(MiB);
    let pulled = 0;
    let sawUpload = false;
    // A body far over the limit, produced as it is read; it waits (once past two parts) until
    // the multipart upload shows in the bucket, so the failure has an upload to abort.
    async function* huge() {
      for (let i = 0; i < 1024; i++) {
        if (pulled === 20 * MiB) {
          await until(async () => {
            sawUpload = (await multipartUploads(server, bucket, prefix + key)).length === 1;
            return sawUpload;
          }, 'the multipart upload shows');
        }
        pulled += chunk.length;
        yield chunk;
      }
    }
    await expect(blobs.put(key, Readable.from(huge()), { maxBytes: 24 * MiB })).rejects.toBeInstanceOf(TooLargeError);
    expect(sawUpload).toBe(true);
    // Read past the limit by no more than the stream's read-ahead, nowhere near the whole GiB.
    expect(pulled).toBeGreaterThan(24 * MiB);
    expect(pulled).toBeLessThanOrEqual(64 * MiB);
    expect(await multipartUploads(server, bucket, prefix + key)).toEqual([]);
    await expect(server.client.send(new HeadObjectCommand({ Bucket: bucket, Key: prefix + key }))).rejects.toThrow();
    expect(await blobs.size(key)).toBeUndefined();
    expect((await bucketResidue(server, bucket)).sort()).toEqual(before.sort());
  });

  it('removeAbandoned aborts an unfinished upload older than `before`, never a put still running here', async () => {
    // An upload a killed process left: created, one part written, never completed.
    const deadKey = newKey();
    const created = await server.client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: prefix + deadKey }),
    );
    await server.client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: prefix + deadKey,
        UploadId: created.UploadId,
        PartNumber: 1,
        Body: randomBytes(PART_SIZE),
      }),
    );
    // A put of this process past its first part, stalled.
    const runningKey = newKey();
    const first = randomBytes(PART_SIZE + 1_000);
    const rest = randomBytes(2_000);
    const stalled = new Readable({ read() {} });
    stalled.push(first);
    const running = blobs.put(runningKey, stalled);
    await until(
      async () => (await multipartUploads(server, bucket, prefix + runningKey)).length === 1,
      'the running put has a multipart upload',
    );

    // Both began after `before`: nothing is abandoned yet.
    expect(await blobs.removeAbandoned(Date.now() - 60_000)).toBe(0);
    expect((await multipartUploads(server, bucket, prefix)).map((upload) => upload.key).sort()).toEqual(
      [prefix + deadKey, prefix + runningKey].sort(),
    );
    // Both began before `before`: the dead one goes, the running one stays.
    expect(await blobs.removeAbandoned(Date.now() + 60_000)).toBe(1);
    expect((await multipartUploads(server, bucket, prefix)).map((upload) => upload.key)).toEqual([prefix + runningKey]);

    stalled.push(rest);
    stalled.push(null);
    expect(await running).toEqual({ size: first.length + rest.length });
    expect((await read(blobs, runningKey)).equals(Buffer.concat([first, rest]))).toBe(true);
    expect(await multipartUploads(server, bucket, prefix)).toEqual([]);
  });
});
