import type { Readable } from 'node:stream';
import {
  Document,
  DocumentList,
  DocumentParams,
  ExperimentKeyParams,
  NoContent,
  Problem,
  PutDocumentBody,
  RawHtmlDocument,
} from '@cairn/schemas/cairn';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Core } from '../../../../core/core.js';
import { InvalidArgumentError, NotFoundError } from '../../../../core/errors.js';
import { BinaryBody, MediaTypes } from '../../../binary-body.js';
import { RawBody } from '../../../documented-body.js';
import { closeOnFailure } from '../../../multipart-reader.js';
import { principalOf } from '../../../request-context.js';
import type { CairnApp } from '../cairn.plugin.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 429: Problem, 503: Problem };

/**
 * Logged HTML is the user's code: framed by the web UI, it runs in an opaque origin (`sandbox`
 * without allow-same-origin), so its scripts can neither read the app's pages nor call the API
 * with the session; only the app itself may frame it.
 */
const RAW_HTML_POLICY = "sandbox allow-scripts allow-popups allow-forms; frame-ancestors 'self'";

/** comet_ml 3.33+ uploads the patch zipped; older clients and Cairn's SDK send the diff itself. */
const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/**
 * The patch upload's body as documented: the route takes the raw bytes in any media type, which no
 * JSON Schema can refuse, so the schemas are annotations with no assertion.
 */
const GitPatchBody = RawBody({
  'text/x-diff': Type.Unsafe<string>({
    contentMediaType: 'text/x-diff',
    description: 'The diff (what the Cairn SDK sends)',
  }),
  'application/octet-stream': Type.Unsafe<Uint8Array>({
    contentMediaType: 'application/octet-stream',
    description: 'The bytes in any media type, e.g. the zipped patch comet_ml uploads',
  }),
});

/** Single-valued documents of an experiment (html, code, graph, the JSON kinds) and its git patch. */
export function registerDocumentRoutes(app: CairnApp, core: Core): void {
  /** GET /api/cairn/v1/experiments/:key/documents — the kinds logged, with size (UTF-8 bytes) and last write. */
  app.get(
    '/experiments/:key/documents',
    { schema: { params: ExperimentKeyParams, response: { 200: DocumentList, ...errors } } },
    async (request) => ({ items: await core.experiments.listDocuments(principalOf(request), request.params.key) }),
  );

  /** GET /api/cairn/v1/experiments/:key/documents/:kind — 404 when that kind was never logged. */
  app.get(
    '/experiments/:key/documents/:kind',
    { schema: { params: DocumentParams, response: { 200: Document, ...errors } } },
    async (request) => {
      const { key, kind } = request.params;
      const document = await core.experiments.readDocument(principalOf(request), key, kind);
      if (!document) throw new NotFoundError(`experiment ${key} has no ${kind} document`);
      return { kind, ...document };
    },
  );

  /**
   * GET /api/cairn/v1/experiments/:key/documents/html/raw — the html document itself, as a page
   * for the web UI's sandboxed frame; 404 when none was logged.
   */
  app.get(
    '/experiments/:key/documents/html/raw',
    {
      schema: {
        params: ExperimentKeyParams,
        response: { 200: MediaTypes({ 'text/html': RawHtmlDocument }), ...errors },
      },
    },
    async (request, reply) => {
      const { key } = request.params;
      const document = await core.experiments.readDocument(principalOf(request), key, 'html');
      if (!document) throw new NotFoundError(`experiment ${key} has no html document`);
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', RAW_HTML_POLICY)
        .header('x-content-type-options', 'nosniff')
        .send(document.content);
    },
  );

  /**
   * PUT /api/cairn/v1/experiments/:key/documents/:kind — replaces the document. The JSON kinds take
   * JSON text of their stored shape: an object (git-metadata, system-details, cloud-details) or a
   * list of `{name, version}` (dependencies).
   */
  app.put(
    '/experiments/:key/documents/:kind',
    { schema: { params: DocumentParams, body: PutDocumentBody, response: { 204: NoContent, ...errors } } },
    async (request, reply) => {
      const { key, kind } = request.params;
      await core.experiments.setDocument(principalOf(request), key, kind, request.body.content);
      return reply.code(204).send(null);
    },
  );

  /**
   * GET /api/cairn/v1/experiments/:key/git/patch — the stored bytes, streamed: `text/x-diff`, or
   * `application/zip` for the zipped patches newer comet_ml clients upload; 404 when none.
   */
  app.get(
    '/experiments/:key/git/patch',
    {
      schema: {
        params: ExperimentKeyParams,
        response: { 200: MediaTypes({ 'application/zip': BinaryBody, 'text/x-diff': BinaryBody }), ...errors },
      },
    },
    async (request, reply) => {
      const { key } = request.params;
      const patch = await core.experiments.getGitPatch(principalOf(request), key);
      if (!patch) throw new NotFoundError(`experiment ${key} has no git patch`);
      const head = await firstChunk(patch);
      const zipped = head.length >= ZIP_MAGIC.length && head.subarray(0, ZIP_MAGIC.length).equals(ZIP_MAGIC);
      return reply
        .type(zipped ? 'application/zip' : 'text/x-diff; charset=utf-8')
        .header('x-content-type-options', 'nosniff')
        .send(patch);
    },
  );

  // The patch upload takes the raw body of any media type, streamed: its own scope, so that no
  // other route of the API accepts bodies it cannot parse.
  app.register(async (instance) => {
    const scope = instance.withTypeProvider<TypeBoxTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    /**
     * PUT /api/cairn/v1/experiments/:key/git/patch — the raw bytes (any media type; `text/x-diff`
     * is usual), streamed to the blob store, replacing any earlier patch; at most the asset limit.
     */
    scope.put(
      '/experiments/:key/git/patch',
      {
        config: { streamedBody: true, upload: true, documentedBody: GitPatchBody },
        schema: { params: ExperimentKeyParams, response: { 204: NoContent, ...errors, 413: Problem } },
      },
      async (request, reply) =>
        closeOnFailure(request, reply, async () => {
          const body = request.body as Readable | undefined;
          if (!body) throw new InvalidArgumentError('a git patch upload needs a body');
          await core.experiments.setGitPatch(principalOf(request), request.params.key, body, core.limits.maxAssetBytes);
          return reply.code(204).send(null);
        }),
    );
  });
}

/**
 * Waits for the stream's first chunk and puts it back, so the stream is sent whole. An empty
 * stream gives an empty buffer.
 */
function firstChunk(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const settle = (result: () => void) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      result();
    };
    const onReadable = () =>
      settle(() => {
        const chunk = stream.read() as Buffer | null;
        if (chunk) stream.unshift(chunk);
        resolve(chunk ?? Buffer.alloc(0));
      });
    const onEnd = () => settle(() => resolve(Buffer.alloc(0)));
    const onError = (error: Error) => settle(() => reject(error));
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}
