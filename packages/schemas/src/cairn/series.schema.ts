import { type Static, Type } from '@sinclair/typebox';
import { EntryName } from '../shared/names.js';

/**
 * Series reads for charts (`POST /api/cairn/v1/series/query`): many metrics of many experiments
 * over one x range, bucketed on the server, columnar.
 */

const MetricValue = Type.Unsafe<number | string>({ type: ['number', 'string'] });
const Bound = Type.Unsafe<number | null>({ type: ['number', 'null'] });

export const SeriesAxis = Type.Union([
  Type.Literal('step'),
  Type.Literal('epoch'),
  Type.Literal('wall'),
  Type.Literal('relative'),
]);
export type SeriesAxis = Static<typeof SeriesAxis>;

export const SeriesQueryBody = Type.Object(
  {
    /** Experiment keys; every one must exist and be readable (else 404). */
    experiments: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 500 }),
    metrics: Type.Array(EntryName(), { minItems: 1, maxItems: 100 }),
    /** step (default), epoch, wall (the point's timestamp, epoch ms) or relative (ms since the experiment's start). */
    x: Type.Optional(SeriesAxis),
    /** Inclusive bounds on x, in x's units; absent or null is unbounded. */
    from: Type.Optional(Bound),
    to: Type.Optional(Bound),
    buckets: Type.Optional(Type.Integer({ minimum: 1, maximum: 15000 })),
  },
  { additionalProperties: false },
);
export type SeriesQueryBody = Static<typeof SeriesQueryBody>;

/** `format=binary` answers with application/vnd.cairn.series (columns as float64, see docs/api/cairn.md). */
export const SeriesQueryQuery = Type.Object({
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('binary')])),
});

const WindowBase = {
  experiment: Type.String(),
  metric: Type.String(),
  /** Points in the whole series. */
  total: Type.Integer(),
  /** Points with the chosen x inside [from, to]. */
  inRange: Type.Integer(),
};

/** Every point in range, ordered by x, then logging order. */
export const ExactSeriesWindow = Type.Object({
  ...WindowBase,
  exact: Type.Literal(true),
  x: Type.Array(Type.Number()),
  values: Type.Array(MetricValue),
});

/** One entry per non-empty bucket, in x order. */
export const BucketedSeriesWindow = Type.Object({
  ...WindowBase,
  exact: Type.Literal(false),
  x0: Type.Array(Type.Number()),
  x1: Type.Array(Type.Number()),
  first: Type.Array(MetricValue),
  last: Type.Array(MetricValue),
  min: Type.Array(MetricValue),
  max: Type.Array(MetricValue),
  mean: Type.Array(MetricValue),
  count: Type.Array(Type.Integer()),
});

export const SeriesQueryResponse = Type.Object({
  x: SeriesAxis,
  series: Type.Array(Type.Union([ExactSeriesWindow, BucketedSeriesWindow])),
});
export type SeriesQueryResponse = Static<typeof SeriesQueryResponse>;

/** The binary answer's bytes (for the OpenAPI document; the layout is described in the API doc). */
export const SeriesQueryBinary = Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary' });

/** The series query's answer by media type: JSON, or float64 columns for `format=binary`. */
export const SeriesQueryReply = {
  content: {
    'application/json': { schema: SeriesQueryResponse },
    'application/vnd.cairn.series': { schema: SeriesQueryBinary },
  },
};
