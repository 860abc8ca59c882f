import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobSweeper } from '../src/core/blob-sweep.service.js';
import { assetBlobKey } from '../src/core/projects.service.js';
import { S3BlobStore } from '../src/storage/blob/s3-blob.store.js';
import { freePort, type Server, startServer, stopServer } from './support/python-compat.js';
import { type SeaweedFs, startSeaweedFs } from './support/seaweedfs.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';
import { multipart } from './support/wire-bodies.js';

const API = '/api/cairn/v1';
const PREFIX = 'cairn/';

let seaweed: Promise<SeaweedFs> | undefined;
afterAll(async () => {
  await (await seaweed?.catch(() => undefined))?.stop();
}, 30_000);

describe.each(backends)('assets on an S3 blob store (%s)', (backend) => {
  let server: SeaweedFs;
  let bucket: string;
  let s3: S3BlobStore;
  let t: TestContext;
  /** A store whose S3 endpoint nobody listens on. */
  let unreachable: S3BlobStore;
  let down: TestContext;

  beforeAll(async () => {
    seaweed ??= startSeaweedFs();
    server = await seaweed;
    bucket = await server.createBucket();
    s3 = new S3BlobStore({
      bucket,
      prefix: PREFIX,
      endpoint: server.endpoint,
      region: server.region,
      credentials: server.credentials,
      forcePathStyle: true,
    });
    t = await createTestContext(backend, { blobs: () => s3 });
    unreachable = new S3BlobStore({
      bucket,
      prefix: PREFIX,
      endpoint: `http://127.0.0.1:${await freePort()}`,
      region: server.region,
      credentials: server.credentials,
      forcePathStyle: true,
    });
    down = await createTestContext(backend, { blobs: () => unreachable });
  }, 600_000);
  afterAll(async () => {
    await t?.close();
    await down?.close();
    s3?.client.destroy();
    unreachable?.client.destroy();
  });

  async function newExperiment(context: TestContext): Promise<string> {
    const principal = await context.core.auth.authenticate(context.adminKey);
    const view = await context.core.experiments.create(principal, { workspaceName: 'default', projectName: 's3' });
    return view.experiment.id;
  }

  it('stores an uploaded asset in the bucket and serves it whole and by byte range', async () => {
    const key = await newExperiment(t);
    const bytes = randomBytes(700_000);
    const form = await multipart([['file', bytes, 'weights.bin']]);
    const uploaded = await t.request('POST', `${API}/experiments/${key}/assets`, {
      payload: form.payload,
      headers: form.headers,
    });
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    const id = uploaded.json().id as string;

    // The bytes went to the bucket under the prefix, not to the local blob folder.
    const row = (await t.rows('assets')).find((asset) => asset.experiment_id === key);
    const head = await server.client.send(
      new HeadObjectCommand({ Bucket: bucket, Key: `${PREFIX}${row?.blob_key as string}` }),
    );
    expect(head.ContentLength).toBe(bytes.length);
    expect(await readdir(t.blobDir).catch(() => [])).toEqual([]);

    const whole = await t.request('GET', `${API}/experiments/${key}/assets/${id}`);
    expect(whole.statusCode).toBe(200);
    expect(whole.rawPayload.equals(bytes)).toBe(true);
    const part = await t.request('GET', `${API}/experiments/${key}/assets/${id}`, {
      headers: { range: 'bytes=500000-600099' },
    });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 500000-600099/${bytes.length}`);
    expect(part.rawPayload.equals(bytes.subarray(500_000, 600_100))).toBe(true);
    const tail = await t.request('GET', `${API}/experiments/${key}/assets/${id}`, { headers: { range: 'bytes=-10' } });
    expect(tail.statusCode).toBe(206);
    expect(tail.rawPayload.equals(bytes.subarray(bytes.length - 10))).toBe(true);

    expect((await t.request('DELETE', `${API}/experiments/${key}/assets/${id}`)).statusCode).toBe(204);
    expect(await s3.size(row?.blob_key as string)).toBeUndefined();
  });

  it('the sweep deletes an old object no row refers to and aborts a dead upload, keeping the assets', async () => {
    const key = await newExperiment(t);
    const form = await multipart([['file', randomBytes(5_000), 'kept.bin']]);
    const kept = await t.request('POST', `${API}/experiments/${key}/assets`, {
      payload: form.payload,
      headers: form.headers,
    });
    expect(kept.statusCode, kept.body).toBe(201);
    const keptKey = (await t.rows('assets')).find((row) => row.experiment_id === key)?.blob_key as string;
    // Bytes of an upload killed between storing them and committing its row.
    const orphan = assetBlobKey(key, 'orphaned0000');
    await s3.put(orphan, Readable.from([Buffer.from('orphan')]));
    // An upload killed mid-body: a multipart upload never completed.
    const dead = await server.client.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${PREFIX}${assetBlobKey(key, 'dead00000000')}` }),
    );

    // An hour from now, everything above is older than the 10-minute grace period.
    const later = { now: () => Date.now() + 60 * 60 * 1000 };
    const swept = await new BlobSweeper(t.store, s3, later, { graceMillis: 10 * 60 * 1000, intervalMillis: 0 }).sweep();
    expect(swept).toMatchObject({ orphans: 1, abandoned: 1 });
    expect(await s3.size(orphan)).toBeUndefined();
    expect(await s3.size(keptKey)).toBe(5_000);
    const uploads = await server.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: PREFIX }));
    expect((uploads.Uploads ?? []).map((upload) => upload.UploadId)).not.toContain(dead.UploadId);
    const download = await t.request('GET', `${API}/experiments/${key}/assets/${kept.json().id}`);
    expect(download.statusCode).toBe(200);
  });

  it('answers 503 with Retry-After when S3 cannot be reached, naming no S3 detail and committing no asset', async () => {
    const key = await newExperiment(down);
    const form = await multipart([['file', randomBytes(10_000), 'weights.bin']]);
    const response = await down.request('POST', `${API}/experiments/${key}/assets`, {
      payload: form.payload,
      headers: form.headers,
    });
    expect(response.statusCode, response.body).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json()).toMatchObject({ status: 503, detail: 'the blob store is unavailable; retry later' });
    expect(response.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|at /);
    expect((await down.rows('assets')).filter((row) => row.experiment_id === key)).toEqual([]);
  });
});

