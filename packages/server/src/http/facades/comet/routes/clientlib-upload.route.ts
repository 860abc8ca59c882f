import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  AssetUploadParts,
  ClientlibUploadQuery,
  ClientlibUploadResponse,
  CometError,
  PlainWriteResponse,
  parseCometBoolean,
} from '@cairn/schemas/comet';
import type { AssetUpload } from '../../../../core/assets.service.js';
import { NotFoundError } from '../../../../core/errors.js';
import type { Principal } from '../../../../core/principal.js';
import { MultipartBody } from '../../../documented-body.js';
import { closeOnFailure, MultipartReader } from '../../../multipart-reader.js';
import { principalOf } from '../../../request-context.js';
import type { ClientlibRouteContext } from '../clientlib.plugin.js';
import { writeOk } from '../comet-reply.js';
import { GitPatchUploadBody, storeGitPatch } from './git-patch.route.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError, 413: CometError };

/**
 * comet_ml's uploads (spec §5): multipart with the bytes in part `file` (named "file", the real
 * name is in the query), an optional `metadata` part, or a `link` part for remote assets. The
 * bytes stream to the blob store through the same core paths as the REST upload-asset and
 * git/patch writes.
 */
export function registerClientlibUploadRoutes({ app, core, publicUrl }: ClientlibRouteContext): void {
  /**
   * comet_ml retries an upload (4 attempts) when it sees no 200, also when the first attempt was
   * stored and only the answer got lost. Its ids are chosen per upload, so an id already stored
   * in this experiment is that upload again: acknowledged, its bytes read and dropped.
   */
  async function isStored(principal: Principal, key: string, assetId: string | undefined): Promise<boolean> {
    if (!assetId) return false;
    try {
      await core.assets.details(principal, key, assetId);
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  function register(path: string, describe: (query: ClientlibUploadQuery) => AssetUpload) {
    app.post(
      path,
      {
        config: { upload: true, documentedBody: MultipartBody(AssetUploadParts) },
        schema: { querystring: ClientlibUploadQuery, response: { 200: ClientlibUploadResponse, ...errors } },
      },
      async (request, reply) =>
        closeOnFailure(request, reply, async () => {
          const principal = principalOf(request);
          const query = request.query;
          const key = query.experimentId;
          const reader = new MultipartReader(request, 'file');
          const file = await reader.untilFile();
          // A name the query leaves out is the file part's, as on the REST upload.
          const described = describe(query);
          const upload = { ...described, fileName: described.fileName || file?.filename || '' };
          if (await isStored(principal, key, upload.assetId ?? undefined)) {
            if (file) await drain(file.file);
            await reader.rest();
            return writeOk('Already stored', {
              assetId: upload.assetId ?? null,
              web: null,
              api: null,
              duplicate: true,
            });
          }
          const asset = await core.assets.upload(
            principal,
            key,
            {
              ...upload,
              metadata: reader.fields.get('metadata') ?? null,
              remoteLink: reader.fields.get('link') ?? null,
            },
            file?.file ?? null,
            file &&
              (async () => {
                const after = await reader.rest();
                return { metadata: after.get('metadata') ?? null, remoteLink: after.get('link') ?? null };
              }),
          );
          const link = new URLSearchParams({ experimentKey: asset.experimentId, assetId: asset.id });
          const api = `${publicUrl}/api/rest/v2/experiment/asset/get-asset?${link}`;
          return writeOk('Uploaded', { assetId: asset.id, web: api, api, duplicate: false });
        }),
    );
  }

  /** POST /clientlib/asset/upload?experimentId=&assetId=&fileName=[&type=]… — every asset type. */
  register('/asset/upload', (query) => ({
    fileName: query.fileName ?? '',
    type: query.type ?? null,
    step: query.step ?? null,
    epoch: query.epoch ?? null,
    context: query.context ?? null,
    groupingName: query.groupingName ?? null,
    artifactVersionId: query.artifactVersionId ?? null,
    overwrite: parseCometBoolean(query.overwrite) ?? false,
    assetId: query.assetId ?? null,
    remote: parseCometBoolean(query.isRemote) ?? false,
  }));

  /**
   * POST /clientlib/visualizations/upload?experimentId=&imageId=&figName=… — images and figures,
   * stored as assets of type "image" under the client's imageId. A figure logged without a name
   * is called figure_<figCounter>, as Comet lists it.
   */
  register('/visualizations/upload', (query) => ({
    fileName: query.figName || (query.figCounter != null ? `figure_${query.figCounter}` : (query.imageId ?? '')),
    type: query.type ?? 'image',
    step: query.step ?? null,
    epoch: query.epoch ?? null,
    context: query.context ?? null,
    overwrite: parseCometBoolean(query.overwrite) ?? false,
    assetId: query.imageId ?? null,
  }));

  /**
   * POST /clientlib/git-patch/upload?experimentId= — the zip holding git_diff.patch, stored
   * verbatim (REST `experiment/git/patch` returns it); a resend replaces it with the same bytes.
   */
  app.post(
    '/git-patch/upload',
    {
      config: { documentedBody: GitPatchUploadBody },
      schema: { querystring: ClientlibUploadQuery, response: { 200: PlainWriteResponse, ...errors } },
    },
    async (request, reply) => storeGitPatch(core, request, reply, request.query.experimentId),
  );
}

/** Reads a part to its end without keeping it, so the body after it can be read. */
async function drain(stream: Readable): Promise<void> {
  stream.resume();
  await finished(stream);
}
