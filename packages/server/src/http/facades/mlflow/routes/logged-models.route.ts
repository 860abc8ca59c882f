import {
  CreateLoggedModelRequest,
  FinalizeLoggedModelRequest,
  LoggedModelFileRequest,
  LoggedModelFilesRequest,
  LoggedModelParamsRequest,
  LoggedModelTagsRequest,
  LogOutputsRequest,
  MlflowEmpty,
  MlflowError,
  MlflowLoggedModelResponse,
  MlflowLoggedModelSearchResponse,
  MlflowRunArtifactList,
  SearchLoggedModelsRequest,
} from '@cairn/schemas/mlflow';
import { Type } from '@sinclair/typebox';
import type { Core } from '../../../../core/core.js';
import type { Project } from '../../../../core/entities.js';
import { newHexId } from '../../../../core/ids.js';
import type { LoggedModelView } from '../../../../core/logged-models.service.js';
import type { Principal } from '../../../../core/principal.js';

import { Download, listFiles, readableRun, sendArtifactBytes } from '../artifact-files.js';
import { assertSafePath } from '../artifact-path.js';
import type { MlflowRouteContext } from '../mlflow.plugin.js';
import { callerOf } from '../mlflow.plugin.js';
import { MlflowApiError, missingParameter } from '../mlflow-errors.js';
import { findProjectByExperimentId } from '../mlflow-ids.js';
import {
  inputOf,
  keyValueList,
  messageList,
  optionalEnum,
  optionalInt,
  optionalList,
  optionalString,
  requiredString,
  requiredStringOf,
} from '../mlflow-request.js';
import { LOGGED_MODEL_STATUS, loggedModelArtifactUri, wireLoggedModel } from './logged-model.mapper.js';

const errors = {
  400: MlflowError,
  401: MlflowError,
  403: MlflowError,
  404: MlflowError,
  429: MlflowError,
  503: MlflowError,
};
const ModelIdParams = Type.Object({ model_id: Type.String() });
const TagParams = Type.Object({ model_id: Type.String(), tag_key: Type.String() });
/** MLflow's own cap on a logged-model search page. */
const MAX_SEARCH_RESULTS = 50;
/** The only filter Cairn evaluates: `name = '<value>'` (or double quotes, backticked `name`). */
const NAME_FILTER = /^\s*(?:attributes?\.)?`?name`?\s*=\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*$/i;

/**
 * MLflow 3's logged models (spec §10; docs/api/mlflow.md, "Logged model"): routes under
 * `logged-models`, `runs/outputs`, and the model's file listing and download. A logged model is an
 * experiment model of its source run.
 */
