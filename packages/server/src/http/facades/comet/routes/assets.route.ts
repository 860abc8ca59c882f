import {
  AssetListQuery,
  AssetListResponse,
  AssetLocatorQuery,
  AssetRow,
  AssetUploadParts,
  CometError,
  ExperimentModelQuery,
  ExperimentModelsQuery,
  ExperimentModelsResponse,
  GetAssetQuery,
  PlainWriteResponse,
  parseCometBoolean,
  UploadAssetQuery,
  UploadAssetResponse,
} from '@cairn/schemas/comet';
import { assetArchiveEntries } from '../../../../core/assets.service.js';
import type { Asset } from '../../../../core/entities.js';
import { InvalidArgumentError } from '../../../../core/errors.js';
import { OctetStreamBytes, ZipBytes } from '../../../binary-body.js';
import { chooseByteRange } from '../../../byte-range.js';
import { MultipartBody } from '../../../documented-body.js';
import { attachment, baseName, headerSafeLink } from '../../../download-headers.js';
import { closeOnFailure, MultipartReader } from '../../../multipart-reader.js';
import { principalOf } from '../../../request-context.js';
import { sendZip } from '../../../zip-reply.js';
import type { CometRouteContext } from '../comet.plugin.js';
import { sendCometError } from '../comet-errors.js';
import { writeOk } from '../comet-reply.js';
import { registerGitPatchRoutes } from './git-patch.route.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };
const uploadErrors = { ...errors, 413: CometError };

