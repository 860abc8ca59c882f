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
  SeriesPointsReply,
} from '@cairn/schemas/cairn';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Static } from '@sinclair/typebox';
import type { Core } from '../../../../core/core.js';
import type { MetricColumns, SummaryPoint } from '../../../../core/entities.js';
import { InvalidArgumentError } from '../../../../core/errors.js';
import { principalOf } from '../../../request-context.js';
import type { CairnApp } from '../cairn.plugin.js';
import { decodeMetricsBinary, METRICS_BINARY_MEDIA_TYPE } from './metrics-binary.js';
import { acceptsSeriesBinary, encodeMetricColumnsBinary, SERIES_BINARY_MEDIA_TYPE } from './series-binary.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 413: Problem };

/** Non-finite values travel as strings: JSON has no NaN or Infinity. */
function wireValue(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

/** Copied by a loop: Array.from goes through the iterator protocol and costs several times more. */
function plainColumn(column: Float64Array): number[] {
  const out: number[] = new Array(column.length);
  for (let i = 0; i < column.length; i++) out[i] = column[i] as number;
  return out;
}

/** Steps and epochs: NaN marks an absent one. */
function nullableColumn(column: Float64Array): (number | null)[] {
  const out: (number | null)[] = new Array(column.length);
  for (let i = 0; i < column.length; i++) {
    const v = column[i] as number;
    out[i] = Number.isNaN(v) ? null : v;
  }
  return out;
}

function wireColumn(column: Float64Array): (number | string)[] {
  const out: (number | string)[] = new Array(column.length);
  for (let i = 0; i < column.length; i++) out[i] = wireValue(column[i] as number);
  return out;
}

function contextColumn(columns: MetricColumns): (string | null)[] {
  const out: (string | null)[] = new Array(columns.contextIds.length);
  for (let i = 0; i < out.length; i++) out[i] = columns.contexts[columns.contextIds[i] as number] ?? null;
  return out;
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
    // Its body schemas are per media type, so a body of another type would skip validation:
    // Fastify's default text parser goes, and such bodies are answered 415 like any unknown type.
    scope.removeContentTypeParser('text/plain');
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
        const raw = request.body as Buffer | Static<typeof LogSeriesBody> | undefined;
        // Fastify validates a body by its media type, so a request with none skips validation.
        if (raw === undefined) {
          throw new InvalidArgumentError(`invalid body: send JSON or ${METRICS_BINARY_MEDIA_TYPE} columns`);
        }
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

  /**
   * GET /api/cairn/v1/experiments/:experimentKey/metrics/:name — exact points, paged or by step
   * range; as JSON, or as float64 columns (`format=binary` or `Accept: application/vnd.cairn.series`).
   */
  app.get(
    '/experiments/:experimentKey/metrics/:name',
    {
      schema: {
        params: SeriesParams,
        querystring: SeriesPointsQuery,
        response: { 200: SeriesPointsReply, ...errors },
      },
    },
    async (request, reply) => {
      const { experimentKey, name } = request.params;
      const { format, ...options } = request.query;
      const columns = await core.metrics.readMetricColumns(principalOf(request), experimentKey, name, options);
      if (format === 'binary' || (format === undefined && acceptsSeriesBinary(request.headers.accept))) {
        return reply.type(SERIES_BINARY_MEDIA_TYPE).send(encodeMetricColumnsBinary(name, columns));
      }
      // Whole series run to 10^5–10^6 points: native JSON.stringify of plain arrays beats the
      // schema serializer, and the columns are copied straight into arrays (no object per point).
      const body: SeriesPoints = {
        name,
        total: columns.total,
        offsets: plainColumn(columns.offsets),
        steps: nullableColumn(columns.steps),
        values: wireColumn(columns.values),
        timestamps: plainColumn(columns.timestamps),
        epochs: nullableColumn(columns.epochs),
        contexts: contextColumn(columns),
      };
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
