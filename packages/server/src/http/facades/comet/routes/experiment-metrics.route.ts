import {
  CpuMetricsBody,
  ExperimentDataQuery,
  GetMetricQuery,
  GetMetricResponse,
  GpuMetricsBody,
  LoadMetricsBody,
  LogMetricBody,
  PlainWriteResponse,
  RamMetricsBody,
  SummaryResponse,
} from '@cairn/schemas/comet';
import type { SamplePosition } from '../../../../core/metrics.service.js';
import { principalOf } from '../../../request-context.js';
import type { CometRouteContext } from '../comet.plugin.js';
import { writeOk } from '../comet-reply.js';
import { dataErrors as errors, metricValueOut, seriesSummaryRow } from './experiment-data.mapper.js';

/** Where a point sits; the epoch's fraction is dropped (see `LogMetricBody.epoch`). */
function position(body: {
  step?: number | null;
  epoch?: number | null;
  context?: string | null;
  timestamp?: number | null;
}): SamplePosition {
  return {
    step: body.step ?? null,
    epoch: body.epoch == null ? null : Math.trunc(body.epoch),
    context: body.context ?? null,
    timestamp: body.timestamp ?? null,
  };
}

/** Metrics and system metrics of one experiment: writes (spec §4.2 #12, #25–28), reads (§3.4 #20–21). */
export function registerExperimentMetricsRoutes({ app, core }: CometRouteContext): void {
  const write = { response: { 200: PlainWriteResponse, ...errors } };

  /** POST /write/experiment/metric — one point; NaN, infinities and non-numeric text are refused. */
  app.post('/write/experiment/metric', { schema: { body: LogMetricBody, ...write } }, async (request) => {
    const body = request.body;
    await core.metrics.logMetrics(principalOf(request), body.experimentKey, [
      { name: body.metricName, value: body.metricValue, ...position(body) },
    ]);
    return writeOk('Saved');
  });

  /** GET /experiment/metrics/get-metric?experimentKey=&metricName= — every point, in offset order. */
  app.get(
    '/experiment/metrics/get-metric',
    { schema: { querystring: GetMetricQuery, response: { 200: GetMetricResponse, ...errors } } },
    async (request) => {
      const { experimentKey, metricName } = request.query;
      const points = await core.metrics.readMetric(principalOf(request), experimentKey, metricName);
      return {
        metrics: points.map((p) => ({
          metricName,
          metricValue: metricValueOut(p.value),
          epoch: p.epoch,
          timestamp: p.timestamp,
          step: p.step,
          runContext: p.context,
          offset: p.offset,
        })),
      };
    },
  );

  /** GET /experiment/metrics/summary?experimentKey= — one row per user metric (system metrics excluded). */
  app.get(
    '/experiment/metrics/summary',
    { schema: { querystring: ExperimentDataQuery, response: { 200: SummaryResponse, ...errors } } },
    async (request) => {
      const summaries = await core.metrics.userSummaries(principalOf(request), request.query.experimentKey);
      return { values: summaries.map(seriesSummaryRow) };
    },
  );

  /** POST /write/experiment/gpu-metrics */
  app.post('/write/experiment/gpu-metrics', { schema: { body: GpuMetricsBody, ...write } }, async (request) => {
    const body = request.body;
    await core.metrics.logSystemMetrics(
      principalOf(request),
      body.experimentKey,
      { kind: 'gpu', gpus: body.gpus },
      position(body),
    );
    return writeOk('Saved');
  });

  /** POST /write/experiment/cpu-metrics */
  app.post('/write/experiment/cpu-metrics', { schema: { body: CpuMetricsBody, ...write } }, async (request) => {
    const body = request.body;
    await core.metrics.logSystemMetrics(
      principalOf(request),
      body.experimentKey,
      { kind: 'cpu', percentPerCore: body.cpuPercentUtilization },
      position(body),
    );
    return writeOk('Saved');
  });

  /** POST /write/experiment/ram-metrics */
  app.post('/write/experiment/ram-metrics', { schema: { body: RamMetricsBody, ...write } }, async (request) => {
    const body = request.body;
    await core.metrics.logSystemMetrics(
      principalOf(request),
      body.experimentKey,
      { kind: 'ram', total: body.totalRam, used: body.usedRam },
      position(body),
    );
    return writeOk('Saved');
  });

  /** POST /write/experiment/load-metrics */
  app.post('/write/experiment/load-metrics', { schema: { body: LoadMetricsBody, ...write } }, async (request) => {
    const body = request.body;
    await core.metrics.logSystemMetrics(
      principalOf(request),
      body.experimentKey,
      { kind: 'load', average: body.loadAverage },
      position(body),
    );
    return writeOk('Saved');
  });
}
