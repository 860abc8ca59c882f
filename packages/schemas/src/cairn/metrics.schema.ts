import { type Static, Type } from '@sinclair/typebox';
import { EntryName } from '../shared/names.js';
import { Nullable } from '../shared/nullable.js';
import { FractionalTimestamp, NUMERIC_OR_NON_FINITE_TEXT, SafeInteger } from '../shared/numbers.js';

/**
 * Cairn's own API (`/api/cairn/v1`): the bulk metric path and columnar series reads. Columnar,
 * because a series of a million points as objects costs several times the bytes and parse time
 * of the same points as parallel arrays.
 */

/** JSON cannot carry NaN or ±Infinity: they travel as the strings "NaN", "Infinity", "-Infinity". */
/** A number, or text the core reads as one (NaN and the infinities included: JSON has none). */
const MetricValue = Type.Unsafe<number | string>({ type: ['number', 'string'], pattern: NUMERIC_OR_NON_FINITE_TEXT });
const NullableInteger = Type.Unsafe<number | null>({ type: ['integer', 'null'] });

export const ExperimentParams = Type.Object({ experimentKey: Type.String({ minLength: 1 }) });
export const SeriesParams = Type.Object({
  experimentKey: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1 }),
});

export const SeriesBatch = Type.Object({
  name: EntryName(),
  context: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'] })),
  values: Type.Array(MetricValue),
  steps: Type.Optional(Nullable(Type.Array(Nullable(SafeInteger())))),
  timestamps: Type.Optional(Nullable(Type.Array(Nullable(FractionalTimestamp())))),
  epochs: Type.Optional(Nullable(Type.Array(Nullable(SafeInteger())))),
});
export type SeriesBatch = Static<typeof SeriesBatch>;

export const LogSeriesBody = Type.Object({
  series: Type.Array(SeriesBatch),
  /** NaN and infinities are refused unless the client says it means them. */
  allowNonFinite: Type.Optional(Type.Boolean()),
});
/** The binary bulk body's media type: `LogSeriesBody`'s content as little-endian float64 columns. */
export const METRICS_BINARY_MEDIA_TYPE = 'application/vnd.cairn.metrics';

/**
 * The JSON header of a binary bulk body: each series' name, context and point count, and which of
 * its optional columns follow (`values` always does). Nothing else is allowed, so a typo in a
 * column flag is refused rather than silently read as "absent".
 */
export const MetricsBinaryHeader = Type.Object(
  {
    series: Type.Array(
      Type.Object(
        {
          name: EntryName(),
          context: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'] })),
          length: Type.Integer({ minimum: 0 }),
          steps: Type.Optional(Type.Boolean()),
          timestamps: Type.Optional(Type.Boolean()),
          epochs: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    allowNonFinite: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type MetricsBinaryHeader = Static<typeof MetricsBinaryHeader>;

/**
 * The bulk path's body by Content-Type: JSON (`LogSeriesBody`), or the same content in the binary
 * layout of docs/api/cairn.md — a uint32 LE header length, the JSON header (`MetricsBinaryHeader`),
 * zero bytes up to a multiple of 8, then per series its columns as little-endian float64: values,
 * then steps, timestamps and epochs when flagged; NaN marks an absent step, timestamp or epoch.
 * The binary form reaches the route as raw bytes, so its schema documents and does not assert.
 */
export const LogSeriesBodies = {
  content: {
    'application/json': { schema: LogSeriesBody },
    [METRICS_BINARY_MEDIA_TYPE]: {
      schema: Type.Unsafe<Uint8Array>({
        contentMediaType: METRICS_BINARY_MEDIA_TYPE,
        description:
          'uint32 LE header length, JSON header (MetricsBinaryHeader), zero padding to a multiple of 8, then per series: values, [steps], [timestamps], [epochs] as little-endian float64 columns of `length` entries; NaN marks an absent step, timestamp or epoch',
      }),
    },
  },
} as const;

/**
 * `Idempotency-Key`: names a batch so that retries and replays store it once (e.g. the SDK sends
 * `<writer id>:<sequence number>`). Keys are per experiment and kept as long as the experiment.
 */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' })),
});

export const LogSeriesResponse = Type.Object({
  /** Points in the request: stored now, or stored by an earlier request with the same key. */
  points: Type.Integer(),
  /** True when the Idempotency-Key was already stored for the experiment: nothing was stored now. */
  duplicate: Type.Boolean(),
});

export const SeriesPointsQuery = Type.Object({
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1 })),
  stepFrom: Type.Optional(SafeInteger()),
  stepTo: Type.Optional(SafeInteger()),
  /**
   * `binary` answers `application/vnd.cairn.series` columns (as does an `Accept` header naming
   * that type); the layout is described in the API doc.
   */
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('binary')])),
});

export const SeriesPointsResponse = Type.Object({
  name: Type.String(),
  /** Points in the whole series (not only those returned). */
  total: Type.Integer(),
  offsets: Type.Array(Type.Integer()),
  steps: Type.Array(NullableInteger),
  values: Type.Array(MetricValue),
  timestamps: Type.Array(Type.Integer()),
  epochs: Type.Array(NullableInteger),
  contexts: Type.Array(Type.Unsafe<string | null>({ type: ['string', 'null'] })),
});
export type SeriesPoints = Static<typeof SeriesPointsResponse>;

/** The binary answer's bytes (for the OpenAPI document; the layout is described in the API doc). */
export const SeriesPointsBinary = Type.Unsafe<Uint8Array>({ type: 'string', format: 'binary' });

/** GET series points' answer by media type: JSON, or float64 columns when the client asks. */
export const SeriesPointsReply = {
  content: {
    'application/json': { schema: SeriesPointsResponse },
    'application/vnd.cairn.series': { schema: SeriesPointsBinary },
  },
};

export const DownsampleQuery = Type.Object({ buckets: Type.Optional(Type.Integer({ minimum: 1, maximum: 15000 })) });

export const DownsampleResponse = Type.Object({
  name: Type.String(),
  total: Type.Integer(),
  /** True when every point of the series is returned. */
  exact: Type.Boolean(),
  offsets: Type.Array(Type.Integer()),
  steps: Type.Array(NullableInteger),
  values: Type.Array(MetricValue),
  timestamps: Type.Array(Type.Integer()),
});

/**
 * A point of a series summary (min, max or last): its value, step, time (epoch ms) and context,
 * and its offset in the experiment's logging order.
 */
const SummaryPoint = Type.Object({
  value: MetricValue,
  step: NullableInteger,
  timestamp: Type.Integer(),
  context: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
  offset: Type.Integer(),
});

export const SeriesListResponse = Type.Object({
  series: Type.Array(
    Type.Object({
      name: Type.String(),
      count: Type.Integer(),
      min: SummaryPoint,
      max: SummaryPoint,
      last: SummaryPoint,
    }),
  ),
});

/** RFC 9457 problem details, Cairn's own error format. */
export const Problem = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  instance: Type.Optional(Type.String()),
});
