import {
  Asset,
  AssetList,
  AssetListQuery,
  AssetParams,
  AssetUploadParts,
  ExperimentKeyParams,
  ModelList,
  NoContent,
  Problem,
} from '@cairn/schemas/cairn';
import type { FastifyReply } from 'fastify';
import { MODEL_ELEMENT_TYPE } from '../../../../core/assets.service.js';
import type { Core } from '../../../../core/core.js';
import type { Asset as AssetEntity } from '../../../../core/entities.js';
import { InvalidArgumentError } from '../../../../core/errors.js';
import { AnyBytes } from '../../../binary-body.js';
import { chooseByteRange } from '../../../byte-range.js';
import { MultipartBody } from '../../../documented-body.js';
import { baseName, headerSafeLink, inline, mediaTypeOf } from '../../../download-headers.js';
import { closeOnFailure, MultipartReader } from '../../../multipart-reader.js';
import { principalOf } from '../../../request-context.js';
import { wireAsset } from '../cairn.mapper.js';
import type { CairnApp } from '../cairn.plugin.js';
import { sendProblem } from '../cairn-errors.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 429: Problem, 503: Problem };

/** Upload fields (`link`: a remote asset, which has no `file` part). */
const UPLOAD_FIELDS = new Set(['id', 'fileName', 'type', 'step', 'epoch', 'context', 'metadata', 'model', 'link']);

/** Files logged to an experiment, and the experiment's models (named groups of them). */
export function registerAssetRoutes(app: CairnApp, core: Core): void {
  /** GET /api/cairn/v1/experiments/:key/assets?type= — by upload time; `type` filters exactly. */
  app.get(
    '/experiments/:key/assets',
    { schema: { params: ExperimentKeyParams, querystring: AssetListQuery, response: { 200: AssetList, ...errors } } },
    async (request) => {
      const assets = await core.assets.list(principalOf(request), request.params.key, request.query.type);
      return { items: assets.map(wireAsset) };
    },
  );

  /**
   * POST /api/cairn/v1/experiments/:key/assets — multipart: the fields `id`, `fileName`, `type`,
   * `step`, `epoch`, `context`, `metadata` (JSON text) and `model`, and the `file` part, streamed
   * to the blob store (fields are best sent before it: those after it are checked only once the
   * bytes are stored); or, for a remote asset, the fields with `link` (its URI) and no `file` part. An `id` this experiment already has replaces that asset, so a retried upload
   * stores one copy; an id in use elsewhere is 409.
   */
  app.post(
    '/experiments/:key/assets',
    {
      config: { streamedBody: true, upload: true, documentedBody: MultipartBody(AssetUploadParts) },
      schema: { params: ExperimentKeyParams, response: { 201: Asset, ...errors, 409: Problem, 413: Problem } },
    },
    async (request, reply) =>
      closeOnFailure(request, reply, async () => {
        const reader = new MultipartReader(request, 'file');
        const file = await reader.untilFile();
        const link = reader.fields.get('link') || null;
        if (!file && !link) throw new InvalidArgumentError('an asset upload needs a "file" part (or a "link")');
        if (file && link) throw new InvalidArgumentError('a remote asset has a "link" and no "file" part');
        const asset = await core.assets.upload(
          principalOf(request),
          request.params.key,
          { ...uploadFields(reader.fields, file?.filename), replaceSameId: true, remoteLink: link },
          file ? file.file : null,
          async () => {
            // Fields after the file part: checked now, with those that came before them.
            const late = await reader.rest();
            return late.size > 0 ? uploadFields(reader.fields, file?.filename) : {};
          },
        );
        return reply.code(201).send(wireAsset(asset));
      }),
  );

  /**
   * GET /api/cairn/v1/experiments/:key/assets/:assetId — the bytes with the media type of the file
   * name; one byte range when asked (206; 416 beyond the end). A remote asset redirects to its
   * link. Served sandboxed (CSP) and unsniffed: a logged HTML or SVG file must not run as the UI.
   */
  app.get(
    '/experiments/:key/assets/:assetId',
    { schema: { params: AssetParams, response: { 200: AnyBytes, 206: AnyBytes, ...errors, 416: Problem } } },
    async (request, reply) =>
      sendAssetBytes(
        core,
        await core.assets.details(principalOf(request), request.params.key, request.params.assetId),
        request.headers.range,
        reply,
      ),
  );

  /** DELETE /api/cairn/v1/experiments/:key/assets/:assetId — the row, then its bytes. */
  app.delete(
    '/experiments/:key/assets/:assetId',
    { schema: { params: AssetParams, response: { 204: NoContent, ...errors } } },
    async (request, reply) => {
      await core.assets.delete(principalOf(request), request.params.key, request.params.assetId);
      return reply.code(204).send(null);
    },
  );

  /** GET /api/cairn/v1/experiments/:key/models — each model (by creation) with its files. */
  app.get(
    '/experiments/:key/models',
    { schema: { params: ExperimentKeyParams, response: { 200: ModelList, ...errors } } },
    async (request) => {
      const principal = principalOf(request);
      const { key } = request.params;
      const models = await core.assets.listModels(principal, key);
      const files = await core.assets.list(principal, key, MODEL_ELEMENT_TYPE);
      return {
        items: models.map((model) => ({
          name: model.name,
          createdAt: model.createdAt,
          assets: files.filter((asset) => asset.groupingName === model.name).map(wireAsset),
        })),
      };
    },
  );
}

