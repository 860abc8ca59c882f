import { finished, PassThrough, type Readable } from 'node:stream';
import type { Multipart, MultipartFile } from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidArgumentError, TooLargeError } from '../core/errors.js';

/** The plugin's errors for more parts, files or fields than its limits allow. */
const PART_COUNT_LIMITS = new Set<unknown>(['FST_PARTS_LIMIT', 'FST_FILES_LIMIT', 'FST_FIELDS_LIMIT']);

/** Longest text taken from a part sent as a file; the same bound as the plugin's `fieldSize`. */
const MAX_TEXT_PART_BYTES = 1024 * 1024;

/** String parts one upload may carry; more is a malformed request (400). */
export const MAX_MULTIPART_FIELDS = 20;

/**
 * The @fastify/multipart limits every upload route registers. The reader refuses the field past
 * MAX_MULTIPART_FIELDS itself, so busboy's own field limit (one higher) is only a memory bound it
 * never reaches first: when busboy hits it ahead of a file part, @fastify/multipart still hands
 * out that file but stops feeding it, and the upload hangs or ends in a premature close.
 * busboy's file size limit sits one byte above the asset limit: at its limit busboy ends the file
 * stream normally, truncated, so the core must see the extra byte to refuse the upload.
 */
export function multipartLimits(maxAssetBytes: number) {
  return {
    fileSize: maxAssetBytes + 1,
    files: 1,
    fields: MAX_MULTIPART_FIELDS + 1,
    fieldSize: MAX_TEXT_PART_BYTES,
  };
}

/**
 * Reads a multipart body part by part without buffering files: string parts are collected, and
 * the reading stops at the file part so its stream can be handed on. The caller must consume that
 * stream before reading on, because busboy delivers parts strictly in order.
 */
export class MultipartReader {
  /** String parts by name; a repeated name keeps the last value. */
  readonly fields = new Map<string, string>();
  /** String parts read so far, repeated names included. */
  private fieldCount = 0;
  private readonly parts: AsyncIterableIterator<Multipart>;

  constructor(
    request: FastifyRequest,
    private readonly fileField: string,
  ) {
    if (!request.isMultipart()) throw new InvalidArgumentError('expected a multipart/form-data body');
    this.parts = request.parts();
  }

  /**
   * Collects string parts up to the file part; undefined when the body has none. The file's
   * stream fails with a 400 error when the body breaks off or is malformed mid-file.
   */
  async untilFile(): Promise<UploadedFile | undefined> {
    const part = await this.read(this.fields);
    return part && { ...part, file: clientFaultsAs400(part.file) };
  }

  /** Reads the string parts after the file part; returns those, and adds them to `fields`. */
  async rest(): Promise<Map<string, string>> {
    const after = new Map<string, string>();
    // The plugin allows one file per request, so busboy hands out no second one; this guards the
    // contract should that limit ever change.
    if (await this.read(after)) throw new InvalidArgumentError(`only one "${this.fileField}" part is allowed`);
    for (const [name, value] of after) this.fields.set(name, value);
    return after;
  }

  /**
   * The next part. busboy throws plain errors for a body that is not multipart as declared (no
   * boundary, a broken part header, an early end): the client's fault, so 400, never 500. The
   * plugin's own errors (limits) carry their status and pass unchanged.
   */
  private async next(): Promise<IteratorResult<Multipart>> {
    try {
      return await this.parts.next();
    } catch (error) {
      throw asClientError(error);
    }
  }

  private async read(into: Map<string, string>): Promise<MultipartFile | undefined> {
    for (let next = await this.next(); !next.done; next = await this.next()) {
      const part = next.value;
      if (part.type !== 'file' || part.fieldname !== this.fileField) {
        if (++this.fieldCount > MAX_MULTIPART_FIELDS) {
          throw new InvalidArgumentError(`malformed multipart body: more than ${MAX_MULTIPART_FIELDS} fields`);
        }
      }
      if (part.type === 'file') {
        if (part.fieldname === this.fileField) return part;
        // comet_ml sends a remote asset's `link` as a part with a file name ("link"); any part
        // other than the file is a string field, however it is dressed.
        into.set(part.fieldname, await readText(part.file, part.fieldname));
        continue;
      }
      if (part.valueTruncated) throw new TooLargeError(`multipart field "${part.fieldname}" is too large`);
      // A part sent as application/json arrives parsed; keep the text form the core stores.
      into.set(part.fieldname, typeof part.value === 'string' ? part.value : JSON.stringify(part.value));
    }
    return undefined;
  }
}
/** The file part of an upload, its stream yielding the file's bytes. */
export type UploadedFile = Omit<MultipartFile, 'file'> & { file: Readable };

function asClientError(error: unknown): Error {
  // Too many parts is a malformed request, not a body too large (the plugin's 413): the body
  // schemas state the counts.
  if (PART_COUNT_LIMITS.has((error as { code?: unknown }).code)) {
    return new InvalidArgumentError(`malformed multipart body: ${(error as Error).message}`);
  }
  if (typeof (error as { statusCode?: unknown }).statusCode === 'number') return error as Error;
  return new InvalidArgumentError(`malformed multipart body: ${(error as Error).message}`);
}

/**
 * busboy fails a file's stream with plain errors when the body ends early or a part breaks
 * (“Unexpected end of form”), and may close it unended when the request goes away: the client's
 * fault, but unmarked it would reach the facade as a 500. The stream handed on fails with the same
 * error as a 400; errors that carry a status (the plugin's size limits) pass unchanged. Not
 * `pipeline`: it would destroy `out` with the unmarked error before any mapping could run.
 */
function clientFaultsAs400(source: Readable): Readable {
  const out = new PassThrough();
  // The consumer may have stopped listening by the time the body breaks off (a refused upload);
  // its error then must not become an uncaught exception.
  out.on('error', () => {});
  source.pipe(out);
  finished(source, (error) => {
    if (error) out.destroy(asClientError(error));
  });
  // A reader that gives up early (a size limit) releases busboy's stream as pipeline would.
  out.once('close', () => {
    if (!source.readableEnded) source.destroy();
  });
  return out;
}

/**
 * Runs an upload; when it fails before the body was read to the end, the connection is closed
 * after the error reply. Otherwise Node would keep the unread upload on a kept-alive socket and
 * the client, still sending, would wait instead of reading the error.
 */
export async function closeOnFailure<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!request.raw.complete) reply.header('connection', 'close');
    throw error;
  }
}

async function readText(stream: Readable, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_TEXT_PART_BYTES) {
      stream.destroy();
      throw new TooLargeError(`multipart field "${name}" is too large`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
