/** Everything both entries export (browser-safe: nothing here imports node:*). */
export {
  type AttachOptions,
  CairnClient,
  type ClientOptions,
  DEFAULT_URL,
  type StartExperimentParams,
} from './client.js';
export {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  BufferOverflowError,
  CairnError,
  ConflictError,
  DeadLetterError,
  FlushTimeoutError,
  InternalServerError,
  isAPIError,
  isCairnError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  type Problem,
  RateLimitError,
  UnprocessableEntityError,
  UnsupportedMediaTypeError,
} from './core/errors.js';
export type { Logger, LogLevel, RequestOptions } from './core/http.js';
export { CursorPage, type PageBody, PagePromise } from './core/pagination.js';
export type { EventStreamOptions } from './core/sse.js';
export type { Platform, UploadSource } from './platform/platform.js';
export type {
  ArtifactListParams,
  ArtifactRef,
  ArtifactsResource,
  ArtifactVersionRef,
} from './resources/artifacts.js';
export type { AuditResource } from './resources/audit.js';
export type {
  EventsResource,
  ExperimentExportParams,
  ExperimentsResource,
  ExperimentTableParams,
  KeyCatalogueParams,
} from './resources/experiments.js';
export type {
  AssetsResource,
  DocumentsResource,
  DownloadOptions,
  GitPatchResource,
  ModelsResource,
  OutputParams,
  OutputResource,
  RemoteAssetOptions,
  TagsResource,
  ValuesResource,
} from './resources/logged.js';
export {
  type BucketedColumns,
  type ChartColumns,
  decodeChartColumns,
  type ExactColumns,
  type MetricsResource,
  type PointsParams,
  type Series,
  type SeriesParams,
  type SeriesResource,
} from './resources/metrics.js';
export type { SeriesColumns } from './resources/metrics-binary.js';
export type { ProjectsResource, WorkspacesResource } from './resources/projects.js';
export type {
  RegistryListParams,
  RegistryModelRef,
  RegistryResource,
  RegistryVersionRef,
} from './resources/registry.js';
export type { ApiKeysResource, SessionsResource } from './resources/sessions.js';

export type { TablesResource, TableUpload, WebhooksResource } from './resources/tables.js';
export type * from './types.js';
export type {
  AssetOptions,
  AssetSource,
  EndOptions,
  FlushOptions,
  LogOptions,
  OverflowPolicy,
  Run,
  RunEvents,
  RunStats,
  RunSummary,
  ValueOptions,
  WriterOptions,
} from './writer/run.js';
