import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListPartsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { BlobStore, ByteRange, StoredBlob } from '../../core/blob.port.js';
import { TooLargeError, UnavailableError } from '../../core/errors.js';

/** Where the blobs go and how to reach the server; credentials come from the SDK's default chain. */
export interface S3BlobLocation {
  bucket: string;
  /** Prepended to every key: empty, or ending with `/`. */
  prefix: string;
  /** An S3-compatible server (SeaweedFS, MinIO, R2…); AWS's own endpoint when absent. */
  endpoint?: string;
  /** When absent, the SDK's chain decides (AWS_REGION, the shared config file). */
  region?: string;
  /** `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`. */
  forcePathStyle: boolean;
}

export interface S3BlobStoreOptions extends S3BlobLocation {
  /**
   * Bytes per multipart part (S3's minimum is 5 MiB). A put holds at most about
   * partSize × (queueSize + 1) bytes in memory, whatever the object's size.
   */
  partSize?: number;
  /** Parts of one put in flight at once. */
  queueSize?: number;
  /** Fixed credentials (tests); the SDK's default chain when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;
const DEFAULT_QUEUE_SIZE = 2;
/** How long to wait to open a connection: an unreachable server must fail a request, not hang it. */
const CONNECTION_TIMEOUT_MILLIS = 5_000;
/** Asked of clients when S3 cannot be reached or is overloaded (5xx, SlowDown). */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;
const URL_PARAMETERS = new Set(['endpoint', 'region', 'forcePathStyle']);

/**
 * `s3://bucket/prefix?endpoint=…&region=…&forcePathStyle=true`. The endpoint falls back to
 * AWS_ENDPOINT_URL_S3 then AWS_ENDPOINT_URL, the region to AWS_REGION then AWS_DEFAULT_REGION.
 * Path-style addressing defaults to on with a custom endpoint (S3-compatible servers rarely serve
 * bucket subdomains) and off against AWS itself.
 */
export function parseS3BlobUrl(url: string, env: NodeJS.ProcessEnv): S3BlobLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`invalid blob store URL ${url}: use s3://bucket/prefix`);
  }
  if (parsed.protocol !== 's3:' || !parsed.hostname) {
    throw new Error(`invalid blob store URL ${url}: use s3://bucket/prefix`);
  }
  if (parsed.username || parsed.password || parsed.port) {
    throw new Error(
      `invalid blob store URL ${url}: credentials come from the AWS variables or profile, the endpoint from ?endpoint=`,
    );
  }
  for (const name of parsed.searchParams.keys()) {
    if (!URL_PARAMETERS.has(name)) {
      throw new Error(`unknown parameter ${name} in blob store URL ${url}: use endpoint, region or forcePathStyle`);
    }
  }
  const path = decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '');
  const endpoint = parsed.searchParams.get('endpoint') || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const region = parsed.searchParams.get('region') || env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  const pathStyle = parsed.searchParams.get('forcePathStyle');
  if (pathStyle !== null && pathStyle !== 'true' && pathStyle !== 'false') {
    throw new Error(`invalid forcePathStyle=${pathStyle} in blob store URL ${url}: use true or false`);
  }
  return {
    bucket: parsed.hostname,
    prefix: path ? `${path}/` : '',
    ...(endpoint ? { endpoint } : {}),
    // S3-compatible servers ignore the region but the SDK's signature needs one.
    ...(region ? { region } : endpoint ? { region: 'us-east-1' } : {}),
    forcePathStyle: pathStyle === null ? endpoint !== undefined : pathStyle === 'true',
  };
}

/**
 * Blobs as objects in an S3 bucket, under a key prefix. A put streams its body as a multipart
 * upload (one PutObject when it fits one part): S3 shows no object until the upload completes,
 * so readers never see a partial one, and a failed put aborts its upload. A killed process leaves
 * an unfinished multipart upload (parts that are billed but invisible), which `removeAbandoned`
 * aborts; a bucket lifecycle rule for incomplete uploads is the belt to those braces.
 */
