import {
  ArtifactDetailsBody,
  ArtifactDetailsResponse,
  ArtifactFilesResponse,
  ArtifactLabelsBody,
  ArtifactListQuery,
  ArtifactListResponse,
  ArtifactQuery,
  ArtifactStateBody,
  ArtifactVersionQuery,
  ArtifactVersionResponse,
  CometError,
  PlainWriteResponse,
  UpsertArtifactBody,
  UpsertArtifactResponse,
} from '@cairn/schemas/comet';
import type { ArtifactVersionLocator, ArtifactVersionView, ArtifactView } from '../../../../core/artifacts.service.js';
import { assetArchiveEntries } from '../../../../core/assets.service.js';
import { ZipBytes } from '../../../binary-body.js';
import { principalOf } from '../../../request-context.js';
import { sendZip } from '../../../zip-reply.js';
import type { CometRouteContext } from '../comet.plugin.js';
import { artifactStateRule, artifactVersionRule, experimentKeyRule } from '../comet-field-rules.js';
import { writeOk } from '../comet-reply.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };

/**
 * Artifacts: reads (spec §3.6 #40–44) and writes (spec §4.5 #47–50). A version's files upload
 * through `write/experiment/upload-asset` with `artifactVersionId` and download through
 * `experiment/asset/get-asset` (assets.route.ts).
 */
