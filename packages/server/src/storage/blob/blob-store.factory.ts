import { fileURLToPath } from 'node:url';
import type { BlobStore } from '../../core/blob.port.js';
import { FileBlobStore } from './file-blob.store.js';

/** Chooses the blob store by URL scheme: `file:<path>` today; `s3://` is planned. */
export function openBlobStore(url: string): BlobStore {
  if (url.startsWith('file://')) return new FileBlobStore(fileURLToPath(url));
  if (url.startsWith('file:')) return new FileBlobStore(url.slice('file:'.length));
  throw new Error(`unsupported blob store URL ${url}: use file:<path>`);
}