/** Assets, experiment models and the git patch of one experiment (spec §3.4 #14, #26–31; §4.2 #21, #29–30). */
export function registerAssetsRoutes(context: CometRouteContext): void {
  const { app, core, publicUrl } = context;
  registerGitPatchRoutes(context);

  /**
   * POST /write/experiment/upload-asset — multipart: `file` (the bytes, streamed to the blob
   * store), `metadata` (JSON text, before or after the file), `link` (remote assets, no file).
   */
  app.post(
    '/write/experiment/upload-asset',
    {
      config: { upload: true, documentedBody: MultipartBody(AssetUploadParts) },
      schema: { querystring: UploadAssetQuery, response: { 200: UploadAssetResponse, ...uploadErrors } },
    },
    async (request, reply) =>
      closeOnFailure(request, reply, async () => {
        const query = request.query;
        const reader = new MultipartReader(request, 'file');
        const file = await reader.untilFile();
        const asset = await core.assets.upload(
          principalOf(request),
          query.experimentKey,
          {
            // comet_ml names every file part "file"; its real name is in the query.
            fileName: query.fileName || file?.filename || '',
            type: query.type ?? null,
            step: query.step ?? null,
            epoch: query.epoch ?? null,
            context: query.context ?? null,
            groupingName: query.groupingName ?? null,
            artifactVersionId: query.artifactVersionId ?? null,
            metadata: reader.fields.get('metadata') ?? null,
            overwrite: parseCometBoolean(query.overwrite) ?? false,
            assetId: query.assetId ?? null,
            remote: parseCometBoolean(query.isRemote) ?? false,
            remoteLink: reader.fields.get('link') ?? null,
          },
          file?.file ?? null,
          file &&
            (async () => {
              const after = await reader.rest();
              return { metadata: after.get('metadata') ?? null, remoteLink: after.get('link') ?? null };
            }),
        );
        const api = getAssetLink(publicUrl, asset);
        // Cairn has no separate browser download page, so `web` is the API link too.
        return writeOk('Asset uploaded', { assetId: asset.id, web: api, api });
      }),
  );

  /** GET /write/experiment/asset/delete?experimentKey=&assetId= */
  app.get(
    '/write/experiment/asset/delete',
    { schema: { querystring: AssetLocatorQuery, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      await core.assets.delete(principalOf(request), request.query.experimentKey, request.query.assetId);
      return writeOk('Asset deleted');
    },
  );

  /** GET /experiment/asset/list?experimentKey=[&type=] */
  app.get(
    '/experiment/asset/list',
    { schema: { querystring: AssetListQuery, response: { 200: AssetListResponse, ...errors } } },
    async (request) => {
      const assets = await core.assets.list(principalOf(request), request.query.experimentKey, request.query.type);
      return { assets: assets.map((asset) => toAssetRow(publicUrl, asset)) };
    },
  );

  /** GET /experiment/asset/details?experimentKey=&assetId= */
  app.get(
    '/experiment/asset/details',
    { schema: { querystring: AssetLocatorQuery, response: { 200: AssetRow, ...errors } } },
    async (request) => {
      const { experimentKey, assetId } = request.query;
      return toAssetRow(publicUrl, await core.assets.details(principalOf(request), experimentKey, assetId));
    },
  );

  /**
   * GET /experiment/asset/get-asset?assetId=[&experimentKey=][&artifactVersionId=] — the bytes as
   * application/octet-stream (comet_ml accepts it for JSON assets too), one HTTP byte range when
   * asked; remote assets redirect to their link.
   */
  app.get(
    '/experiment/asset/get-asset',
    {
      schema: {
        querystring: GetAssetQuery,
        response: { 200: OctetStreamBytes, 206: OctetStreamBytes, ...errors, 416: CometError },
      },
    },
    async (request, reply) => {
      const { imageId, ...locator } = request.query;
      const assetId = locator.assetId ?? imageId;
      if (!assetId) throw new InvalidArgumentError('assetId is required');
      const asset = await core.assets.find(principalOf(request), { ...locator, assetId });
      if (asset.remote && asset.link) return reply.redirect(headerSafeLink(asset.link), 302);
      reply.header('accept-ranges', 'bytes');
      const choice = chooseByteRange(request.headers.range, asset.fileSize);
      if (choice.kind === 'unsatisfiable') {
        reply.header('content-range', `bytes */${asset.fileSize}`);
        return sendCometError(reply, 416, `range not satisfiable for ${asset.fileSize} bytes`);
      }
      const range = choice.kind === 'partial' ? choice.range : undefined;
      const body = await core.assets.openChecked(asset, range);
      // A row without its bytes is damage, not a client error: answer 500 and log it.
      if (!body) throw new Error(`the bytes of asset ${asset.id} are missing from the blob store`);
      if (range) {
        reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${asset.fileSize}`);
      }
      return reply
        .type('application/octet-stream')
        .header('content-length', range ? range.end - range.start + 1 : asset.fileSize)
        .header('content-disposition', attachment(baseName(asset.fileName)))
        .send(body);
    },
  );

  /** GET /experiment/model?experimentKey= */
  app.get(
    '/experiment/model',
    { schema: { querystring: ExperimentModelsQuery, response: { 200: ExperimentModelsResponse, ...errors } } },
    async (request) => {
      const principal = principalOf(request);
      const models = await core.assets.listModels(principal, request.query.experimentKey);
      const registrations = await core.registry.registrations(principal, models);
      return {
        models: models.map((model) => ({
          experimentModelId: model.id,
          experimentKey: model.experimentId,
          modelName: model.name,
          registryRecords: (registrations.get(model.id) ?? []).map(({ model: registryModel, version }) => ({
            registryModelId: registryModel.id,
            registryModelItemId: version.id,
            registryModelName: registryModel.name,
            version: version.version,
            createdAt: version.createdAt,
          })),
        })),
      };
    },
  );

  /** GET /experiment/model/asset/list?experimentKey=&modelName= */
  app.get(
    '/experiment/model/asset/list',
    { schema: { querystring: ExperimentModelQuery, response: { 200: AssetListResponse, ...errors } } },
    async (request) => {
      const { experimentKey, modelName } = request.query;
      const { assets } = await core.assets.modelAssets(principalOf(request), experimentKey, modelName);
      return { assets: assets.map((asset) => toAssetRow(publicUrl, asset)) };
    },
  );

  /** GET /experiment/model/download?experimentKey=&modelName= — a zip of the model's files. */
  app.get(
    '/experiment/model/download',
    { schema: { querystring: ExperimentModelQuery, response: { 200: ZipBytes, ...errors } } },
    async (request, reply) => {
      const { experimentKey, modelName } = request.query;
      const { model, assets } = await core.assets.modelAssets(principalOf(request), experimentKey, modelName);
      return sendZip(reply, `${model.name}.zip`, assetArchiveEntries(assets), (asset) =>
        core.assets.openChecked(asset),
      );
    },
  );
}

export function toAssetRow(publicUrl: string, asset: Asset): AssetRow {
  const image = asset.type === 'image';
  return {
    fileName: asset.fileName,
    fileSize: asset.fileSize,
    runContext: asset.context,
    step: asset.step,
    link: asset.remote && asset.link ? asset.link : getAssetLink(publicUrl, asset),
    createdAt: asset.createdAt,
    dir: asset.dir,
    canView: image,
    audio: asset.type === 'audio',
    video: asset.type === 'video',
    histogram: asset.type === 'histogram3d' || asset.type === 'histogram_combined_3d',
    image,
    type: asset.type,
    metadata: asset.metadata,
    assetId: asset.id,
    remote: asset.remote,
    tags: asset.tags,
  };
}

/** The absolute download link of an asset; the experiment id is its Comet key. */
function getAssetLink(publicUrl: string, asset: Asset): string {
  const query = new URLSearchParams({ experimentKey: asset.experimentId, assetId: asset.id });
  return `${publicUrl}/api/rest/v2/experiment/asset/get-asset?${query}`;
}