/**
 * The bytes of an asset the caller was allowed to read (an experiment's file, a registry
 * version's or an artifact's): the media type of its file name, one byte range when asked (206;
 * 416 beyond the end), a redirect to a remote asset's link. Served sandboxed (CSP) and unsniffed:
 * a logged HTML or SVG file must not run as the UI.
 */
export async function sendAssetBytes(
  core: Core,
  asset: AssetEntity,
  rangeHeader: string | undefined,
  reply: FastifyReply,
): Promise<FastifyReply> {
  if (asset.remote && asset.link) return reply.redirect(headerSafeLink(asset.link), 302);
  reply
    .header('accept-ranges', 'bytes')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', 'sandbox');
  const choice = chooseByteRange(rangeHeader, asset.fileSize);
  if (choice.kind === 'unsatisfiable') {
    reply.header('content-range', `bytes */${asset.fileSize}`);
    return sendProblem(reply, 416, `range not satisfiable for ${asset.fileSize} bytes`);
  }
  const range = choice.kind === 'partial' ? choice.range : undefined;
  const body = await core.assets.openChecked(asset, range);
  // A row without its bytes is damage, not a client error: answer 500 and log it.
  if (!body) throw new Error(`the bytes of asset ${asset.id} are missing from the blob store`);
  if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${asset.fileSize}`);
  return reply
    .type(mediaTypeOf(asset.fileName))
    .header('content-length', range ? range.end - range.start + 1 : asset.fileSize)
    .header('content-disposition', inline(baseName(asset.fileName)))
    .send(body);
}

/**
 * The upload as its string parts state it (all of them, or those before the file part); a file
 * name given by no field is the file part's own.
 */
function uploadFields(fields: Map<string, string>, partFileName: string | undefined) {
  for (const name of fields.keys()) {
    if (!UPLOAD_FIELDS.has(name)) throw new InvalidArgumentError(`unknown upload field "${name}"`);
  }
  const model = fields.get('model') || null;
  const type = fields.get('type') || (model ? MODEL_ELEMENT_TYPE : null);
  if (model && type !== MODEL_ELEMENT_TYPE) {
    throw new InvalidArgumentError(`an asset of a model has type "${MODEL_ELEMENT_TYPE}"`);
  }
  return {
    fileName: fields.get('fileName') || partFileName || '',
    type,
    step: integerField(fields.get('step'), 'step'),
    epoch: integerField(fields.get('epoch'), 'epoch'),
    context: fields.get('context') || null,
    metadata: fields.get('metadata') ?? null,
    groupingName: model,
    assetId: fields.get('id') || null,
    remoteLink: fields.get('link') || null,
  };
}

/** A multipart field holding an integer (steps, epochs); absent or empty is null. */
function integerField(value: string | undefined, name: string): number | null {
  if (value === undefined || value === '') return null;
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`${name} must be an integer, got "${value}"`);
  return Number(value.trim());
}
