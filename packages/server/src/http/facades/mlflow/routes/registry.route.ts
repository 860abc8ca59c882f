import * as R from '@cairn/schemas/mlflow';
import { type TSchema, Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { ModelVersionView } from '../../../../core/model-registry.service.js';
import { attachment, baseName, headerSafeLink, mediaTypeOf } from '../../../download-headers.js';
import { Download } from '../artifact-files.js';
import { callerOf, type MlflowRouteContext } from '../mlflow.plugin.js';
import { MlflowApiError } from '../mlflow-errors.js';
import {
  modelVersionComparator,
  modelVersionPredicate,
  registeredModelComparator,
  registeredModelPredicate,
} from '../mlflow-filter.js';
import {
  inputOf,
  keyValueList,
  type MlflowInput,
  optionalBool,
  optionalInt,
  optionalList,
  optionalString,
  requiredString,
} from '../mlflow-request.js';
import { downloadUriOf, originOf, wireModelVersion, wireRegisteredModel } from './registry.mapper.js';

const ErrorBody = Type.Object({ error_code: Type.String(), message: Type.String() });
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const Empty = Type.Object({});
const Tag = Type.Object({ key: Type.String(), value: Type.String() });

const ModelVersion = Type.Object({
  name: Type.String(),
  version: Type.String(),
  creation_timestamp: Type.Integer(),
  last_updated_timestamp: Type.Integer(),
  user_id: Type.String(),
  current_stage: Type.String(),
  description: Type.Optional(Type.String()),
  source: Type.Optional(Type.String()),
  run_id: Type.Optional(Type.String()),
  status: Type.String(),
  tags: Type.Array(Tag),
  run_link: Type.Optional(Type.String()),
  aliases: Type.Array(Type.String()),
  model_id: Type.Optional(Type.String()),
});

const RegisteredModel = Type.Object({
  name: Type.String(),
  creation_timestamp: Type.Integer(),
  last_updated_timestamp: Type.Integer(),
  user_id: Type.String(),
  description: Type.Optional(Type.String()),
  latest_versions: Type.Array(ModelVersion),
  tags: Type.Array(Tag),
  aliases: Type.Array(Type.Object({ alias: Type.String(), version: Type.String() })),
});

const RegisteredModelReply = Type.Object({ registered_model: RegisteredModel });
const ModelVersionReply = Type.Object({ model_version: ModelVersion });
const ModelVersionsReply = Type.Object({ model_versions: Type.Array(ModelVersion) });

/** Defaults and limits of MLflow's registry searches (spec §6.4). */
const MODEL_SEARCH = { defaultMax: 100, max: 1000 };
const VERSION_SEARCH = { defaultMax: 10_000, max: 200_000 };

/** `version` as MLflow's server reads it: an integer, in a string or a number. */
function versionNumber(input: MlflowInput): number {
  const text = requiredString(input, 'version');
  if (!/^\d+$/.test(text)) {
    throw new MlflowApiError('INVALID_PARAMETER_VALUE', `Parameter 'version' must be an integer, got '${text}'.`);
  }
  return Number(text);
}

/** MLflow's offset page token: base64 of `{"offset": n}`. */
function pageOffset(input: MlflowInput): number {
  const token = optionalString(input, 'page_token');
  if (!token) return 0;
  let offset: unknown;
  try {
    offset = (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown }).offset;
  } catch {
    throw new MlflowApiError('INVALID_PARAMETER_VALUE', 'Invalid page token, could not base64-decode');
  }
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new MlflowApiError('INVALID_PARAMETER_VALUE', `Invalid page token, decoded value=${token}`);
  }
  return offset;
}

/** One page of already filtered and ordered results, and the token of the next (absent on the last). */
function page<T>(input: MlflowInput, all: readonly T[], limits: { defaultMax: number; max: number }) {
  const maxResults = optionalInt(input, 'max_results') ?? limits.defaultMax;
  if (maxResults < 1) {
    throw new MlflowApiError(
      'INVALID_PARAMETER_VALUE',
      `Invalid value for max_results. It must be a positive integer, but got ${maxResults}`,
    );
  }
  if (maxResults > limits.max) {
    throw new MlflowApiError(
      'INVALID_PARAMETER_VALUE',
      `Invalid value for request parameter max_results. It must be at most ${limits.max}, but got value ${maxResults}`,
    );
  }
  const offset = pageOffset(input);
  const end = offset + maxResults;
  const next = end < all.length ? Buffer.from(JSON.stringify({ offset: end })).toString('base64') : undefined;
  return { items: all.slice(offset, end), next };
}

