import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { ZipFile } from 'yazl';
import type { AssetArchiveEntry } from '../core/assets.service.js';
import type { Asset } from '../core/entities.js';
import { attachment } from './download-headers.js';

/**
 * Streams a zip, one entry at a time, each opened only when yazl reaches it (so a large model
 * holds one file open, not all). Entries are stored uncompressed: model files are mostly
 * incompressible weights, and with known sizes yazl can announce the exact Content-Length.
 */
export function sendZip(
  reply: FastifyReply,
  name: string,
  entries: AssetArchiveEntry[],
  open: (asset: Asset) => Promise<Readable | undefined>,
): FastifyReply {
  const zip = new ZipFile();
  const output = zip.outputStream as Readable;
  let current: Readable | undefined;
  // Headers are gone once bytes flow; a failure mid-way can only cut the response short.
  const abort = (error: Error) => output.destroy(error);
  zip.on('error', abort);
  // A client that hangs up must not leave the entry being copied with an open file.
  output.once('close', () => current?.destroy());
  for (const { path, asset } of entries) {
    const options = { mtime: new Date(asset.createdAt), compress: false, size: asset.fileSize };
    zip.addReadStreamLazy(path, options, (callback) => {
      open(asset).then((stream) => {
        if (!stream) return abort(new Error(`the bytes of asset ${asset.id} are missing from the blob store`));
        current = stream;
        stream.once('error', abort);
        callback(null, stream);
      }, abort);
    });
  }
  zip.end(undefined, (totalSize?: unknown) => {
    if (typeof totalSize === 'number' && totalSize >= 0) reply.header('content-length', totalSize);
  });
  return reply.type('application/zip').header('content-disposition', attachment(name)).send(output);
}