export function registerLoggedModelRoutes({ app, core }: MlflowRouteContext): void {
  /**
   * POST logged-models {experiment_id, name, model_type, source_run_id, params[], tags[]} — a
   * PENDING model of the source run, which must be a run of that experiment the caller may write.
   */
  app.post(
    '/logged-models',
    { schema: { body: CreateLoggedModelRequest, response: { 200: MlflowLoggedModelResponse, ...errors } } },
    async (request) => {
      const { principal, workspace } = callerOf(request);
      const input = inputOf(request);
      const experimentId = requiredString(input, 'experiment_id');
      const sourceRunId = optionalString(input, 'source_run_id');
      if (!sourceRunId) throw missingParameter('source_run_id');
      const project = await findProjectByExperimentId(core, principal, workspace, experimentId);
      if (!project) {
        throw new MlflowApiError('RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${experimentId} exists`);
      }
      const run = await readableRun(core, principal, sourceRunId);
      if (run.project.id !== project.id) {
        throw new MlflowApiError(
          'INVALID_PARAMETER_VALUE',
          `Run ${sourceRunId} is not in experiment ${experimentId}: a logged model belongs to its source run's experiment.`,
        );
      }
      const view = await core.loggedModels.create(principal, sourceRunId, {
        // MLflow names an unnamed model itself; so does Cairn, uniquely per run.
        name: optionalString(input, 'name') || `model-${newHexId().slice(0, 8)}`,
        modelType: optionalString(input, 'model_type') ?? null,
        tags: pairs(keyValueList(input, 'tags')),
        params: pairs(keyValueList(input, 'params')),
      });
      return { model: wireLoggedModel(view, run.project) };
    },
  );

  /** POST logged-models/search {experiment_ids[], filter, max_results ≤ 50, page_token} — newest first. */
  app.post(
    '/logged-models/search',
    { schema: { body: SearchLoggedModelsRequest, response: { 200: MlflowLoggedModelSearchResponse, ...errors } } },
    async (request) => {
      const { principal, workspace } = callerOf(request);
      const input = inputOf(request);
      const experimentIds = optionalList(input, 'experiment_ids').map((id, i) => {
        if (typeof id !== 'string' && typeof id !== 'number') {
          throw new MlflowApiError('INVALID_PARAMETER_VALUE', `Invalid value for parameter 'experiment_ids[${i}]'`);
        }
        return String(id);
      });
      if (experimentIds.length === 0) throw missingParameter('experiment_ids');
      const maxResults = optionalInt(input, 'max_results') ?? MAX_SEARCH_RESULTS;
      if (maxResults < 1 || maxResults > MAX_SEARCH_RESULTS) {
        throw new MlflowApiError(
          'INVALID_PARAMETER_VALUE',
          `Invalid value ${maxResults} for parameter 'max_results' supplied. It must be between 1 and ${MAX_SEARCH_RESULTS}.`,
        );
      }
      const name = nameFilter(optionalString(input, 'filter'));
      const offset = pageOffset(optionalString(input, 'page_token'));
      const projects = new Map<string, Project>();
      for (const id of experimentIds) {
        const project = await findProjectByExperimentId(core, principal, workspace, id);
        if (project) projects.set(project.id, project);
      }
      const page = await core.loggedModels.search(principal, [...projects.keys()], {
        ...(name === undefined ? {} : { name }),
        offset,
        limit: maxResults + 1,
      });
      const models = page.slice(0, maxResults).flatMap((view) => {
        const project = projects.get(view.experiment.projectId);
        return project ? [wireLoggedModel(view, project)] : [];
      });
      return {
        ...(models.length > 0 ? { models } : {}),
        ...(page.length > maxResults ? { next_page_token: pageToken(offset + maxResults) } : {}),
      };
    },
  );

  /** GET logged-models/<model_id> — `allow_deleted` is accepted; deleted models are gone. */
  app.get(
    '/logged-models/:model_id',
    {
      schema: {
        params: ModelIdParams,
        response: { 200: MlflowLoggedModelResponse, ...errors },
      },
    },
    async (request) => {
      const { principal } = callerOf(request);
      return { model: await wired(core, principal, await core.loggedModels.get(principal, request.params.model_id)) };
    },
  );

  /** PATCH logged-models/<model_id> {status} — MLflow's finalize. */
  app.patch(
    '/logged-models/:model_id',
    {
      schema: {
        params: ModelIdParams,
        body: FinalizeLoggedModelRequest,
        response: { 200: MlflowLoggedModelResponse, ...errors },
      },
    },
    async (request) => {
      const { principal } = callerOf(request);
      const status = optionalEnum(inputOf(request), 'status', LOGGED_MODEL_STATUS);
      if (!status) throw missingParameter('status');
      const view = await core.loggedModels.setStatus(principal, request.params.model_id, status);
      return { model: await wired(core, principal, view) };
    },
  );

  /** DELETE logged-models/<model_id> — the model and its files. */
  app.delete(
    '/logged-models/:model_id',
    { schema: { params: ModelIdParams, response: { 200: MlflowEmpty, ...errors } } },
    async (request) => {
      await core.loggedModels.delete(callerOf(request).principal, request.params.model_id);
      return {};
    },
  );

  /** PATCH logged-models/<model_id>/tags {tags[]} — upserts. */
  app.patch(
    '/logged-models/:model_id/tags',
    { schema: { params: ModelIdParams, body: LoggedModelTagsRequest, response: { 200: MlflowEmpty, ...errors } } },
    async (request) => {
      const tags = pairs(keyValueList(inputOf(request), 'tags'));
      await core.loggedModels.setTags(callerOf(request).principal, request.params.model_id, tags);
      return {};
    },
  );

  /** DELETE logged-models/<model_id>/tags/<tag_key> */
  app.delete(
    '/logged-models/:model_id/tags/:tag_key',
    { schema: { params: TagParams, response: { 200: MlflowEmpty, ...errors } } },
    async (request) => {
      const { model_id, tag_key } = request.params;
      await core.loggedModels.deleteTag(callerOf(request).principal, model_id, tag_key);
      return {};
    },
  );

  /** POST logged-models/<model_id>/params {params[]} — write-once, as run params. */
  app.post(
    '/logged-models/:model_id/params',
    { schema: { params: ModelIdParams, body: LoggedModelParamsRequest, response: { 200: MlflowEmpty, ...errors } } },
    async (request) => {
      const params = pairs(keyValueList(inputOf(request), 'params'));
      await core.loggedModels.logParams(callerOf(request).principal, request.params.model_id, params);
      return {};
    },
  );

  /** POST runs/outputs {run_id, models[]{model_id, step}} — the step each model was logged at. */
  app.post(
    '/runs/outputs',
    { schema: { body: LogOutputsRequest, response: { 200: MlflowEmpty, ...errors } } },
    async (request) => {
      const { principal } = callerOf(request);
      const input = inputOf(request);
      const runId = requiredStringOf(input, ['run_id', 'run_uuid']);
      const models = messageList(input, 'models');
      if (models.length === 0) throw missingParameter('models');
      await readableRun(core, principal, runId);
      const outputs = models.map((model, i) => {
        if (!model.model_id) throw missingParameter(`models[${i}].model_id`);
        return { modelId: requiredString(model, 'model_id'), step: optionalInt(model, 'step') ?? 0 };
      });
      for (const output of outputs) await core.loggedModels.setStep(principal, runId, output.modelId, output.step);
      return {};
    },
  );

  /**
   * GET logged-models/<model_id>/artifacts/directories?artifact_directory_path — one folder
   * level of the model's files, paths relative to the model's root (`root_uri`).
   */
  app.get(
    '/logged-models/:model_id/artifacts/directories',
    {
      schema: {
        params: ModelIdParams,
        querystring: LoggedModelFilesRequest,
        response: { 200: MlflowRunArtifactList, ...errors },
      },
    },
    async (request) => {
      const { principal } = callerOf(request);
      const path = optionalString(inputOf(request), 'artifact_directory_path') ?? '';
      assertSafePath(path);
      const view = await core.loggedModels.get(principal, request.params.model_id);
      const run = await readableRun(core, principal, view.experiment.id);
      return {
        root_uri: loggedModelArtifactUri(run.project, view.model.loggedModelId),
        ...(await listFiles(core, principal, view.experiment.id, path, { model: view.model.name })),
      };
    },
  );

  /** GET logged-models/<model_id>/artifacts/files?artifact_file_path — a model file as a download (the UI's route). */
  app.get(
    '/logged-models/:model_id/artifacts/files',
    {
      schema: {
        params: ModelIdParams,
        querystring: LoggedModelFileRequest,
        response: { 200: Download, 206: Download, ...errors, 416: MlflowError },
      },
    },
    async (request, reply) => {
      const { principal } = callerOf(request);
      const path = requiredString(inputOf(request), 'artifact_file_path');
      assertSafePath(path);
      const view = await core.loggedModels.get(principal, request.params.model_id);
      const asset = await core.files.find(principal, view.experiment.id, path, { model: view.model.name });
      return sendArtifactBytes(core, asset, request.headers.range, reply);
    },
  );
}

async function wired(core: Core, principal: Principal, view: LoggedModelView) {
  const run = await readableRun(core, principal, view.experiment.id);
  return wireLoggedModel(view, run.project);
}

/** Key/value pairs as a record; a later pair of a key wins, as MLflow's upserts do. */
function pairs(list: { key: string; value: string }[]): Record<string, string> {
  return Object.fromEntries(list.map(({ key, value }) => [key, value]));
}

/** The model name a search filter asks for; undefined for no filter. Other filters are refused. */
function nameFilter(filter: string | undefined): string | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  const match = NAME_FILTER.exec(filter);
  if (!match) {
    throw new MlflowApiError(
      'INVALID_PARAMETER_VALUE',
      `Unsupported logged model filter '${filter}': Cairn evaluates only name = '<model name>'.`,
    );
  }
  return (match[1] ?? match[2] ?? '').replace(/\\(.)/g, '$1');
}

/** Page tokens are base64 of `{"offset": n}`, as MLflow's own. */
function pageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

function pageOffset(token: string | undefined): number {
  if (!token) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof offset === 'number' && Number.isSafeInteger(offset) && offset >= 0) return offset;
  } catch {
    // Falls through to the error below.
  }
  throw new MlflowApiError('INVALID_PARAMETER_VALUE', 'Invalid page token');
}