export function registerArtifactsRoutes({ app, core }: CometRouteContext): void {
  /** POST /write/artifacts/upsert — a new artifact or a new version, OPEN until its files are in. */
  app.post(
    '/write/artifacts/upsert',
    {
      config: { cometFieldRules: { experimentKey: experimentKeyRule, version: artifactVersionRule } },
      schema: { body: UpsertArtifactBody, response: { 200: UpsertArtifactResponse, ...errors } },
    },
    async (request) => {
      const body = request.body;
      const result = await core.artifacts.upsert(principalOf(request), {
        experimentKey: body.experimentKey,
        artifactName: body.artifactName,
        artifactType: body.artifactType,
        version: body.version,
        aliases: body.alias,
        versionTags: body.versionTags,
        versionMetadata: body.versionMetadata,
        note: body.note,
        workspaceName: body.workspaceName,
        description: body.description,
        metadata: body.metadata,
        tags: body.tags,
        isPublic: body.isPublic,
        emoji: body.emoji,
      });
      return writeOk('Artifact version created', {
        artifactId: result.artifact.id,
        artifactVersionId: result.version.id,
        currentVersion: result.version.version,
        previousVersion: result.previousVersion,
      });
    },
  );

  /** POST /write/artifacts/state — CLOSED or ERROR, once. */
  app.post(
    '/write/artifacts/state',
    {
      config: { cometFieldRules: { state: artifactStateRule } },
      schema: { body: ArtifactStateBody, response: { 200: PlainWriteResponse, ...errors } },
    },
    async (request) => {
      await core.artifacts.setState(principalOf(request), request.body);
      return writeOk('Artifact version state updated');
    },
  );

  /** POST /write/artifacts/details */
  app.post(
    '/write/artifacts/details',
    { schema: { body: ArtifactDetailsBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      const body = request.body;
      await core.artifacts.updateDetails(principalOf(request), body.artifactId, {
        artifactType: body.artifactType,
        metadata: body.versionMetadata,
        tags: body.tags,
        description: body.description,
        isPublic: body.isPublic,
        emoji: body.emoji,
      });
      return writeOk('Artifact updated');
    },
  );

  /** POST /write/artifacts/version/labels */
  app.post(
    '/write/artifacts/version/labels',
    { schema: { body: ArtifactLabelsBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      const body = request.body;
      await core.artifacts.updateLabels(principalOf(request), body.artifactVersionId, {
        aliases: body.alias,
        tags: body.versionTags,
        metadata: body.versionMetadata,
      });
      return writeOk('Artifact version updated');
    },
  );

  /** GET /artifacts/get-all?workspace=[&type=] */
  app.get(
    '/artifacts/get-all',
    { schema: { querystring: ArtifactListQuery, response: { 200: ArtifactListResponse, ...errors } } },
    async (request) => {
      const items = await core.artifacts.list(principalOf(request), request.query.workspace, request.query.type);
      return {
        artifacts: items.map(({ artifact, projectName }) => ({
          artifactId: artifact.id,
          project: projectName,
          type: artifact.type,
          name: artifact.name,
          description: artifact.description,
          versionsCount: artifact.versionsCount,
          tags: artifact.tags,
          isPublic: artifact.isPublic,
          emoji: artifact.emoji,
          sizeInBytes: artifact.sizeInBytes,
        })),
      };
    },
  );

  /** GET /artifacts/get?workspace=&artifactName= | ?artifact_id= | ?artifactId= */
  app.get(
    '/artifacts/get',
    { schema: { querystring: ArtifactQuery, response: { 200: ArtifactDetailsResponse, ...errors } } },
    async (request) => {
      const { workspace, artifactName, artifact_id, artifactId } = request.query;
      const view = await core.artifacts.get(principalOf(request), {
        artifactId: artifactId ?? artifact_id,
        artifactName,
        workspaceName: workspace,
      });
      const { artifact } = view;
      return {
        artifactId: artifact.id,
        project: view.projectName,
        type: artifact.type,
        name: artifact.name,
        description: artifact.description,
        latestVersion: view.latestVersion,
        tags: artifact.tags,
        isPublic: artifact.isPublic,
        emoji: artifact.emoji,
        sizeInBytes: artifact.sizeInBytes,
        versions: view.versions.map(({ version, ownerName }) => ({
          artifactVersionId: version.id,
          version: version.version,
          owner: ownerName,
          metadata: version.metadata,
          createdFrom: version.experimentKey,
          sizeInBytes: version.sizeInBytes,
          state: version.state,
          added: version.createdAt,
          alias: version.aliases,
          tags: version.tags,
        })),
      };
    },
  );

  /** GET /artifacts/version — one version by any of its locators. */
  app.get(
    '/artifacts/version',
    { schema: { querystring: ArtifactVersionQuery, response: { 200: ArtifactVersionResponse, ...errors } } },
    async (request) => {
      const { view, version } = await core.artifacts.getVersion(principalOf(request), versionLocator(request.query));
      return toVersionResponse(view, version);
    },
  );

  /** GET /artifacts/version/files — the version's files, in upload order. */
  app.get(
    '/artifacts/version/files',
    { schema: { querystring: ArtifactVersionQuery, response: { 200: ArtifactFilesResponse, ...errors } } },
    async (request) => {
      const { view, version, files } = await core.artifacts.files(principalOf(request), versionLocator(request.query));
      return {
        files: files.map((asset) => ({
          artifactId: view.artifact.id,
          artifactVersionId: version.version.id,
          assetId: asset.id,
          fileName: asset.fileName,
          fileSize: asset.fileSize,
          link: asset.remote ? asset.link : null,
          dir: asset.dir,
          type: asset.type,
          metadata: asset.metadata,
          remote: asset.remote,
        })),
      };
    },
  );

  /**
   * GET /artifacts/version/download — a zip of the version's files at their file names, streamed.
   * Remote files have no bytes here and are left out (their links are in the file list).
   */
  app.get(
    '/artifacts/version/download',
    { schema: { querystring: ArtifactVersionQuery, response: { 200: ZipBytes, ...errors } } },
    async (request, reply) => {
      const { view, version, files } = await core.artifacts.downloadFiles(
        principalOf(request),
        versionLocator(request.query),
      );
      return sendZip(
        reply,
        `${view.artifact.name}-${version.version.version}.zip`,
        assetArchiveEntries(files),
        (asset) => core.assets.openChecked(asset),
      );
    },
  );
}

function versionLocator(query: ArtifactVersionQuery): ArtifactVersionLocator {
  return {
    artifactId: query.artifactId ?? query.artifact_id,
    artifactName: query.artifactName,
    workspaceName: query.workspace,
    experimentKey: query.experimentKey,
    versionId: query.versionId,
    version: query.version,
    alias: query.alias,
    versionOrAlias: query.versionOrAlias,
  };
}

function toVersionResponse(view: ArtifactView, { version, ownerName }: ArtifactVersionView) {
  const { artifact } = view;
  return {
    artifactVersionId: version.id,
    artifactVersion: version.version,
    owner: ownerName,
    createdFrom: version.experimentKey,
    sizeInBytes: version.sizeInBytes,
    metadata: version.metadata,
    note: version.note,
    added: version.createdAt,
    state: version.state,
    tags: version.tags,
    alias: version.aliases,
    experimentKey: version.experimentKey,
    artifact: {
      artifactId: artifact.id,
      artifactName: artifact.name,
      projectId: artifact.projectId,
      workspaceId: view.workspace.id,
      workspaceName: view.workspace.name,
      experimentKey: artifact.experimentKey,
      description: artifact.description,
      version: view.latestVersion,
      metadata: artifact.metadata,
      artifactType: artifact.type,
      isPublic: artifact.isPublic,
      owner: view.ownerName,
      s3FileSize: artifact.sizeInBytes,
      emoji: artifact.emoji,
      tags: artifact.tags,
    },
  };
}
