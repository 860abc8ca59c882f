import {
  Artifact,
  ArtifactFileParams,
  ArtifactList,
  ArtifactListQuery,
  ArtifactParams,
  ArtifactVersion,
  ArtifactVersionParams,
  ArtifactWorkspaceParams,
  Problem,
} from '@cairn/schemas/cairn';
import type { ArtifactVersionLocator } from '../../../../core/artifacts.service.js';
import { assetArchiveEntries } from '../../../../core/assets.service.js';
import type { Core } from '../../../../core/core.js';
import { NotFoundError } from '../../../../core/errors.js';
import { AnyBytes, ZipBytes } from '../../../binary-body.js';
import { principalOf } from '../../../request-context.js';
import { sendZip } from '../../../zip-reply.js';
import { wireArtifact, wireArtifactSummary, wireArtifactVersion } from '../cairn.mapper.js';
import type { CairnApp } from '../cairn.plugin.js';
import { decodeOffsetCursor, encodeOffsetCursor } from '../offset-cursor.js';
import { sendAssetBytes } from './assets.route.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };
const ARTIFACTS = '/workspaces/:workspace/artifacts';

/** A version named by its path: a version first, else an alias. */
function versionLocator(p: { workspace: string; artifact: string; version: string }): ArtifactVersionLocator {
  return { workspaceName: p.workspace, artifactName: p.artifact, versionOrAlias: p.version };
}

/**
 * Artifacts of a workspace, by names: listed, one with its versions, a version with its files,
 * and downloads. Members only: to anyone else an artifact does not exist.
 */
export function registerArtifactRoutes(app: CairnApp, core: Core): void {
  /** GET /api/cairn/v1/workspaces/:workspace/artifacts?type=&search=&cursor=&limit= — by name. */
  app.get(
    ARTIFACTS,
    {
      schema: {
        params: ArtifactWorkspaceParams,
        querystring: ArtifactListQuery,
        response: { 200: ArtifactList, ...errors },
      },
    },
    async (request) => {
      const { type, search, cursor, limit = 100 } = request.query;
      const query = ['artifacts', request.params.workspace, type ?? null, search ?? ''];
      const offset = cursor === undefined ? 0 : decodeOffsetCursor(cursor, query);
      const { items, total } = await core.artifacts.page(principalOf(request), request.params.workspace, {
        ...(type === undefined ? {} : { type }),
        ...(search ? { search } : {}),
        offset,
        limit,
      });
      const next = offset + items.length;
      return {
        items: items.map(wireArtifactSummary),
        nextCursor: next < total && items.length > 0 ? encodeOffsetCursor(next, query) : null,
        total,
      };
    },
  );

  /** GET /api/cairn/v1/workspaces/:workspace/artifacts/:artifact — with every version, highest first. */
  app.get(
    `${ARTIFACTS}/:artifact`,
    { schema: { params: ArtifactParams, response: { 200: Artifact, ...errors } } },
    async (request) =>
      wireArtifact(
        await core.artifacts.get(principalOf(request), {
          workspaceName: request.params.workspace,
          artifactName: request.params.artifact,
        }),
      ),
  );

  /**
   * GET /api/cairn/v1/workspaces/:workspace/artifacts/:artifact/versions/:version — a version
   * (or the one an alias names) with its files, in any state (an OPEN one is still uploading).
   */
  app.get(
    `${ARTIFACTS}/:artifact/versions/:version`,
    { schema: { params: ArtifactVersionParams, response: { 200: ArtifactVersion, ...errors } } },
    async (request) => {
      const { version, files } = await core.artifacts.files(principalOf(request), versionLocator(request.params));
      return wireArtifactVersion(version, files);
    },
  );

  /**
   * GET /api/cairn/v1/workspaces/:workspace/artifacts/:artifact/versions/:version/download — the
   * version's files as a zip at their file names, streamed; only a CLOSED version (409 while it
   * is OPEN or in ERROR). Remote files have no bytes here and are left out.
   */
  app.get(
    `${ARTIFACTS}/:artifact/versions/:version/download`,
    { schema: { params: ArtifactVersionParams, response: { 200: ZipBytes, ...errors, 409: Problem } } },
    async (request, reply) => {
      const { view, version, files } = await core.artifacts.downloadFiles(
        principalOf(request),
        versionLocator(request.params),
      );
      return sendZip(
        reply,
        `${view.artifact.name}-${version.version.version}.zip`,
        assetArchiveEntries(files),
        (asset) => core.assets.openChecked(asset),
      );
    },
  );

  /**
   * GET /api/cairn/v1/workspaces/:workspace/artifacts/:artifact/versions/:version/files/:fileId —
   * one file, as an asset download (Range → 206; a remote file redirects to its link).
   */
  app.get(
    `${ARTIFACTS}/:artifact/versions/:version/files/:fileId`,
    {
      schema: {
        params: ArtifactFileParams,
        response: { 200: AnyBytes, 206: AnyBytes, ...errors, 416: Problem },
      },
    },
    async (request, reply) => {
      const { version, files } = await core.artifacts.files(principalOf(request), versionLocator(request.params));
      const file = files.find((asset) => asset.id === request.params.fileId);
      if (!file) throw new NotFoundError(`version ${version.version.version} has no file ${request.params.fileId}`);
      return sendAssetBytes(core, file, request.headers.range, reply);
    },
  );
}
