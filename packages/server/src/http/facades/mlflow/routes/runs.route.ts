import {
  CreateRunRequest,
  DeleteRunTagRequest,
  LogBatchRequest,
  LogInputsRequest,
  LogMetricRequest,
  LogParamRequest,
  MlflowEmpty,
  RunIdRequest,
  RunOnlyRequest,
  RunResponse,
  SetRunTagRequest,
  UpdateRunRequest,
  UpdateRunResponse,
} from '@cairn/schemas/mlflow';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { DatasetInput, MlflowRunStatus, RunMetricInput } from '../../../../core/runs.service.js';
import { callerOf, type MlflowRouteContext } from '../mlflow.plugin.js';
import { MlflowApiError, missingParameter } from '../mlflow-errors.js';
import { DEFAULT_EXPERIMENT_ID, experimentIdOf, findProjectByExperimentId, noSuchExperiment } from '../mlflow-ids.js';
import {
  inputOf,
  keyValueList,
  type MlflowInput,
  messageList,
  optionalEnum,
  optionalInt,
  optionalString,
  requiredDouble,
  requiredInt,
  requiredString,
  requiredStringOf,
} from '../mlflow-request.js';
import { mayWrite } from './experiments.route.js';
import { toWireRun, toWireRunInfo } from './run.mapper.js';

const RUN_STATUSES: Readonly<Record<MlflowRunStatus, number>> = {
  RUNNING: 1,
  SCHEDULED: 2,
  FINISHED: 3,
  FAILED: 4,
  KILLED: 5,
};

/** MLflow's request size limit for log-batch (`int(1e6)` bytes). */
const MAX_BATCH_BYTES = 1_000_000;

function runIdOf(input: MlflowInput): string {
  return requiredStringOf(input, ['run_id', 'run_uuid']);
}

/**
 * A metric of a request: `key`, `value`, `timestamp` required, `step` 0 when absent. The common
 * case (a batch of up to 1000 well-typed metrics) is read directly; anything else goes through
 * the readers, which name the field in MLflow's messages (`metrics[3].timestamp`).
 */
function metricOf(entry: MlflowInput, prefix: string): RunMetricInput {
  const { key, value, timestamp, step } = entry;
  if (
    typeof key === 'string' &&
    key !== '' &&
    typeof value === 'number' &&
    Number.isSafeInteger(timestamp) &&
    (step === undefined || Number.isSafeInteger(step))
  ) {
    return { key, value, timestamp: timestamp as number, step: (step as number | undefined) ?? 0 };
  }
  const field = (name: string) => `${prefix}${name}`;
  const renamed = (name: string) => ({ [field(name)]: entry[name] });
  return {
    key: requiredString(renamed('key'), field('key')),
    value: requiredDouble(renamed('value'), field('value')),
    timestamp: requiredInt(renamed('timestamp'), field('timestamp')),
    step: optionalInt(renamed('step'), field('step')) ?? 0,
  };
}