function orderBy(input: MlflowInput): string[] {
  return optionalList(input, 'order_by').map((clause) => {
    if (typeof clause !== 'string') throw new MlflowApiError('INVALID_PARAMETER_VALUE', 'order_by must be strings');
    return clause;
  });
}

function versionFields(view: ModelVersionView) {
  return {
    name: view.model.name,
    version: view.version.number,
    runId: view.version.experimentId === '' ? null : view.version.experimentId,
    source: view.version.source,
    tags: view.version.tags,
    creationTimestamp: view.version.createdAt,
    lastUpdatedTimestamp: view.version.updatedAt,
  };
}

/**
 * MLflow's model registry (spec §9) under /api/2.0/mlflow and /ajax-api/2.0/mlflow: registered
 * models and versions of the request's workspace, the same registry Comet's API serves.
 */
export function registerRegistryRoutes({ app, core }: MlflowRouteContext): void {
  const registry = core.modelRegistry;
  const call = (request: FastifyRequest) => ({ ...callerOf(request), input: inputOf(request) });
  const route = <R extends TSchema>(
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    message: TSchema,
    reply: R,
    handler: (request: FastifyRequest) => Promise<unknown>,
  ) => {
    app.route({
      method,
      url,
      schema: {
        // Old clients send the body as a JSON string holding the JSON: it is validated decoded.
        ...(method === 'GET' ? { querystring: message } : { body: message }),
        response: { 200: reply, ...errors },
      },
      handler: (request) => handler(request) as never,
    });
  };

  /** POST registered-models/create */
  route('POST', '/registered-models/create', R.CreateRegisteredModelRequest, RegisteredModelReply, async (request) => {
    const { principal, workspace, input } = call(request);
    const view = await registry.createModel(principal, workspace, {
      name: requiredString(input, 'name'),
      description: optionalString(input, 'description') ?? null,
      tags: keyValueList(input, 'tags'),
    });
    return { registered_model: wireRegisteredModel(view) };
  });

  /** POST registered-models/rename */
  route('POST', '/registered-models/rename', R.RenameRegisteredModelRequest, RegisteredModelReply, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    const view = await registry.renameModel(principal, workspace, name, requiredString(input, 'new_name'));
    return { registered_model: wireRegisteredModel(view) };
  });

  /** PATCH registered-models/update */
  route('PATCH', '/registered-models/update', R.UpdateRegisteredModelRequest, RegisteredModelReply, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    const description = optionalString(input, 'description') ?? null;
    return {
      registered_model: wireRegisteredModel(
        await registry.updateModelDescription(principal, workspace, name, description),
      ),
    };
  });

  /** DELETE registered-models/delete */
  route('DELETE', '/registered-models/delete', R.RegisteredModelNameRequest, Empty, async (request) => {
    const { principal, workspace, input } = call(request);
    await registry.deleteModel(principal, workspace, requiredString(input, 'name'));
    return {};
  });

  /** GET registered-models/get */
  route('GET', '/registered-models/get', R.RegisteredModelNameRequest, RegisteredModelReply, async (request) => {
    const { principal, workspace, input } = call(request);
    const view = await registry.getModel(principal, workspace, requiredString(input, 'name'));
    return { registered_model: wireRegisteredModel(view) };
  });

  /** GET registered-models/search */
  const searchModels = async (request: FastifyRequest) => {
    const { principal, workspace, input } = call(request);
    const predicate = registeredModelPredicate(optionalString(input, 'filter'));
    const comparator = registeredModelComparator(orderBy(input));
    const fields = (view: Awaited<ReturnType<typeof registry.listModels>>[number]) => ({
      name: view.model.name,
      tags: view.model.tags,
      creationTimestamp: view.model.createdAt,
      lastUpdatedTimestamp: view.model.updatedAt,
    });
    const all = (await registry.listModels(principal, workspace))
      .filter((view) => predicate(fields(view)))
      .sort((a, b) => comparator(fields(a), fields(b)));
    const { items, next } = page(input, all, MODEL_SEARCH);
    return { registered_models: items.map(wireRegisteredModel), ...(next ? { next_page_token: next } : {}) };
  };
  const ModelsPage = Type.Object({
    registered_models: Type.Array(RegisteredModel),
    next_page_token: Type.Optional(Type.String()),
  });
  route('GET', '/registered-models/search', R.SearchRegisteredModelsRequest, ModelsPage, searchModels);

  /** POST (and GET) registered-models/get-latest-versions */
  const latestVersions = async (request: FastifyRequest) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    const stages = optionalList(input, 'stages').map((stage) => {
      if (typeof stage !== 'string') throw new MlflowApiError('INVALID_PARAMETER_VALUE', 'stages must be strings');
      return stage;
    });
    const views = await registry.latestVersions(principal, workspace, name, stages);
    return { model_versions: views.map(wireModelVersion) };
  };
  route(
    'POST',
    '/registered-models/get-latest-versions',
    R.GetLatestVersionsRequest,
    ModelVersionsReply,
    latestVersions,
  );
  route(
    'GET',
    '/registered-models/get-latest-versions',
    R.GetLatestVersionsRequest,
    ModelVersionsReply,
    latestVersions,
  );

  /** POST registered-models/set-tag */
  route('POST', '/registered-models/set-tag', R.SetRegisteredModelTagRequest, Empty, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    const key = requiredString(input, 'key');
    await registry.setModelTag(principal, workspace, name, key, optionalString(input, 'value') ?? '');
    return {};
  });

  /** DELETE registered-models/delete-tag */
  route('DELETE', '/registered-models/delete-tag', R.DeleteRegisteredModelTagRequest, Empty, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    await registry.deleteModelTag(principal, workspace, name, requiredString(input, 'key'));
    return {};
  });

  /** POST registered-models/alias */
  route('POST', '/registered-models/alias', R.SetAliasRequest, Empty, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    const alias = requiredString(input, 'alias');
    await registry.setAlias(principal, workspace, name, alias, versionNumber(input));
    return {};
  });

  /** DELETE registered-models/alias */
  route('DELETE', '/registered-models/alias', R.AliasRequest, Empty, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    await registry.deleteAlias(principal, workspace, name, requiredString(input, 'alias'));
    return {};
  });

  /** GET registered-models/alias */
  route('GET', '/registered-models/alias', R.AliasRequest, ModelVersionReply, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    const view = await registry.versionByAlias(principal, workspace, name, requiredString(input, 'alias'));
    return { model_version: wireModelVersion(view) };
  });

  /** POST model-versions/create */
  route('POST', '/model-versions/create', R.CreateModelVersionRequest, ModelVersionReply, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    const source = requiredString(input, 'source');
    const runId = optionalString(input, 'run_id') || undefined;
    const modelId = optionalString(input, 'model_id') || undefined;
    const origin = originOf(source, runId);
    const view = await registry.createVersion(principal, workspace, {
      modelName: name,
      source,
      // A `model_id` beside a source outside Cairn still names the logged model's files.
      origin: origin.kind === 'external' && modelId ? { kind: 'logged-model', loggedModelId: modelId } : origin,
      runId: runId ?? null,
      runLink: optionalString(input, 'run_link') ?? null,
      description: optionalString(input, 'description') ?? null,
      tags: keyValueList(input, 'tags'),
    });
    return { model_version: wireModelVersion(view) };
  });

  /** PATCH model-versions/update */
  route('PATCH', '/model-versions/update', R.UpdateModelVersionRequest, ModelVersionReply, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    const number = versionNumber(input);
    const description = optionalString(input, 'description') ?? null;
    const view = await registry.updateVersionDescription(principal, workspace, name, number, description);
    return { model_version: wireModelVersion(view) };
  });

  /** POST model-versions/transition-stage */
  route('POST', '/model-versions/transition-stage', R.TransitionStageRequest, ModelVersionReply, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    const number = versionNumber(input);
    const stage = requiredString(input, 'stage');
    const archive = optionalBool(input, 'archive_existing_versions') ?? false;
    const view = await registry.transitionStage(principal, workspace, name, number, stage, archive);
    return { model_version: wireModelVersion(view) };
  });

  /** DELETE model-versions/delete */
  route('DELETE', '/model-versions/delete', R.ModelVersionRequest, Empty, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    await registry.deleteVersion(principal, workspace, name, versionNumber(input));
    return {};
  });

  /** GET model-versions/get */
  route('GET', '/model-versions/get', R.ModelVersionRequest, ModelVersionReply, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    const view = await registry.getVersion(principal, workspace, name, versionNumber(input));
    return { model_version: wireModelVersion(view) };
  });

  /** GET model-versions/search */
  const VersionsPage = Type.Object({
    model_versions: Type.Array(ModelVersion),
    next_page_token: Type.Optional(Type.String()),
  });
  route('GET', '/model-versions/search', R.SearchModelVersionsRequest, VersionsPage, async (request) => {
    const { principal, workspace, input } = call(request);
    const predicate = modelVersionPredicate(optionalString(input, 'filter'));
    const comparator = modelVersionComparator(orderBy(input));
    const all = (await registry.listVersions(principal, workspace))
      .filter((view) => predicate(versionFields(view)))
      .sort((a, b) => comparator(versionFields(a), versionFields(b)));
    const { items, next } = page(input, all, VERSION_SEARCH);
    return { model_versions: items.map(wireModelVersion), ...(next ? { next_page_token: next } : {}) };
  });

  /** GET model-versions/get-download-uri */
  route(
    'GET',
    '/model-versions/get-download-uri',
    R.ModelVersionRequest,
    Type.Object({ artifact_uri: Type.String() }),
    async (request) => {
      const { principal, workspace, input } = call(request);
      const name = requiredString(input, 'name');
      const view = await registry.getVersion(principal, workspace, name, versionNumber(input));
      return { artifact_uri: downloadUriOf(view) };
    },
  );

  /**
   * GET model-versions/get-artifact?name&version&path — one file of a version (the download
   * MLflow's UI uses), `path` relative to the version's root.
   */
  app.get(
    '/model-versions/get-artifact',
    { schema: { querystring: R.ModelVersionArtifactRequest, response: { 200: Download, ...errors } } },
    async (request, reply) => {
      const { principal, workspace, input } = call(request);
      const name = requiredString(input, 'name');
      const number = versionNumber(input);
      const path = requiredString(input, 'path').replace(/^(\.\/)+/, '');
      const file = await registry.versionFile(principal, workspace, name, number, path);
      if (file.remote && file.link) return reply.redirect(headerSafeLink(file.link), 302);
      const body = await core.assets.openChecked(file);
      // A row without its bytes is damage, not a client error.
      if (!body) throw new Error(`the bytes of asset ${file.id} are missing from the blob store`);
      return reply
        .type(mediaTypeOf(file.fileName))
        .header('content-length', file.fileSize)
        .header('content-disposition', attachment(baseName(file.fileName)))
        .header('x-content-type-options', 'nosniff')
        .send(body);
    },
  );

  /** POST model-versions/set-tag */
  route('POST', '/model-versions/set-tag', R.SetModelVersionTagRequest, Empty, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    const number = versionNumber(input);
    const key = requiredString(input, 'key');
    await registry.setVersionTag(principal, workspace, name, number, key, optionalString(input, 'value') ?? '');
    return {};
  });

  /** DELETE model-versions/delete-tag */
  route('DELETE', '/model-versions/delete-tag', R.DeleteModelVersionTagRequest, Empty, async (request) => {
    const { principal, workspace, input } = call(request);
    const name = requiredString(input, 'name');
    const number = versionNumber(input);
    await registry.deleteVersionTag(principal, workspace, name, number, requiredString(input, 'key'));
    return {};
  });
}
