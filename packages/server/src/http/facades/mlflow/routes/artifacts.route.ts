import { Readable } from 'node:stream';
import {
  GetArtifactRequest,
  ListArtifactsRequest,
  LogModelRequest,
  MlflowEmpty,
  MlflowError,
  MlflowRunArtifactList,
  UploadArtifactRequest,
} from '@cairn/schemas/mlflow';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';

import { closeOnFailure } from '../../../multipart-reader.js';
import { Download, listFiles, readableRun, sendArtifactBytes } from '../artifact-files.js';
import { assertSafePath } from '../artifact-path.js';
import type { MlflowRouteContext } from '../mlflow.plugin.js';
import { callerOf } from '../mlflow.plugin.js';
import { MlflowApiError } from '../mlflow-errors.js';
import { runArtifactUriOf } from '../mlflow-ids.js';
import { inputOf, optionalString, requiredString, requiredStringOf } from '../mlflow-request.js';
import { registerLoggedModelRoutes } from './logged-models.route.js';

const errors = {
  400: MlflowError,
  401: MlflowError,
  403: MlflowError,
  404: MlflowError,
  429: MlflowError,
  503: MlflowError,
};

/** The tag MLflow's server keeps a run's 2.x `log_model` calls in (a JSON list of model dicts). */
const LOG_MODEL_HISTORY_TAG = 'mlflow.log-model.history';
const LOG_MODEL_FIELDS = ['artifact_path', 'flavors', 'utc_time_created', 'run_id'];

/**
 * The tracking API's artifact routes (spec §4 #20, §8.3, §10), registered inside the tracking
 * plugin (so at /api/2.0/mlflow and /ajax-api/2.0/mlflow): listing and downloading a run's files,
 * the UI's upload, 2.x `runs/log-model`, and MLflow 3's logged models.
 */
export function registerArtifactRoutes(context: MlflowRouteContext): void {
  const { app, core } = context;

  /**
   * GET artifacts/list?run_id&path&page_token — one folder level, paths relative to the run's
   * root (`root_uri`, the run's artifact_uri). Everything comes in one page.
   */
  app.get(
    '/artifacts/list',
    { schema: { querystring: ListArtifactsRequest, response: { 200: MlflowRunArtifactList, ...errors } } },
    async (request) => {
      const { principal } = callerOf(request);
      const input = inputOf(request);
      const runId = requiredStringOf(input, ['run_id', 'run_uuid']);
      const path = optionalString(input, 'path') ?? '';
      assertSafePath(path);
      const run = await readableRun(core, principal, runId);
      const rootUri = runArtifactUriOf(run.project, runId);
      return { root_uri: rootUri, ...(await listFiles(core, principal, runId, path, {})) };
    },
  );

  /**
   * GET get-artifact?run_id&path — a run's file as a download (MLflow's UI route; `run_uuid` is
   * accepted for `run_id`). Served under the tracking prefixes: Cairn's web UI owns the root.
   */
  app.get(
    '/get-artifact',
    {
      schema: {
        querystring: GetArtifactRequest,
        response: { 200: Download, 206: Download, ...errors, 416: MlflowError },
      },
    },
    async (request, reply) => {
      const { principal } = callerOf(request);
      const input = inputOf(request);
      const runId = requiredStringOf(input, ['run_id', 'run_uuid']);
      const path = requiredString(input, 'path');
      assertSafePath(path);
      await readableRun(core, principal, runId);
      const asset = await core.files.find(principal, runId, path);
      return sendArtifactBytes(core, asset, request.headers.range, reply);
    },
  );

  /**
   * POST runs/log-model {run_id, model_json} — MLflow 2's `log_model`, after the files were
   * uploaded: the model is appended to the run's `mlflow.log-model.history` tag and the files
   * under `<artifact_path>/` become the experiment model `<artifact_path>`.
   */
  app.post(
    '/runs/log-model',
    { schema: { body: LogModelRequest, response: { 200: MlflowEmpty, ...errors } } },
    async (request) => {
      const { principal } = callerOf(request);
      const input = inputOf(request);
      const runId = requiredStringOf(input, ['run_id', 'run_uuid']);
      const modelJson = requiredString(input, 'model_json');
      let model: unknown;
      try {
        model = JSON.parse(modelJson);
      } catch {
        throw new MlflowApiError(
          'INVALID_PARAMETER_VALUE',
          `Malformed model info. \n ${modelJson} \n is not a valid JSON.`,
        );
      }
      if (model === null || typeof model !== 'object' || Array.isArray(model)) {
        throw new MlflowApiError(
          'INVALID_PARAMETER_VALUE',
          `Malformed model info. \n ${modelJson} \n is not a valid JSON.`,
        );
      }
      const fields = model as Record<string, unknown>;
      const missing = LOG_MODEL_FIELDS.filter((name) => !(name in fields));
      if (missing.length > 0) {
        throw new MlflowApiError(
          'INVALID_PARAMETER_VALUE',
          `Model json is missing mandatory fields: {${missing.map((name) => `'${name}'`).join(', ')}}`,
        );
      }
      const artifactPath = fields.artifact_path;
      if (typeof artifactPath !== 'string' || artifactPath === '') {
        throw new MlflowApiError(
          'INVALID_PARAMETER_VALUE',
          "Model json field 'artifact_path' must be a non-empty string",
        );
      }
      assertSafePath(artifactPath);
      await readableRun(core, principal, runId);
      await core.files.adoptFolderAsModel(principal, runId, artifactPath, {
        name: LOG_MODEL_HISTORY_TAG,
        entry: model,
      });
      return {};
    },
  );

  // The UI's upload takes the raw body of any media type, streamed: its own scope, so that no
  // other route of the API accepts bodies it cannot parse.
  app.register(async (instance) => {
    const scope = instance.withTypeProvider<TypeBoxTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    /**
     * POST upload-artifact?run_uuid&path — stores the raw body at the run's path (MLflow's UI
     * upload; `run_id` is accepted for `run_uuid`), at most the server's asset limit.
     */
    scope.post(
      '/upload-artifact',
      {
        config: { upload: true },
        schema: { querystring: UploadArtifactRequest, response: { 200: MlflowEmpty, ...errors, 413: MlflowError } },
      },
      async (request, reply) =>
        closeOnFailure(request, reply, async () => {
          const { principal } = callerOf(request);
          const query = request.query as Record<string, unknown>;
          const runId = requiredStringOf(query, ['run_uuid', 'run_id']);
          const path = requiredString(query, 'path');
          assertSafePath(path);
          await readableRun(core, principal, runId);
          const body = (request.body as Readable | undefined) ?? Readable.from([]);
          await core.files.put(principal, runId, path, body);
          return {};
        }),
    );
  });

  registerLoggedModelRoutes(context);
}