/** Runs (Cairn experiments) and everything logged to them. */
export function registerRunRoutes({ app, core }: MlflowRouteContext): void {
  const empty = (body: TSchema) => ({ schema: { body, response: { 200: MlflowEmpty } } });

  async function runOf(request: FastifyRequest, runId: string) {
    return toWireRun(await core.runs.record(callerOf(request).principal, runId));
  }

  /** POST /api/2.0/mlflow/runs/create: in experiment "0" when none is named. */
  app.post('/runs/create', { schema: { body: CreateRunRequest, response: { 200: RunResponse } } }, async (request) => {
    const input = inputOf(request);
    const experimentId = optionalString(input, 'experiment_id') || DEFAULT_EXPERIMENT_ID;
    const { principal, workspace } = callerOf(request);
    const project = await findProjectByExperimentId(core, principal, workspace, experimentId, {
      create: mayWrite(principal),
    });
    if (!project) throw noSuchExperiment(experimentId);
    if (project.deletedAt !== null) {
      throw new MlflowApiError(
        'INVALID_STATE',
        `The experiment ${experimentIdOf(project)} must be in the 'active' state. Current state is deleted.`,
      );
    }
    const runName = optionalString(input, 'run_name');
    const userId = optionalString(input, 'user_id');
    const startTime = optionalInt(input, 'start_time');
    const runId = await core.runs.create(principal, {
      projectId: project.id,
      tags: keyValueList(input, 'tags'),
      ...(runName ? { runName } : {}),
      ...(userId ? { userId } : {}),
      ...(startTime === undefined ? {} : { startTime }),
    });
    return { run: await runOf(request, runId) };
  });

  /** GET /api/2.0/mlflow/runs/get: deleted runs too. */
  app.get('/runs/get', { schema: { querystring: RunIdRequest, response: { 200: RunResponse } } }, async (request) => ({
    run: await runOf(request, runIdOf(inputOf(request))),
  }));

  /** POST /api/2.0/mlflow/runs/update: status, end time and name; only those given change. */
  app.post(
    '/runs/update',
    { schema: { body: UpdateRunRequest, response: { 200: UpdateRunResponse } } },
    async (request) => {
      const input = inputOf(request);
      const runId = runIdOf(input);
      const status = optionalEnum(input, 'status', RUN_STATUSES);
      const endTime = optionalInt(input, 'end_time');
      const runName = optionalString(input, 'run_name');
      const { principal } = callerOf(request);
      await core.runs.update(principal, runId, {
        ...(status === undefined ? {} : { status }),
        ...(endTime === undefined ? {} : { endTime }),
        ...(runName ? { runName } : {}),
      });
      return { run_info: toWireRunInfo(await core.runs.record(principal, runId)) };
    },
  );

  /** POST /api/2.0/mlflow/runs/delete */
  app.post('/runs/delete', empty(RunOnlyRequest), async (request) => {
    await core.runs.setDeleted(callerOf(request).principal, requiredString(inputOf(request), 'run_id'), true);
    return {};
  });

  /** POST /api/2.0/mlflow/runs/restore */
  app.post('/runs/restore', empty(RunOnlyRequest), async (request) => {
    await core.runs.setDeleted(callerOf(request).principal, requiredString(inputOf(request), 'run_id'), false);
    return {};
  });

  /** POST /api/2.0/mlflow/runs/log-metric: 3.x's dataset and model fields are accepted and not stored. */
  app.post('/runs/log-metric', empty(LogMetricRequest), async (request) => {
    const input = inputOf(request);
    const runId = runIdOf(input);
    const metric = metricOf(input, '');
    await core.runs.logBatch(callerOf(request).principal, runId, { metrics: [metric], params: [], tags: [] });
    return {};
  });

  /** POST /api/2.0/mlflow/runs/log-parameter: write-once. */
  app.post('/runs/log-parameter', empty(LogParamRequest), async (request) => {
    const input = inputOf(request);
    const runId = runIdOf(input);
    const param = { key: requiredString(input, 'key'), value: optionalString(input, 'value') ?? '' };
    await core.runs.logBatch(callerOf(request).principal, runId, { metrics: [], params: [param], tags: [] });
    return {};
  });

  /** POST /api/2.0/mlflow/runs/set-tag: an upsert; `mlflow.runName` renames the run. */
  app.post('/runs/set-tag', empty(SetRunTagRequest), async (request) => {
    const input = inputOf(request);
    const runId = runIdOf(input);
    const tag = { key: requiredString(input, 'key'), value: optionalString(input, 'value') ?? '' };
    await core.runs.logBatch(callerOf(request).principal, runId, { metrics: [], params: [], tags: [tag] });
    return {};
  });

  /** POST /api/2.0/mlflow/runs/delete-tag */
  app.post('/runs/delete-tag', empty(DeleteRunTagRequest), async (request) => {
    const input = inputOf(request);
    await core.runs.deleteTag(
      callerOf(request).principal,
      requiredString(input, 'run_id'),
      requiredString(input, 'key'),
    );
    return {};
  });

  /** POST /api/2.0/mlflow/runs/log-batch: all or nothing. */
  app.post('/runs/log-batch', empty(LogBatchRequest), async (request) => {
    const size = Number(request.headers['content-length'] ?? 0);
    if (size > MAX_BATCH_BYTES) {
      throw new MlflowApiError(
        'INVALID_PARAMETER_VALUE',
        `Batched logging API requests must be at most ${MAX_BATCH_BYTES} bytes, got a request of size ${size}.`,
      );
    }
    const input = inputOf(request);
    const runId = requiredString(input, 'run_id');
    const metrics = messageList(input, 'metrics').map((entry, i) => metricOf(entry, `metrics[${i}].`));
    const params = keyValueList(input, 'params');
    const tags = keyValueList(input, 'tags');
    await core.runs.logBatch(callerOf(request).principal, runId, { metrics, params, tags });
    return {};
  });

  /** POST /api/2.0/mlflow/runs/log-inputs: datasets, once per (name, digest); 3.x model inputs are not kept. */
  app.post('/runs/log-inputs', empty(LogInputsRequest), async (request) => {
    const input = inputOf(request);
    const runId = requiredString(input, 'run_id');
    const datasets: DatasetInput[] = messageList(input, 'datasets').map((entry, i) => {
      const prefix = `datasets[${i}]`;
      const dataset = entry.dataset;
      if (dataset === undefined || dataset === null) throw missingParameter(`${prefix}.dataset`);
      if (typeof dataset !== 'object' || Array.isArray(dataset)) {
        throw new MlflowApiError(
          'INVALID_PARAMETER_VALUE',
          `Invalid value for parameter '${prefix}.dataset' supplied.`,
        );
      }
      const fields = dataset as MlflowInput;
      const field = (name: string) =>
        requiredString({ [`${prefix}.dataset.${name}`]: fields[name] }, `${prefix}.dataset.${name}`);
      return {
        name: field('name'),
        digest: field('digest'),
        sourceType: field('source_type'),
        source: field('source'),
        schema: optionalString(fields, 'schema') ?? null,
        profile: optionalString(fields, 'profile') ?? null,
        tags: keyValueList(entry, 'tags'),
      };
    });
    await core.runs.logInputs(callerOf(request).principal, runId, datasets);
    return {};
  });
}
