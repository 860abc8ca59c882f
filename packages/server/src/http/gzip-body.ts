import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { FastifyRequest } from 'fastify';

/**
 * preParsing hook: inflates `Content-Encoding: gzip` bodies (comet_ml gzips batches and output).
 * Fastify then enforces bodyLimit on the inflated stream, which bounds gzip bombs.
 */
export async function gunzipRequestBody(request: FastifyRequest, _reply: unknown, payload: Readable) {
  const encoding = request.headers['content-encoding'];
  if (typeof encoding !== 'string' || encoding.toLowerCase() !== 'gzip') return payload;
  const gunzip = createGunzip();
  let encodedLength = 0;
  payload.on('data', (chunk: Buffer) => {
    encodedLength += chunk.length;
  });
  payload.on('end', () => {
    // Fastify compares this with Content-Length, which counts compressed bytes.
    (gunzip as unknown as { receivedEncodedLength: number }).receivedEncodedLength = encodedLength;
  });
  payload.pipe(gunzip);
  return gunzip;
}