export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  /**
   * Keys with a put running in this process (and how many): their multipart uploads are never
   * abandoned. S3 does not hand out the upload's id before it completes, so it is the key that is
   * spared; keys are unique ids, so an abandoned upload sharing one waits for the next sweep.
   */
  private readonly writing = new Map<string, number>();

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.partSize = options.partSize ?? DEFAULT_PART_SIZE;
    this.queueSize = options.queueSize ?? DEFAULT_QUEUE_SIZE;
    this.client = new S3Client({
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.region ? { region: options.region } : {}),
      forcePathStyle: options.forcePathStyle,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // The SDK's default since 3.729 adds CRC checksums to every request, which S3-compatible
      // servers do not all handle (SeaweedFS 4.48 answers some with BadDigest): only where S3
      // requires one. TCP and TLS still guard the bytes in transit.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MILLIS },
    });
  }

  async put(key: string, body: Readable, options: { maxBytes?: number } = {}): Promise<{ size: number }> {
    const limit = options.maxBytes ?? Number.POSITIVE_INFINITY;
    let size = 0;
    // Counted as the bytes arrive: past the limit the body stops being read and the upload fails,
    // without waiting for the rest of a body that may be far larger.
    let bodyError: unknown;
    const counted = async function* () {
      // Set while the upload holds a chunk: an error arriving then is the upload's (which stops
      // reading by throwing into this generator), not the body's.
      let handedOver = false;
      try {
        for await (const chunk of body) {
          size += (chunk as Buffer).length;
          if (size > limit) throw new TooLargeError(`upload exceeds the limit of ${limit} bytes`);
          handedOver = true;
          yield chunk as Buffer;
          handedOver = false;
        }
      } catch (error) {
        if (!handedOver) bodyError = error;
        throw error;
      }
    };
    const source = Readable.from(counted());
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.objectKey(key), Body: source },
      partSize: this.partSize,
      queueSize: this.queueSize,
    });
    this.writing.set(key, (this.writing.get(key) ?? 0) + 1);
    try {
      // A failure of the body reaches Upload through its reads; Upload then waits for the parts
      // in flight and aborts the multipart upload before rejecting, so nothing is left behind.
      // (Upload.abort() would reject at once and abort in the background: too early to say so.)
      await upload.done();
    } catch (error) {
      // The body's own failure is the cause, even if aborting the upload failed as well (the
      // sweeper then clears what is left).
      if (bodyError !== undefined) throw bodyError;
      // Stops reading the client's body, as a failed write to a file does.
      source.destroy();
      throw unavailable(error);
    } finally {
      const running = (this.writing.get(key) ?? 1) - 1;
      if (running === 0) this.writing.delete(key);
      else this.writing.set(key, running);
    }
    return { size };
  }

  async get(key: string, range?: ByteRange): Promise<Readable | undefined> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.objectKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      if (!(response.Body instanceof Readable)) throw new Error('S3 returned no body stream');
      return response.Body;
    } catch (error) {
      if (isAbsent(error)) return undefined;
      // A range starting past the end: nothing to read, as a file read past its end gives.
      if (range && error instanceof S3ServiceException && error.$metadata.httpStatusCode === 416) {
        return Readable.from([]);
      }
      throw unavailable(error);
    }
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isAbsent(error)) return undefined;
      throw unavailable(error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      // S3 answers 204 for an absent key as well.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
    } catch (error) {
      if (isAbsent(error)) return;
      throw unavailable(error);
    }
  }

  async *list(prefix: string): AsyncIterable<StoredBlob> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
      } catch (error) {
        throw unavailable(error);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !object.Key.startsWith(this.prefix)) continue;
        yield { key: object.Key.slice(this.prefix.length), writtenAt: object.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async removeAbandoned(before: number): Promise<number> {
    let removed = 0;
    try {
      for await (const upload of this.multipartUploads()) {
        const key = upload.key.slice(this.prefix.length);
        if (this.writing.has(key) || upload.initiated >= before) continue;
        // Written to since `before` (a slow upload of another process): not abandoned yet.
        if ((await this.lastPartWritten(upload.key, upload.id)) >= before) continue;
        await this.client.send(
          new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.key, UploadId: upload.id }),
        );
        removed += 1;
      }
    } catch (error) {
      throw unavailable(error);
    }
    return removed;
  }

  /** Unfinished multipart uploads under the prefix (full object keys). */
  private async *multipartUploads(): AsyncIterable<{ key: string; id: string; initiated: number }> {
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: this.prefix,
          ...(keyMarker ? { KeyMarker: keyMarker } : {}),
          ...(idMarker ? { UploadIdMarker: idMarker } : {}),
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key === undefined || upload.UploadId === undefined) continue;
        yield { key: upload.Key, id: upload.UploadId, initiated: upload.Initiated?.getTime() ?? 0 };
      }
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
    } while (keyMarker);
  }

  /** When the upload's latest part was written (0 when it has none). */
  private async lastPartWritten(key: string, uploadId: string): Promise<number> {
    let latest = 0;
    let marker: string | undefined;
    do {
      const page = await this.client.send(
        new ListPartsCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          ...(marker ? { PartNumberMarker: marker } : {}),
        }),
      );
      for (const part of page.Parts ?? []) latest = Math.max(latest, part.LastModified?.getTime() ?? 0);
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
    return latest;
  }

  private objectKey(key: string): string {
    return this.prefix + key;
  }
}

function isAbsent(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404;
}

/** Network failures and S3's own "try again" answers (5xx, SlowDown). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * S3 that cannot be reached, or answers that it cannot take the request now, surfaces as the
 * core's UnavailableError (the facades answer 503 with Retry-After); anything else (a denied
 * request, a missing bucket: the operator's to fix) passes through as it is, a 500.
 */
function unavailable(error: unknown): unknown {
  if (error instanceof UnavailableError || error instanceof TooLargeError) return error;
  const code = (error as { code?: unknown }).code;
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
  const reachable = !(
    (typeof code === 'string' && UNREACHABLE_CODES.has(code)) ||
    (error instanceof Error && error.name === 'TimeoutError') ||
    (status !== undefined && status >= 500) ||
    (error instanceof S3ServiceException && error.name === 'SlowDown')
  );
  if (reachable) return error;
  const wrapped = new UnavailableError('the blob store is unavailable; retry later', UNAVAILABLE_RETRY_AFTER_SECONDS);
  // Kept for the server log; the message clients see names no S3 detail.
  wrapped.cause = error;
  return wrapped;
}
