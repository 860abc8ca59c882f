/**
 * Wire types of the Cairn API. They come from the TypeBox schemas in `@cairn/schemas/cairn` (the
 * single source of truth the server validates with) as types only: nothing of the schemas
 * package is loaded at run time.
 */
import type {
  AddTagsBody,
  AssetEventData,
  BucketedSeriesWindow,
  CatalogueKey as CatalogueKeySchema,
  DocumentInfo,
  DownsampleResponse,
  ExactSeriesWindow,
  ExperimentEventData,
  ExperimentTableBody,
  ExperimentTableResponse,
  ExperimentTableRow,
  HeartbeatEventData,
  KeyCatalogueResponse,
  LogSeriesBody,
  LogSeriesResponse,
  PointsEventData,
  Problem as ProblemSchema,
  ResetEventData,
  SeriesAxis,
  SeriesListResponse,
  SeriesQueryBody,
  SeriesQueryResponse,
  TableColumn,
  TableInfo as TableInfoSchema,
  TableRowsResponse,
  ValuesEventData,
  WebhookDeliveriesResponse,
  WebhookDeliveryRow,
} from '@cairn/schemas/cairn';
import type { Static } from '@sinclair/typebox';

export type {
  ApiKey,
  ApiKeyList,
  Artifact,
  ArtifactList,
  ArtifactSummary,
  ArtifactVersion,
  ArtifactVersionSummary,
  Asset,
  AssetList,
  AuditAction,
  AuditEvent,
  AuditEventList,
  AuditEventListQuery,
  CreateApiKeyBody,
  CreatedApiKey,
  CreateExperimentBody,
  CreateProjectBody,
  Document,
  DocumentKind,
  EndExperimentBody,
  Experiment,
  ExperimentStatus,
  LoggedValue,
  LoggedValueList,
  LogOutputBody,
  LogValuesBody,
  Me,
  Model,
  ModelList,
  OpenSessionBody,
  OutputLine,
  OutputPage,
  Project,
  ProjectList,
  PutTableJsonBody,
  RegistryModel,
  RegistryModelList,
  RegistryModelSummary,
  RegistryVersion,
  RegistryVersionSummary,
  SeriesBatch,
  SeriesPoints,
  Session,
  TagList,
  UpdateExperimentBody,
  UpdateProjectBody,
  UpdateRegistryVersionBody,
  Workspace,
} from '@cairn/schemas/cairn';

export type LogSeriesRequest = Static<typeof LogSeriesBody>;
export type LogSeriesResult = Static<typeof LogSeriesResponse>;
export type SeriesList = Static<typeof SeriesListResponse>;
export type SeriesSummary = SeriesList['series'][number];
export type Downsampled = Static<typeof DownsampleResponse>;
export type ProblemBody = Static<typeof ProblemSchema>;
export type AddTagsRequest = Static<typeof AddTagsBody>;
export type DocumentSummary = Static<typeof DocumentInfo>;
export type TableColumnSpec = Static<typeof TableColumn>;
export type TableInfo = Static<typeof TableInfoSchema>;
export type TableList = { tables: TableInfo[] };
export type TableRows = Static<typeof TableRowsResponse>;
export type WebhookDelivery = Static<typeof WebhookDeliveryRow>;
export type WebhookDeliveries = Static<typeof WebhookDeliveriesResponse>;

/** A metric value as the wire carries it: JSON has no NaN/±Infinity, they travel as strings. */
export type WireMetricValue = number | string;

/** One row of the experiment table: the requested columns' values by column id. */
export type ExperimentRow = Static<typeof ExperimentTableRow>;
/** `GET /workspaces/{w}/projects/{p}/experiments`: one page of the experiment table. */
export type ExperimentTablePage = Static<typeof ExperimentTableResponse>;
/** The options of a table query (filter, sort, columns, archived, limit, count). */
export type ExperimentTableOptions = Omit<Static<typeof ExperimentTableBody>, 'cursor'>;

/** One entry of a project's key catalogue (`GET …/keys`). */
export type CatalogueKey = Static<typeof CatalogueKeySchema>;
export type KeySource = CatalogueKey['source'];
export type CatalogueKeyPage = Static<typeof KeyCatalogueResponse>;

export type SeriesX = Static<typeof SeriesAxis>;
/** `POST /series/query` body. */
export type SeriesQuery = Static<typeof SeriesQueryBody>;
/** A (experiment, metric) pair with every point in range. */
export type ExactChartSeries = Static<typeof ExactSeriesWindow>;
/** A (experiment, metric) pair bucketed: one entry per non-empty bucket. */
export type BucketedChartSeries = Static<typeof BucketedSeriesWindow>;
export type SeriesQueryResult = Static<typeof SeriesQueryResponse>;

/** The events of `GET …/events` (docs/api/cairn.md "Live events"), by name. */
export interface CairnEventData {
  experiment: Static<typeof ExperimentEventData>;
  points: Static<typeof PointsEventData>;
  values: Static<typeof ValuesEventData>;
  heartbeat: Static<typeof HeartbeatEventData>;
  asset: Static<typeof AssetEventData>;
  reset: Static<typeof ResetEventData>;
}

export type CairnEvent = {
  [E in keyof CairnEventData]: { id: string | undefined; event: E; data: CairnEventData[E] };
}[keyof CairnEventData];
