import {
  NoContent,
  Problem,
  RegistryFileParams,
  RegistryModel,
  RegistryModelList,
  RegistryModelListQuery,
  RegistryModelParams,
  RegistryNotes,
  RegistryNotesBody,
  RegistryStageParams,
  RegistryVersion,
  RegistryVersionParams,
  RegistryWorkspaceParams,
  UpdateRegistryVersionBody,
} from '@cairn/schemas/cairn';
import { assetArchiveEntries } from '../../../../core/assets.service.js';
import type { Core } from '../../../../core/core.js';
import { NotFoundError } from '../../../../core/errors.js';
import type { Principal } from '../../../../core/principal.js';
import type { RegistryVersionView } from '../../../../core/registry.service.js';
import { AnyBytes, ZipBytes } from '../../../binary-body.js';
import { principalOf } from '../../../request-context.js';
import { sendZip } from '../../../zip-reply.js';
import { wireRegistryModel, wireRegistryModelSummary, wireRegistryVersion } from '../cairn.mapper.js';
import type { CairnApp } from '../cairn.plugin.js';
import { decodeOffsetCursor, encodeOffsetCursor } from '../offset-cursor.js';
import { sendAssetBytes } from './assets.route.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };
const MODELS = '/workspaces/:workspace/registry/models';

type ModelPath = { workspace: string; model: string };
type VersionPath = ModelPath & { version: string };

const modelRef = (p: ModelPath) => ({ workspaceName: p.workspace, modelName: p.model });

/**
 * The model registry of a workspace, by names: its models, their versions with stages and
 * files, notes, and downloads. Members read and write; a public model is readable by everyone.
 * Stage changes fire the workspace's stage webhooks (the core records them with the change).
 */
