import { type Static, type TSchema, Type } from '@sinclair/typebox';

/**
 * Palantir Foundry Models v2 experiments (preview), as served by Cairn. Wire names follow the
 * spec (foundry-models-experiments.md §4); optional fields are omitted when absent.
 */

/** Every error: errorCode (Conjure family), errorName, a fresh errorInstanceId and typed parameters. */
export const FoundryError = Type.Object(
  {
    errorCode: Type.String(),
    errorName: Type.String(),
    errorInstanceId: Type.String(),
    parameters: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'FoundryError' },
);

const Rid = Type.String({ description: 'Foundry resource identifier (ri.<service>.<instance>.<type>.<locator>)' });

/** Doubles JSON cannot carry travel as the Conjure strings "NaN", "Infinity", "-Infinity". */
export const FoundryDouble = Type.Unsafe<number | string>({ type: ['number', 'string'] });

export const ParameterValue = Type.Union([
  Type.Object({ type: Type.Literal('double'), value: FoundryDouble }),
  Type.Object({ type: Type.Literal('integer'), value: Type.Integer() }),
  Type.Object({ type: Type.Literal('string'), value: Type.String() }),
  Type.Object({ type: Type.Literal('boolean'), value: Type.Boolean() }),
  Type.Object({ type: Type.Literal('datetime'), value: Type.String() }),
]);

export const SeriesAggregations = Type.Object({
  name: Type.String(),
  length: Type.Optional(Type.Integer()),
  value: Type.Object({
    type: Type.Literal('double'),
    min: Type.Optional(FoundryDouble),
    max: Type.Optional(FoundryDouble),
    last: Type.Optional(FoundryDouble),
  }),
});

export const SummaryMetric = Type.Object({
  seriesName: Type.String(),
  aggregation: Type.Union([Type.Literal('MIN'), Type.Literal('MAX'), Type.Literal('LAST')]),
  value: FoundryDouble,
});

export const ArtifactMetadata = Type.Object({
  name: Type.String(),
  description: Type.Optional(Type.String()),
  sizeBytes: Type.Integer(),
  details: Type.Object({ type: Type.Literal('table'), rowCount: Type.Integer() }),
});

export const Experiment = Type.Object({
  rid: Rid,
  modelRid: Rid,
  createdTime: Type.String({ format: 'date-time' }),
  createdBy: Type.String({ description: 'PrincipalId (UUID) of the creating user' }),
  source: Type.Object({ type: Type.Literal('sdk') }),
  status: Type.Union([Type.Literal('RUNNING'), Type.Literal('SUCCEEDED'), Type.Literal('FAILED')]),
  statusMessage: Type.Optional(Type.String()),
  branch: Type.String(),
  parameters: Type.Array(Type.Object({ name: Type.String(), value: ParameterValue })),
  series: Type.Array(SeriesAggregations),
  summaryMetrics: Type.Array(SummaryMetric),
  artifacts: Type.Record(Type.String(), ArtifactMetadata),
  tags: Type.Array(Type.String()),
  linkedModelVersion: Type.Optional(Rid),
  jobRid: Type.Optional(Rid),
  /** Not in Foundry's model (which filters and sorts by it nonetheless); harmless to its clients. */
  name: Type.Optional(Type.String()),
});
export type Experiment = Static<typeof Experiment>;

export const PreviewQuery = Type.Object({ preview: Type.Optional(Type.String()) });

export const ExperimentParams = Type.Object({ modelRid: Type.String(), experimentRid: Type.String() });
export const SeriesParams = Type.Object({
  modelRid: Type.String(),
  experimentRid: Type.String(),
  seriesName: Type.String(),
});
export const ArtifactTableParams = Type.Object({
  modelRid: Type.String(),
  experimentRid: Type.String(),
  artifactName: Type.String(),
});
export const ModelParams = Type.Object({ modelRid: Type.String() });

/** A page size as text: decimal digits naming a positive integer; empty means the default. */
const PAGE_SIZE_TEXT = '^(0*[1-9][0-9]*)?$';

/**
 * A page size: a positive integer, as a number or as its digits (Foundry's clients send either);
 * null or absent means the default. A value outside this schema is answered `InvalidPageSize`.
 */
const PageSize = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: PAGE_SIZE_TEXT }), Type.Null()]);

/** Paging of series and artifact tables: non-negative `offset` and positive `pageSize`, as digits. */
export const OffsetPageQuery = Type.Object({
  preview: Type.Optional(Type.String()),
  offset: Type.Optional(Type.String({ pattern: '^[0-9]*$' })),
  pageSize: Type.Optional(Type.String({ pattern: PAGE_SIZE_TEXT })),
});

/**
 * The filter is validated by the route, not here: every malformed filter must answer
 * InvalidExperimentSearchFilter with a reason, which a schema failure could not name.
 */
export const SearchExperimentsRequest = Type.Object({
  where: Type.Optional(Type.Unknown()),
  orderBy: Type.Optional(
    Type.Union([
      Type.Object({
        field: Type.Union([Type.Literal('EXPERIMENT_NAME'), Type.Literal('CREATED_TIME')]),
        direction: Type.Union([Type.Literal('ASC'), Type.Literal('DESC')]),
      }),
      Type.Null(),
    ]),
  ),
  pageSize: Type.Optional(PageSize),
  pageToken: Type.Optional(Type.Unknown()),
});
export type SearchExperimentsRequest = Static<typeof SearchExperimentsRequest>;

export const SearchExperimentsResponse = Type.Object({
  data: Type.Array(Experiment),
  nextPageToken: Type.Optional(Type.String()),
});

export const DoubleSeriesV1 = Type.Object({
  type: Type.Literal('doubleV1'),
  series: Type.Array(Type.Object({ value: FoundryDouble, timestamp: Type.Integer(), step: Type.Integer() })),
});

export const ModelResponse = Type.Object({ rid: Rid });

/** A raw body (Parquet, or E5's JSON rows read by the client as bytes); never serialized by the server. */
export const FoundryBytes = Type.Unsafe<Uint8Array | NodeJS.ReadableStream>({ type: 'string', format: 'binary' });

/** A Parquet file (series and artifact tables): octet-stream, as Foundry serves it. */
export const FoundryParquet = { content: { 'application/octet-stream': { schema: FoundryBytes } } };

/**
 * An artifact table page as JSON: row objects, column name to value (spec E5). The route sends
 * the bytes itself, so this documents the body without serialising it.
 */
export const ArtifactTableRows = Type.Array(Type.Record(Type.String(), Type.Unknown()));

export function withErrors<T extends Record<number, TSchema | typeof FoundryParquet>>(responses: T) {
  return { ...responses, 400: FoundryError, 401: FoundryError, 403: FoundryError, 404: FoundryError };
}
