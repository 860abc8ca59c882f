import {
  CometError,
  LatestVersionQuery,
  PlainWriteResponse,
  RegisterModelBody,
  RegisterModelResponse,
  RegistryItemQuery,
  RegistryModelCountResponse,
  RegistryModelDetails,
  RegistryModelNotesBody,
  RegistryModelNotesResponse,
  RegistryModelQuery,
  RegistryModelsResponse,
  RegistryStageQuery,
  RegistryVersionChoiceQuery,
  RegistryWorkspaceQuery,
  UpdateRegistryModelBody,
  UpdateRegistryVersionBody,
} from '@cairn/schemas/comet';
import type { Static } from '@sinclair/typebox';
import { assetArchiveEntries } from '../../../../core/assets.service.js';
import type {
  RegistryModelDetails as Details,
  RegistryModelSummary,
  RegistryVersionView,
} from '../../../../core/registry.service.js';
import { ZipBytes } from '../../../binary-body.js';
import { principalOf } from '../../../request-context.js';
import { sendZip } from '../../../zip-reply.js';
import type { CometRouteContext } from '../comet.plugin.js';
import { registryVersionRule } from '../comet-field-rules.js';
import { writeOk } from '../comet-reply.js';
import { toAssetRow } from './assets.route.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };

/** Model registry reads (spec §3.5 #32–38) and writes (spec §4.4 #38–46). */
export function registerRegistryRoutes({ app, core, publicUrl }: CometRouteContext): void {
  const mapper = registryMapper(publicUrl);

  /** GET /registry-model?workspaceName= */
  app.get(
    '/registry-model',
    { schema: { querystring: RegistryWorkspaceQuery, response: { 200: RegistryModelsResponse, ...errors } } },
    async (request) => {
      const summaries = await core.registry.listModels(principalOf(request), request.query.workspaceName);
      return { registryModels: summaries.map(mapper.modelRow) };
    },
  );

  /** GET /registry-model/count?workspaceName= */
  app.get(
    '/registry-model/count',
    { schema: { querystring: RegistryWorkspaceQuery, response: { 200: RegistryModelCountResponse, ...errors } } },
    async (request) => ({
      registryModelCount: await core.registry.countModels(principalOf(request), request.query.workspaceName),
    }),
  );

  /** GET /registry-model/details?workspaceName=&modelName= — every version, ascending semver. */
  app.get(
    '/registry-model/details',
    { schema: { querystring: RegistryModelQuery, response: { 200: RegistryModelDetails, ...errors } } },
    async (request) => mapper.details(await core.registry.details(principalOf(request), request.query)),
  );

  /** GET /registry-model/latest_version?workspaceName=&modelName=[&stage=][&versionMajor=][&versionMinor=] */
  app.get(
    '/registry-model/latest_version',
    { schema: { querystring: LatestVersionQuery, response: { 200: RegistryModelDetails, ...errors } } },
    async (request) => {
      const { workspaceName, modelName, stage, versionMajor, versionMinor } = request.query;
      const filter = { stage, versionMajor, versionMinor };
      return mapper.details(await core.registry.latest(principalOf(request), { workspaceName, modelName }, filter));
    },
  );

  /** GET /registry-model/notes?workspaceName=&modelName= */
  app.get(
    '/registry-model/notes',
    { schema: { querystring: RegistryModelQuery, response: { 200: RegistryModelNotesResponse, ...errors } } },
    async (request) => ({ notes: await core.registry.notes(principalOf(request), request.query) }),
  );

  /**
   * GET /registry-model/item/download?workspaceName=&modelName=[&version=|&stage=] — a zip of the
   * version's files (its experiment model's), streamed like the experiment model download.
   */
  app.get(
    '/registry-model/item/download',
    { schema: { querystring: RegistryVersionChoiceQuery, response: { 200: ZipBytes, ...errors } } },
    async (request, reply) => {
      const { workspaceName, modelName, version, stage } = request.query;
      const details = await core.registry.choose(
        principalOf(request),
        { workspaceName, modelName },
        { version, stage },
      );
      const chosen = onlyVersion(details);
      return sendZip(
        reply,
        `${details.model.name}_${chosen.version.version}.zip`,
        assetArchiveEntries(chosen.assets),
        (asset) => core.assets.openChecked(asset),
      );
    },
  );

  /**
   * GET /registry-model/item/download-instructions?workspaceName=&modelName=[&version=|&stage=] —
   * the details shape with the chosen version alone: comet_ml reads `versions[0]`.
   */
  app.get(
    '/registry-model/item/download-instructions',
    { schema: { querystring: RegistryVersionChoiceQuery, response: { 200: RegistryModelDetails, ...errors } } },
    async (request) => {
      const { workspaceName, modelName, version, stage } = request.query;
      return mapper.details(
        await core.registry.choose(principalOf(request), { workspaceName, modelName }, { version, stage }),
      );
    },
  );

  /** POST /write/registry-model — registers a version, creating the registry model when absent. */
  app.post(
    '/write/registry-model',
    {
      config: { cometFieldRules: { version: registryVersionRule } },
      schema: { body: RegisterModelBody, response: { 200: RegisterModelResponse, ...errors } },
    },
    async (request) => {
      const { model, version } = await core.registry.register(principalOf(request), request.body, true);
      return writeOk('Model registered', { registryModelId: model.id, registryModelItemId: version.id });
    },
  );

  /** POST /write/registry-model/item — adds a version to an existing registry model. */
  app.post(
    '/write/registry-model/item',
    {
      config: { cometFieldRules: { version: registryVersionRule } },
      schema: { body: RegisterModelBody, response: { 200: RegisterModelResponse, ...errors } },
    },
    async (request) => {
      const { model, version } = await core.registry.register(principalOf(request), request.body, false);
      return writeOk('Model version added', { registryModelId: model.id, registryModelItemId: version.id });
    },
  );

  /** POST /write/registry-model/item/update — comment and/or the whole stage list. */
  app.post(
    '/write/registry-model/item/update',
    { schema: { body: UpdateRegistryVersionBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      const { registryModelItemId, comment, stages } = request.body;
      await core.registry.updateVersion(principalOf(request), registryModelItemId, {
        // Null is "not given" (spec §1.3), as for stages.
        ...(comment != null ? { comment } : {}),
        stages,
      });
      return writeOk('Model version updated');
    },
  );

  /** POST /write/registry-model/update — rename, description, visibility. */
  app.post(
    '/write/registry-model/update',
    { schema: { body: UpdateRegistryModelBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      const { registryModelId, registryModelName, description, isPublic } = request.body;
      await core.registry.updateModel(principalOf(request), registryModelId, {
        name: registryModelName,
        ...(description != null ? { description } : {}),
        isPublic,
      });
      return writeOk('Model updated');
    },
  );

  /** GET /write/registry-model/delete?workspaceName=&modelName= */
  app.get(
    '/write/registry-model/delete',
    { schema: { querystring: RegistryModelQuery, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      await core.registry.deleteModel(principalOf(request), request.query);
      return writeOk('Model deleted');
    },
  );

  /** GET /write/registry-model/item/delete?modelItemId= */
  app.get(
    '/write/registry-model/item/delete',
    { schema: { querystring: RegistryItemQuery, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      await core.registry.deleteVersion(principalOf(request), request.query.modelItemId);
      return writeOk('Model version deleted');
    },
  );

  /** POST /write/registry-model/notes */
  app.post(
    '/write/registry-model/notes',
    { schema: { body: RegistryModelNotesBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      const { workspaceName, registryModelName, notes } = request.body;
      await core.registry.setNotes(principalOf(request), { workspaceName, modelName: registryModelName }, notes ?? '');
      return writeOk('Saved');
    },
  );

  /** GET /write/registry-model/item/stage?modelItemId=&stage= — fires the stage webhooks. */
  app.get(
    '/write/registry-model/item/stage',
    { schema: { querystring: RegistryStageQuery, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      await core.registry.addStage(principalOf(request), request.query.modelItemId, request.query.stage);
      return writeOk('Stage added');
    },
  );

  /** GET /write/registry-model/item/stage/delete?modelItemId=&stage= — fires the stage webhooks. */
  app.get(
    '/write/registry-model/item/stage/delete',
    { schema: { querystring: RegistryStageQuery, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      await core.registry.removeStage(principalOf(request), request.query.modelItemId, request.query.stage);
      return writeOk('Stage removed');
    },
  );
}

function onlyVersion(details: Details): RegistryVersionView {
  const version = details.versions[0];
  if (!version) throw new Error('a chosen registry version is missing from its details');
  return version;
}

/** Wire shapes of the registry (spec §3.1 RegistryVersion, §3.5). */
function registryMapper(publicUrl: string) {
  const versionFields = (model: { name: string }, workspaceName: string, view: RegistryVersionView) => {
    const { version } = view;
    const download = new URLSearchParams({ workspaceName, modelName: model.name, version: version.version });
    return {
      registryModelItemId: version.id,
      experimentModel: {
        experimentModelId: version.experimentModelId,
        experimentModelName: version.experimentModelName,
        experimentKey: version.experimentId,
      },
      version: version.version,
      comment: version.comment,
      stages: version.stages,
      userName: view.userName,
      createdAt: version.createdAt,
      lastUpdated: version.updatedAt,
      restApiUrl: `${publicUrl}/api/rest/v2/registry-model/item/download?${download}`,
    };
  };

  const modelFields = (summary: RegistryModelSummary | Details) => ({
    registryModelId: summary.model.id,
    workspaceId: summary.workspace.id,
    workspaceName: summary.workspace.name,
    modelName: summary.model.name,
    description: summary.model.description,
    isPublic: summary.model.isPublic,
    userName: summary.userName,
    numberOfVersions: summary.versionCount,
    imagePath: null,
    createdAt: summary.model.createdAt,
    lastUpdated: summary.model.updatedAt,
  });

  return {
    modelRow: (summary: RegistryModelSummary) => ({
      ...modelFields(summary),
      latestVersion: summary.latest && {
        ...versionFields(summary.model, summary.workspace.name, summary.latest),
        metadata: summary.latest.assets.map((asset) => asset.metadata),
      },
    }),
    details: (details: Details): Static<typeof RegistryModelDetails> => ({
      ...modelFields(details),
      isAutoGenerated: false,
      isMonitored: false,
      versions: details.versions.map((view) => ({
        ...versionFields(details.model, details.workspace.name, view),
        assets: view.assets.map((asset) => toAssetRow(publicUrl, asset)),
      })),
    }),
  };
}
