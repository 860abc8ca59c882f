import { fileURLToPath } from 'node:url';
import type { BlobStore } from '../../core/blob.port.js';
import { FileBlobStore } from './file-blob.store.js';
import { parseS3BlobUrl, S3BlobStore } from './s3-blob.store.js';

/**
 * Chooses the blob store by URL scheme: `file:<path>` or `s3://bucket/prefix?endpoint=…`. `env`
 * supplies the standard AWS variables an `s3://` URL falls back to (the SDK reads the credentials
 * from the same environment).
 */
export function openBlobStore(url: string, env: NodeJS.ProcessEnv = process.env): BlobStore {
  if (url.startsWith('file://')) return new FileBlobStore(fileURLToPath(url));
  if (url.startsWith('file:')) return new FileBlobStore(url.slice('file:'.length));
  if (url.startsWith('s3:')) return new S3BlobStore(parseS3BlobUrl(url, env));
  throw new Error(`unsupported blob store URL ${url}: use file:<path> or s3://bucket/prefix`);
}