describe('cairn server with CAIRN_BLOB_URL=s3://…', () => {
  let server: SeaweedFs;
  let bucket: string;
  let cairn: Server | undefined;
  let dataDir: string | undefined;
  const adminKey = 'S3AdminKey0000000000000000000000000000000';

  beforeAll(async () => {
    seaweed ??= startSeaweedFs();
    server = await seaweed;
    bucket = await server.createBucket();
    dataDir = await mkdtemp(join(tmpdir(), 'cairn-s3-server-'));
    // Endpoint, region and credentials from the standard AWS variables, as an operator would set them.
    cairn = await startServer({
      dataDir,
      adminKey,
      env: { ...server.awsEnv(), CAIRN_BLOB_URL: `s3://${bucket}/server-blobs` },
    });
  }, 600_000);
  afterAll(async () => {
    await stopServer(cairn);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('uploads an asset into the bucket and downloads a range of it', async () => {
    if (!cairn) throw new Error('the server did not start');
    const base = `http://127.0.0.1:${cairn.port}${API}`;
    const headers = { authorization: adminKey };
    const created = await fetch(`${base}/workspaces/default/projects/s3/experiments`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const key = ((await created.json()) as { key: string }).key;
    const bytes = randomBytes(300_000);
    const form = new FormData();
    form.append('file', new Blob([bytes]), 'weights.bin');
    const uploaded = await fetch(`${base}/experiments/${key}/assets`, { method: 'POST', headers, body: form });
    expect(uploaded.status, await uploaded.clone().text()).toBe(201);
    const id = ((await uploaded.json()) as { id: string }).id;

    const objects = await server.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'server-blobs/' }));
    expect((objects.Contents ?? []).map((object) => object.Size)).toEqual([bytes.length]);
    const part = await fetch(`${base}/experiments/${key}/assets/${id}`, {
      headers: { ...headers, range: 'bytes=1000-1999' },
    });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(1000, 2000))).toBe(true);
  });
});
