/**
 * Wire types of the Cairn API. They come from the TypeBox schemas in `@cairn/schemas/cairn` (the
 * single source of truth the server validates with) as types only: nothing of the schemas
 * package is loaded at run time.
 *
 * Endpoints whose schemas are not in `@cairn/schemas` yet (the experiment table, the key
 * catalogue, chart series reads, live events) are typed here from docs/api/cairn.md.
 */
import type {
  AddTagsBody,
  Asset,
  DocumentInfo,
  DownsampleResponse,
  Experiment,
  LogSeriesBody,
  LogSeriesResponse,
  Problem as ProblemSchema,
  SeriesListResponse,
  TableColumn,
  TableInfo as TableInfoSchema,
  TableRowsResponse,
  WebhookDeliveriesResponse,
  WebhookDeliveryRow,
} from '@cairn/schemas/cairn';
import type { Static } from '@sinclair/typebox';

export type {
  Asset,
  AssetList,
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
  OutputLine,
  OutputPage,
  Project,
  ProjectList,
  PutTableJsonBody,
  SeriesBatch,
  SeriesPoints,
  TagList,
  UpdateExperimentBody,
  UpdateProjectBody,
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
export interface ExperimentRow {
  key: string;
  name: string | null;
  values: Record<string, unknown>;
}

/** `GET /workspaces/{w}/projects/{p}/experiments`: one page of the experiment table. */
export interface ExperimentTablePage {
  items: ExperimentRow[];
  nextCursor: string | null;
  total?: number;
}

export type KeySource = 'metric' | 'param' | 'other' | 'tag' | 'system';

/** One entry of a project's key catalogue (`GET …/keys`). */
export interface CatalogueKey {
  source: KeySource;
  name: string;
  /** Experiments (archived ones too) having the key. */
  experiments: number;
  /** For params and others: the type of their values. */
  type?: 'number' | 'string' | 'boolean' | 'mixed';
}

export interface CatalogueKeyPage {
  items: CatalogueKey[];
  nextCursor: string | null;
  total?: number;
}

export type SeriesX = 'step' | 'epoch' | 'wall' | 'relative';

/** `POST /series/query` body. */
export interface SeriesQuery {
  experiments: string[];
  metrics: string[];
  x?: SeriesX;
  from?: number;
  to?: number;
  buckets?: number;
}

/** A (experiment, metric) pair with every point in range. */
export interface ExactChartSeries {
  experiment: string;
  metric: string;
  total: number;
  inRange: number;
  exact: true;
  x: number[];
  values: WireMetricValue[];
}

/** A (experiment, metric) pair bucketed: one entry per non-empty bucket. */
export interface BucketedChartSeries {
  experiment: string;
  metric: string;
  total: number;
  inRange: number;
  exact: false;
  x0: number[];
  x1: number[];
  first: WireMetricValue[];
  last: WireMetricValue[];
  min: WireMetricValue[];
  max: WireMetricValue[];
  mean: WireMetricValue[];
  count: number[];
}

export interface SeriesQueryResult {
  x: SeriesX;
  series: (ExactChartSeries | BucketedChartSeries)[];
}

/** Points of one series in a `points` event; large batches carry only where they are (`truncated`). */
export type PointsEventSeries =
  | {
      name: string;
      context: string | null;
      offsets: number[];
      steps: (number | null)[];
      values: WireMetricValue[];
      timestamps: number[];
      epochs: (number | null)[];
      truncated?: false;
    }
  | { name: string; context?: string | null; fromOffset: number; count: number; truncated: true };

/** The events of `GET …/events` (docs/api/cairn.md "Live events"), by name. */
export interface CairnEventData {
  experiment: { experiment: Experiment };
  points: { experiment: string; series: PointsEventSeries[] };
  values: { experiment: string; kind: 'param' | 'other'; names: string[] };
  heartbeat: { experiment: string; lastHeartbeat: number };
  asset: { experiment: string; asset: Asset };
  reset: Record<string, never>;
}

export type CairnEvent = {
  [E in keyof CairnEventData]: { id: string | undefined; event: E; data: CairnEventData[E] };
}[keyof CairnEventData];
