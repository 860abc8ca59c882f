import {
  BulkMetricHistoryResponse,
  MetricHistoryBulkIntervalRequest,
  MetricHistoryBulkRequest,
  MetricHistoryRequest,
  MetricHistoryResponse,
} from '@cairn/schemas/mlflow';
import type { MetricPoint } from '../../../../core/entities.js';
import {
  MAX_HISTORY_RESULTS,
  MAX_SAMPLED_RUNS,
  MAX_SAMPLED_STEPS,
  type RunMetricPoint,
} from '../../../../core/runs.service.js';
import { callerOf, type MlflowRouteContext } from '../mlflow.plugin.js';
import { MlflowApiError, missingParameter } from '../mlflow-errors.js';
import {
  inputOf,
  optionalInt,
  optionalList,
  optionalString,
  requiredString,
  requiredStringOf,
  wireDouble,
} from '../mlflow-request.js';
import { decodePageToken, encodePageToken } from './page-token.js';

function wirePoint(key: string, point: MetricPoint) {
  return { key, value: wireDouble(point.value), timestamp: point.timestamp, step: point.step ?? 0 };
}

function wireRunPoint(key: string, point: RunMetricPoint) {
  return { ...wirePoint(key, point), run_id: point.runId };
}

/** The run ids of a bulk read: 1 to 100 strings. */
function runIdsOf(values: unknown[], name: string): string[] {
  if (values.length === 0) throw missingParameter(name);
  if (values.length > MAX_SAMPLED_RUNS) {
    throw new MlflowApiError(
      'INVALID_PARAMETER_VALUE',
      `GetMetricHistoryBulk request must specify at most ${MAX_SAMPLED_RUNS} run_ids. Received ${values.length} run_ids.`,
    );
  }
  return values.map((value) => {
    if (typeof value !== 'string' || value === '') throw missingParameter(name);
    return value;
  });
}

/** Metric histories: one run's, paged; several runs' sampled for charts; the UI's bulk read. */
export function registerMetricRoutes({ app, core }: MlflowRouteContext, options: { ajax: boolean }): void {
  /** GET /api/2.0/mlflow/metrics/get-history: every point in (timestamp, step, value) order, paged by max_results. */
  app.get(
    '/metrics/get-history',
    { schema: { querystring: MetricHistoryRequest, response: { 200: MetricHistoryResponse } } },
    async (request) => {
      const input = inputOf(request);
      const runId = requiredStringOf(input, ['run_id', 'run_uuid']);
      const key = requiredString(input, 'metric_key');
      const limit = optionalInt(input, 'max_results');
      if (limit !== undefined && limit < 1) {
        throw new MlflowApiError(
          'INVALID_PARAMETER_VALUE',
          `Invalid value ${limit} for parameter 'max_results' supplied. It must be a positive integer`,
        );
      }
      const offset = decodePageToken(optionalString(input, 'page_token'));
      const page = await core.runs.history(callerOf(request).principal, runId, key, {
        offset,
        ...(limit === undefined ? {} : { limit }),
      });
      return {
        ...(page.points.length === 0 ? {} : { metrics: page.points.map((p) => wirePoint(key, p)) }),
        ...(page.next === undefined ? {} : { next_page_token: encodePageToken(page.next) }),
      };
    },
  );

  /** GET /api/2.0/mlflow/metrics/get-history-bulk-interval: MLflow's step sampler (spec §7). */
  app.get(
    '/metrics/get-history-bulk-interval',
    { schema: { querystring: MetricHistoryBulkIntervalRequest, response: { 200: BulkMetricHistoryResponse } } },
    async (request) => {
      const input = inputOf(request);
      const runIds = runIdsOf(optionalList(input, 'run_ids'), 'run_ids');
      const key = requiredString(input, 'metric_key');
      const startStep = optionalInt(input, 'start_step');
      const endStep = optionalInt(input, 'end_step');
      const maxResults = optionalInt(input, 'max_results') ?? MAX_SAMPLED_STEPS;
      if ((startStep === undefined) !== (endStep === undefined)) {
        throw new MlflowApiError(
          'INVALID_PARAMETER_VALUE',
          'If either start step or end step are specified, both must be specified.',
        );
      }
      if (startStep !== undefined && endStep !== undefined && startStep > endStep) {
        throw new MlflowApiError('INVALID_PARAMETER_VALUE', 'end_step must be greater than start_step. ');
      }
      if (maxResults < 1 || maxResults > MAX_SAMPLED_STEPS) {
        throw new MlflowApiError('INVALID_PARAMETER_VALUE', `max_results must be between 1 and ${MAX_SAMPLED_STEPS}.`);
      }
      const points = await core.runs.sampledHistory(callerOf(request).principal, runIds, key, {
        maxResults,
        ...(startStep === undefined ? {} : { startStep }),
        ...(endStep === undefined ? {} : { endStep }),
      });
      return { metrics: points.map((p) => wireRunPoint(key, p)) };
    },
  );

  if (!options.ajax) return;

  /** GET /ajax-api/2.0/mlflow/metrics/get-history-bulk: the web UI's, not part of the proto API. */
  app.get(
    '/metrics/get-history-bulk',
    { schema: { querystring: MetricHistoryBulkRequest, response: { 200: BulkMetricHistoryResponse } } },
    async (request) => {
      const input = inputOf(request);
      const runIds = runIdsOf(optionalList(input, 'run_id'), 'run_id');
      const key = requiredString(input, 'metric_key');
      const maxResults = Math.min(optionalInt(input, 'max_results') ?? MAX_HISTORY_RESULTS, MAX_HISTORY_RESULTS);
      if (maxResults < 1) {
        throw new MlflowApiError(
          'INVALID_PARAMETER_VALUE',
          `Invalid value ${maxResults} for parameter 'max_results' supplied.`,
        );
      }
      const points = await core.runs.historyBulk(callerOf(request).principal, runIds, key, maxResults);
      return { metrics: points.map((p) => wireRunPoint(key, p)) };
    },
  );
}
