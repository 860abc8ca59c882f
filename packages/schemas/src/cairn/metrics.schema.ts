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
