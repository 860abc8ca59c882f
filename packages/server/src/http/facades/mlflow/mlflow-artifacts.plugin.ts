import { Readable } from 'node:stream';
import {
  ArtifactPathParams,
  ArtifactServiceListRequest,
  MlflowArtifactList,
  MlflowEmpty,
  MlflowError,
  MlflowServerInfo,
} from '@cairn/schemas/mlflow';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Core } from '../../../core/core.js';

import { closeOnFailure } from '../../multipart-reader.js';
import { Download, resolveArtifacts, sendArtifactBytes } from './artifact-files.js';
import { type ArtifactTarget, assertSafePath, parseArtifactPath } from './artifact-path.js';
import { callerOf, setUpMlflowScope } from './mlflow.plugin.js';
import { MlflowApiError, mlflowErrorHandler, sendMlflowError } from './mlflow-errors.js';
import { inputOf, optionalString } from './mlflow-request.js';

const errors = {
  400: MlflowError,
  401: MlflowError,
  403: MlflowError,
  404: MlflowError,
  413: MlflowError,
  429: MlflowError,
  503: MlflowError,
};

const MULTIPART_NOT_SUPPORTED =
  'Multipart upload is not supported for the current artifact repository: Cairn stores each upload in one request.';

/**
 * MLflow's proxied artifact service (docs/api/mlflow.md; spec §8.2), registered at
 * /api/2.0/mlflow-artifacts and /ajax-api/2.0/mlflow-artifacts. Paths below `/artifacts/` are
 * relative to the `mlflow-artifacts:/` root: `<experiment_id>/<run_id>/artifacts/<path>` are a
 * run's files (its assets), `<experiment_id>/models/<model_id>/artifacts/<path>` a logged model's.
 * Uploads take the raw body of any media type, streamed to the blob store.
 */
export const mlflowArtifactsPlugin: FastifyPluginAsync<{ core: Core }> = async (instance, { core }) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  setUpMlflowScope(app, core);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  /** GET /api/2.0/mlflow-artifacts/artifacts?path=<folder> — one level, base names. */
  app.get(
    '/artifacts',
    { schema: { querystring: ArtifactServiceListRequest, response: { 200: MlflowArtifactList, ...errors } } },
    async (request) => {
      const { principal } = callerOf(request);
      const raw = optionalString(inputOf(request), 'path') ?? '';
      assertSafePath(raw);
      const target = parseArtifactPath(raw);
      if (!target) return {};
      const { run, scope, path } = await resolveArtifacts(core, principal, target);
      const entries = await core.files.list(principal, run.experiment.id, path, scope);
      if (!entries) return {};
      return {
        files: entries.map((entry) => ({
          path: entry.path.slice(entry.path.lastIndexOf('/') + 1),
          is_dir: entry.isDir,
          ...(entry.size === undefined ? {} : { file_size: entry.size }),
        })),
      };
    },
  );

  /** GET /api/2.0/mlflow-artifacts/artifacts/<path> — the file's bytes (one byte range when asked). */
  app.get(
    '/artifacts/*',
    {
      schema: {
        params: ArtifactPathParams,
        response: { 200: Download, 206: Download, ...errors, 416: MlflowError },
      },
    },
    async (request, reply) => {
      const { principal } = callerOf(request);
      const { run, scope, path } = await resolveArtifacts(core, principal, targetOf(request));
      if (path === '') throw new MlflowApiError('INVALID_PARAMETER_VALUE', 'Invalid path');
      const asset = await core.files.find(principal, run.experiment.id, path, scope);
      return sendArtifactBytes(core, asset, request.headers.range, reply);
    },
  );

  /**
   * PUT /api/2.0/mlflow-artifacts/artifacts/<path> — stores the raw body at the path, replacing
   * the file there; at most the server's asset limit (413 beyond it).
   */
  app.put(
    '/artifacts/*',
    { config: { upload: true }, schema: { params: ArtifactPathParams, response: { 200: MlflowEmpty, ...errors } } },
    async (request, reply) =>
      closeOnFailure(request, reply, async () => {
        const { principal } = callerOf(request);
        const { run, scope, path } = await resolveArtifacts(core, principal, targetOf(request));
        if (path === '') throw new MlflowApiError('INVALID_PARAMETER_VALUE', 'Invalid path');
        // A request without a media type and without a body skips the parser: an empty file.
        const body = (request.body as Readable | undefined) ?? Readable.from([]);
        await core.files.put(principal, run.experiment.id, path, body, scope);
        return {};
      }),
  );

  /** DELETE /api/2.0/mlflow-artifacts/artifacts/<path> — the file, or every file under the folder. */
  app.delete(
    '/artifacts/*',
    { schema: { params: ArtifactPathParams, response: { 200: MlflowEmpty, ...errors } } },
    async (request) => {
      const { principal } = callerOf(request);
      const { run, scope, path } = await resolveArtifacts(core, principal, targetOf(request));
      await core.files.delete(principal, run.experiment.id, path, scope);
      return {};
    },
  );

  /**
   * POST /api/2.0/mlflow-artifacts/mpu/{create,complete,abort}/<path> — 501: the client then
   * falls back to one PUT, which the message's start tells it to do. Kept out of the OpenAPI
   * document: server-info says multipart uploads are off, so they are no part of the contract.
   */
  for (const step of ['create', 'complete', 'abort']) {
    app.post(
      `/mpu/${step}/*`,
      { schema: { hide: true, response: { 501: MlflowError, ...errors } } },
      async (_request, reply) => sendMlflowError(reply, new MlflowApiError('NOT_IMPLEMENTED', MULTIPART_NOT_SUPPORTED)),
    );
  }
};

/** The checked target of a `/artifacts/<path>` request. */
function targetOf(request: FastifyRequest): ArtifactTarget {
  const raw = (request.params as { '*'?: string })['*'] ?? '';
  assertSafePath(raw);
  const target = parseArtifactPath(raw);
  if (!target) throw new MlflowApiError('RESOURCE_DOES_NOT_EXIST', `No artifact at path '${raw}'`);
  return target;
}

/**
 * MLflow 3's `/api/3.0/mlflow` routes Cairn answers: `server-info` (which newer clients probe,
 * unauthenticated, before large uploads and when a workspace is set), and ENDPOINT_NOT_FOUND for
 * the rest. `workspaces_enabled` is true: Cairn honours `X-MLFLOW-WORKSPACE`, and a client with
 * a workspace set refuses to work with a server that says it has none.
 */
export const mlflowV3Plugin: FastifyPluginAsync = async (instance) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler(mlflowErrorHandler);
  app.setNotFoundHandler((_request, reply) =>
    sendMlflowError(reply, new MlflowApiError('ENDPOINT_NOT_FOUND', 'Not found')),
  );

  /** GET /api/3.0/mlflow/server-info */
  app.get('/server-info', { schema: { response: { 200: MlflowServerInfo } } }, async () => ({
    store_type: 'SqlStore',
    workspaces_enabled: true,
    multipart_uploads_enabled: false,
    multipart_downloads_enabled: false,
  }));
};