export function registerRegistryRoutes(app: CairnApp, core: Core): void {
  /** The one version a path names, and its model's proper name; 404 when there is no such version. */
  const chosen = async (
    principal: Principal,
    p: VersionPath,
  ): Promise<{ model: string; view: RegistryVersionView }> => {
    const details = await core.registry.choose(principal, modelRef(p), { version: p.version });
    const view = details.versions[0];
    if (!view) throw new NotFoundError(`registry model "${p.model}" has no version ${p.version}`);
    return { model: details.model.name, view };
  };
  const versionOf = async (principal: Principal, p: VersionPath) => (await chosen(principal, p)).view;

  /** GET /api/cairn/v1/workspaces/:workspace/registry/models?search=&cursor=&limit= — by name. */
  app.get(
    MODELS,
    {
      schema: {
        params: RegistryWorkspaceParams,
        querystring: RegistryModelListQuery,
        response: { 200: RegistryModelList, ...errors },
      },
    },
    async (request) => {
      const { search, cursor, limit = 100 } = request.query;
      const query = ['registry-models', request.params.workspace, search ?? ''];
      const offset = cursor === undefined ? 0 : decodeOffsetCursor(cursor, query);
      const { summaries, total } = await core.registry.pageModels(principalOf(request), request.params.workspace, {
        ...(search ? { search } : {}),
        offset,
        limit,
      });
      const next = offset + summaries.length;
      return {
        items: summaries.map(wireRegistryModelSummary),
        nextCursor: next < total && summaries.length > 0 ? encodeOffsetCursor(next, query) : null,
        total,
      };
    },
  );

  /** GET /api/cairn/v1/workspaces/:workspace/registry/models/:model — with every version, highest first. */
  app.get(
    `${MODELS}/:model`,
    { schema: { params: RegistryModelParams, response: { 200: RegistryModel, ...errors } } },
    async (request) => wireRegistryModel(await core.registry.details(principalOf(request), modelRef(request.params))),
  );

  /** GET /api/cairn/v1/workspaces/:workspace/registry/models/:model/notes */
  app.get(
    `${MODELS}/:model/notes`,
    { schema: { params: RegistryModelParams, response: { 200: RegistryNotes, ...errors } } },
    async (request) => ({ notes: await core.registry.notes(principalOf(request), modelRef(request.params)) }),
  );

  /** PUT /api/cairn/v1/workspaces/:workspace/registry/models/:model/notes — replaces them. */
  app.put(
    `${MODELS}/:model/notes`,
    { schema: { params: RegistryModelParams, body: RegistryNotesBody, response: { 204: NoContent, ...errors } } },
    async (request, reply) => {
      await core.registry.setNotes(principalOf(request), modelRef(request.params), request.body.notes);
      return reply.code(204).send(null);
    },
  );

  /** GET /api/cairn/v1/workspaces/:workspace/registry/models/:model/versions/:version */
  app.get(
    `${MODELS}/:model/versions/:version`,
    { schema: { params: RegistryVersionParams, response: { 200: RegistryVersion, ...errors } } },
    async (request) => wireRegistryVersion(await versionOf(principalOf(request), request.params)),
  );

  /**
   * PATCH /api/cairn/v1/workspaces/:workspace/registry/models/:model/versions/:version — the
   * comment and/or the whole stage list; each stage added or removed fires its webhooks.
   */
  app.patch(
    `${MODELS}/:model/versions/:version`,
    {
      schema: {
        params: RegistryVersionParams,
        body: UpdateRegistryVersionBody,
        response: { 200: RegistryVersion, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { version } = await versionOf(principal, request.params);
      const { comment, stages } = request.body;
      await core.registry.updateVersion(principal, version.id, {
        ...(comment === undefined ? {} : { comment }),
        ...(stages === undefined ? {} : { stages }),
      });
      return wireRegistryVersion(await versionOf(principal, request.params));
    },
  );

  /**
   * PUT /api/cairn/v1/workspaces/:workspace/registry/models/:model/versions/:version/stages/:stage
   * — adds a stage (firing STAGE_ADDED); one the version has already changes nothing.
   */
  app.put(
    `${MODELS}/:model/versions/:version/stages/:stage`,
    { schema: { params: RegistryStageParams, response: { 200: RegistryVersion, ...errors } } },
    async (request) => {
      const principal = principalOf(request);
      const { version } = await versionOf(principal, request.params);
      await core.registry.addStage(principal, version.id, request.params.stage);
      return wireRegistryVersion(await versionOf(principal, request.params));
    },
  );

  /**
   * DELETE /api/cairn/v1/workspaces/:workspace/registry/models/:model/versions/:version/stages/:stage
   * — removes a stage (firing STAGE_REMOVED); a stage the version lacks is 404.
   */
  app.delete(
    `${MODELS}/:model/versions/:version/stages/:stage`,
    { schema: { params: RegistryStageParams, response: { 200: RegistryVersion, ...errors } } },
    async (request) => {
      const principal = principalOf(request);
      const { version } = await versionOf(principal, request.params);
      await core.registry.removeStage(principal, version.id, request.params.stage);
      return wireRegistryVersion(await versionOf(principal, request.params));
    },
  );

  /**
   * GET /api/cairn/v1/workspaces/:workspace/registry/models/:model/versions/:version/download —
   * the version's files as a zip, streamed one file at a time.
   */
  app.get(
    `${MODELS}/:model/versions/:version/download`,
    { schema: { params: RegistryVersionParams, response: { 200: ZipBytes, ...errors } } },
    async (request, reply) => {
      const { model, view } = await chosen(principalOf(request), request.params);
      return sendZip(reply, `${model}-${view.version.version}.zip`, assetArchiveEntries(view.assets), (asset) =>
        core.assets.openChecked(asset),
      );
    },
  );

  /**
   * GET /api/cairn/v1/workspaces/:workspace/registry/models/:model/versions/:version/files/:fileId
   * — one file of the version, as an asset download (Range → 206).
   */
  app.get(
    `${MODELS}/:model/versions/:version/files/:fileId`,
    {
      schema: {
        params: RegistryFileParams,
        response: { 200: AnyBytes, 206: AnyBytes, ...errors, 416: Problem },
      },
    },
    async (request, reply) => {
      const view = await versionOf(principalOf(request), request.params);
      const file = view.assets.find((asset) => asset.id === request.params.fileId);
      if (!file) throw new NotFoundError(`version ${view.version.version} has no file ${request.params.fileId}`);
      return sendAssetBytes(core, file, request.headers.range, reply);
    },
  );
}
