import {
  DownsampleQuery,
  DownsampleResponse,
  ExperimentParams,
  IdempotencyHeaders,
  LogSeriesBodies,
  type LogSeriesBody,
  LogSeriesResponse,
  Problem,
  SeriesListResponse,
  SeriesParams,
  type SeriesPoints,
  SeriesPointsQuery,
  SeriesPointsResponse,
} from '@cairn/schemas/cairn';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { Core } from '../../../../core/core.js';
import type { SummaryPoint } from '../../../../core/entities.js';
import { principalOf } from '../../../request-context.js';
import type { CairnApp } from '../cairn.plugin.js';
import { decodeMetricsBinary, METRICS_BINARY_MEDIA_TYPE } from './metrics-binary.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 413: Problem };

/** Non-finite values travel as strings: JSON has no NaN or Infinity. */
function wireValue(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

function wireSummaryPoint(point: SummaryPoint) {
  return { ...point, value: wireValue(point.value) };
}

export function registerMetricRoutes(app: CairnApp, core: Core): void {
  // Scoped to the bulk route: elsewhere in the Cairn API the binary media type stays unsupported (415).
  app.register(async (scope) => {
    // Raw bytes under the app's body limit, as JSON bodies are; gzip is inflated before (preParsing).
    scope.addContentTypeParser(METRICS_BINARY_MEDIA_TYPE, { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );
    const bulk = scope.withTypeProvider<TypeBoxTypeProvider>();
    /**
     * POST /api/cairn/v1/experiments/:experimentKey/metrics — the bulk path: many series, columnar,
     * as JSON or as `application/vnd.cairn.metrics` (float64 columns read in place: no body text,
     * no number parsed from it; ~17% of the server's ingest CPU on JSON bodies of 25k points). An
     * `Idempotency-Key` header makes the batch exactly-once: a repeat of a key already stored for
     * the experiment answers 200 with `duplicate: true` and stores nothing.
     */
    bulk.post(
      '/experiments/:experimentKey/metrics',
      {
        schema: {
          params: ExperimentParams,
          headers: IdempotencyHeaders,
          body: LogSeriesBodies,
          response: { 200: LogSeriesResponse, ...errors, 415: Problem },
        },
      },
      async (request) => {
        const idempotencyKey = request.headers['idempotency-key'];
        // Per-media-type bodies are not typed by the provider: the parser above gives a Buffer, and
        // JSON was validated against LogSeriesBody.
        const raw = request.body as Buffer | Static<typeof LogSeriesBody>;
        const body = Buffer.isBuffer(raw)
          ? decodeMetricsBinary(raw)
          : { series: raw.series, allowNonFinite: raw.allowNonFinite ?? false };
        const outcome = await core.metrics.logSeries(principalOf(request), request.params.experimentKey, body.series, {
          allowNonFinite: body.allowNonFinite,
          ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
        });
        return { points: outcome.points, duplicate: !outcome.applied };
      },
    );
  });

  /** GET /api/cairn/v1/experiments/:experimentKey/metrics — every series with its exact summary. */
  app.get(
    '/experiments/:experimentKey/metrics',
    { schema: { params: ExperimentParams, response: { 200: SeriesListResponse, ...errors } } },
    async (request) => {
      const summaries = await core.metrics.summaries(principalOf(request), request.params.experimentKey);
      return {
        series: summaries.map((s) => ({
          name: s.name,
          count: s.count,
          min: wireSummaryPoint(s.min),
          max: wireSummaryPoint(s.max),
          last: wireSummaryPoint(s.last),
        })),
      };
    },
  );

  /** GET /api/cairn/v1/experiments/:experimentKey/metrics/:name — exact points, paged or by step range. */
  app.get(
    '/experiments/:experimentKey/metrics/:name',
    {
      schema: {
        params: SeriesParams,
        querystring: SeriesPointsQuery,
        response: { 200: SeriesPointsResponse, ...errors },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { experimentKey, name } = request.params;
      const points = await core.metrics.readMetric(principal, experimentKey, name, request.query);
      const summary = await core.metrics.summary(principal, experimentKey, name);
      const body: SeriesPoints = {
        name,
        total: summary?.count ?? 0,
        offsets: points.map((p) => p.offset),
        steps: points.map((p) => p.step),
        values: points.map((p) => wireValue(p.value)),
        timestamps: points.map((p) => p.timestamp),
        epochs: points.map((p) => p.epoch),
        contexts: points.map((p) => p.context),
      };
      // Whole series run to 10^5–10^6 points: native JSON.stringify of plain arrays beats the
      // schema serializer here (10k points: ~16 → ~13 ms in-process); the body is typed by the schema.
      return reply.type('application/json; charset=utf-8').serializer(JSON.stringify).send(body);
    },
  );

  /** GET /api/cairn/v1/experiments/:experimentKey/metrics/:name/downsample?buckets= */
  app.get(
    '/experiments/:experimentKey/metrics/:name/downsample',
    {
      schema: { params: SeriesParams, querystring: DownsampleQuery, response: { 200: DownsampleResponse, ...errors } },
    },
    async (request) => {
      const { experimentKey, name } = request.params;
      const series = await core.metrics.downsample(
        principalOf(request),
        experimentKey,
        name,
        request.query.buckets ?? 1000,
      );
      return {
        name,
        total: series.total,
        exact: series.exact,
        offsets: series.points.map((p) => p.offset),
        steps: series.points.map((p) => p.step),
        values: series.points.map((p) => wireValue(p.value)),
        timestamps: series.points.map((p) => p.timestamp),
      };
    },
  );
}
