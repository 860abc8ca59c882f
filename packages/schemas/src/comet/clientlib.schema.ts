import { type Static, Type } from '@sinclair/typebox';
import { EntryName, ExperimentKeyPattern, PROJECT_NAME_PATTERN, ProjectName } from '../shared/names.js';
import { SafeInteger } from '../shared/numbers.js';
import { UploadName } from './assets.schema.js';
import { Nullable, OptionalNullable, QueryBoolean, WriteResponse } from './common.schema.js';

/**
 * Wire shapes of comet_ml's `/clientlib/` protocol (shared/spec/comet-clientlib.md): the run
 * handshake, status reports, the gzip metric and parameter batches, uploads and the small calls
 * around them. Bodies carry the API key as `apiKey` (`api_key` in notifications) unless it comes
 * in the Authorization header; extra fields are allowed, as newer clients add some.
 */

const ApiKeyField = { apiKey: OptionalNullable(Type.String()) };
const ExperimentKey = Type.String({ minLength: 1 });

/**
 * POST /clientlib/logger/add/run — `teamName` is the workspace (a legacy name). comet_ml always
 * sends the key it generated; without one the answer is 90998, as before the schema said so
 * (comet-errors.ts). A null or empty project name is the default project.
 */
export const NewRunBody = Type.Object({
  ...ApiKeyField,
  experimentKey: Type.String({ pattern: ExperimentKeyPattern }),
  projectName: OptionalNullable(Type.String({ maxLength: 99, pattern: `^$|${PROJECT_NAME_PATTERN}` })),
  teamName: OptionalNullable(Type.String()),
  offline: OptionalNullable(Type.Boolean()),
  local_timestamp: OptionalNullable(Type.Number()),
  libVersion: OptionalNullable(Type.String()),
  /** Resume the run when the key exists instead of refusing it (90999). */
  getOrCreate: OptionalNullable(Type.Boolean()),
});
export type NewRunBody = Static<typeof NewRunBody>;

/** POST /clientlib/logger/get/run */
export const ExistingRunBody = Type.Object({
  ...ApiKeyField,
  previousExperiment: ExperimentKey,
  local_timestamp: OptionalNullable(Type.Number()),
  libVersion: OptionalNullable(Type.String()),
});

/** POST /clientlib/logger/copy-steps-from-experiment */
export const CopyStepsBody = Type.Object({
  ...ApiKeyField,
  copiedExperimentKey: ExperimentKey,
  newExperimentKey: ExperimentKey,
  stepToCopyTo: SafeInteger(),
  localTimestamp: OptionalNullable(Type.Number()),
  libVersion: OptionalNullable(Type.String()),
});

export const FeatureToggle = Type.Object({ name: Type.String(), enabled: Type.Boolean() });

/**
 * The handshake answer (spec §3.1). `runId` and the `ws_url` key are required by comet_ml 3.32.5;
 * `ws_url` is null because the `sdk_use_http_messages` toggle keeps the client off WebSockets.
 */
export const RunHandshakeResponse = Type.Object({
  runId: Type.String(),
  ws_url: Type.Null(),
  project_id: Type.String(),
  lastOffset: Type.Integer(),
  focusUrl: Type.String(),
  featureToggles: Type.Array(FeatureToggle),
  upload_file_size_limit_in_mb: Type.Integer(),
  asset_upload_file_size_limit_in_mb: Type.Integer(),
  cometWebAssetUrl: Nullable(Type.String()),
  cometWebImageUrl: Nullable(Type.String()),
  cometRestApiAssetUrl: Type.String(),
  cometRestApiImageUrl: Type.String(),
  name: Nullable(Type.String()),
  githubEnabled: Type.Boolean(),
  s3DirectAccessEnabled: Type.Boolean(),
});
export type RunHandshakeResponse = Static<typeof RunHandshakeResponse>;

/** POST /clientlib/status-report/update — at start, every heartbeat, and at the end. */
export const StatusReportBody = Type.Object({
  ...ApiKeyField,
  experimentKey: ExperimentKey,
  is_alive: Type.Boolean(),
  runId: OptionalNullable(Type.String()),
  projectId: OptionalNullable(Type.String()),
  offline: OptionalNullable(Type.Boolean()),
  local_timestamp: OptionalNullable(Type.Number()),
});

/** The beat and monitor intervals; comet_ml raises without the first two. */
export const StatusReportResponse = Type.Object({
  is_alive_beat_duration_millis: Type.Integer(),
  gpu_monitor_interval_millis: Type.Integer(),
  cpu_monitor_interval_millis: Type.Integer(),
  parameter_update_interval_millis: Type.Integer(),
  pending_rpcs: Type.Boolean(),
});

/** POST /clientlib/status-report/offline-metadata — the times an offline run really had. */
export const OfflineMetadataBody = Type.Object({
  ...ApiKeyField,
  experimentKey: ExperimentKey,
  runId: OptionalNullable(Type.String()),
  /** Null when the upload resumed an existing run. */
  startTimestamp: OptionalNullable(SafeInteger({ minimum: 0 })),
  endTimestamp: OptionalNullable(SafeInteger({ minimum: 0 })),
});

/**
 * A metric of the batch. comet_ml sends numbers, and NaN/±inf as "NaN"/"Infinity"/"-Infinity";
 * other values arrive stringified. Steps and epochs are numbers here (a fractional step is left
 * out of the batch, not a reason to refuse all of it).
 */
export const MetricBatchItem = Type.Object({
  metricName: Type.String(),
  metricValue: Type.Unsafe<string | number | boolean | null>({ type: ['string', 'number', 'boolean', 'null'] }),
  step: OptionalNullable(Type.Number()),
  epoch: OptionalNullable(Type.Number()),
  context: OptionalNullable(Type.String()),
  timestamp: OptionalNullable(Type.Number()),
});

/** POST /clientlib/batch/logger/experiment/metric (gzip). */
export const MetricBatchBody = Type.Object({
  experimentKey: ExperimentKey,
  values: Type.Array(MetricBatchItem),
});
export type MetricBatchBody = Static<typeof MetricBatchBody>;

/** A parameter of the batch: scalars, lists (kept as JSON text) and stringified dicts. */
export const ParameterBatchItem = Type.Object({
  parameterName: Type.String(),
  parameterValue: Type.Optional(Type.Unknown()),
  step: OptionalNullable(Type.Number()),
  source: OptionalNullable(Type.String()),
  context: OptionalNullable(Type.String()),
  timestamp: OptionalNullable(Type.Number()),
});

/** POST /clientlib/batch/logger/experiment/parameter (gzip). */
export const ParameterBatchBody = Type.Object({
  experimentKey: ExperimentKey,
  values: Type.Array(ParameterBatchItem),
});
export type ParameterBatchBody = Static<typeof ParameterBatchBody>;

/** A batch's fate: `duplicate` when it replayed one already stored (then nothing was stored). */
export const BatchResponse = WriteResponse({
  duplicate: Type.Boolean(),
  stored: Type.Integer(),
  skipped: Type.Integer(),
});

/** POST /clientlib/tags/add-tags-to-experiment */
export const ClientlibTagsBody = Type.Object({
  ...ApiKeyField,
  experimentKey: ExperimentKey,
  addedTags: Type.Array(EntryName()),
});

/**
 * Query of the three upload endpoints (spec §5). The key is `experimentId`. Images and figures
 * name themselves `figName`/`imageId`, assets `fileName`/`assetId`.
 */
export const ClientlibUploadQuery = Type.Object({
  experimentId: ExperimentKey,
  apiKey: Type.Optional(Type.String()),
  projectId: Type.Optional(Type.String()),
  runId: Type.Optional(Type.String()),
  assetId: Type.Optional(Type.String()),
  /** Empty or left out: the file part's name. */
  fileName: Type.Optional(UploadName),
  imageId: Type.Optional(Type.String()),
  figName: Type.Optional(UploadName),
  figCounter: Type.Optional(Type.Integer()),
  extension: Type.Optional(Type.String()),
  type: Type.Optional(UploadName),
  overwrite: Type.Optional(QueryBoolean),
  groupingName: Type.Optional(UploadName),
  artifactVersionId: Type.Optional(Type.String()),
  context: Type.Optional(Type.String()),
  step: Type.Optional(SafeInteger()),
  epoch: Type.Optional(SafeInteger()),
  isRemote: Type.Optional(QueryBoolean),
});
export type ClientlibUploadQuery = Static<typeof ClientlibUploadQuery>;

/** `duplicate` when the upload replayed one already stored under the same client-chosen id. */
export const ClientlibUploadResponse = WriteResponse({
  assetId: Nullable(Type.String()),
  web: Nullable(Type.String()),
  api: Nullable(Type.String()),
  duplicate: Type.Boolean(),
});

/** POST /clientlib/notification/experiment — the end-of-run summary comet_ml would e-mail. */
export const NotificationBody = Type.Object({
  api_key: OptionalNullable(Type.String()),
  experiment_key: ExperimentKey,
  title: OptionalNullable(Type.String()),
  status: OptionalNullable(Type.String()),
  experiment_name: OptionalNullable(Type.String()),
  experiment_link: OptionalNullable(Type.String()),
  additional_data: Type.Optional(Type.Unknown()),
});

/** GET /clientlib/symlink/new */
export const ClientlibSymlinkQuery = Type.Object({
  apiKey: Type.Optional(Type.String()),
  experimentKey: ExperimentKey,
  projectName: ProjectName,
});

/** GET /clientlib/rpc/get-pending-rpcs */
export const PendingRpcsQuery = Type.Object({
  apiKey: Type.Optional(Type.String()),
  experimentKey: ExperimentKey,
});

export const PendingRpcsResponse = Type.Object({ remoteProcedureCalls: Type.Array(Type.Unknown()) });

/** POST /clientlib/rpc/register-rpc and /clientlib/rpc/save-rpc-result */
export const RpcBody = Type.Object({ ...ApiKeyField, experimentKey: ExperimentKey });

/** POST /clientlib/notify/event — SDK telemetry. */
export const NotifyEventBody = Type.Object({
  api_key: OptionalNullable(Type.String()),
  event_name: Type.String(),
  experiment_key: OptionalNullable(Type.String()),
  err_msg: OptionalNullable(Type.String()),
});

/** GET|POST /clientlib/asset/3d-limits — the caps comet_ml applies to 3D point clouds. */
export const Points3dLimitsResponse = Type.Object({
  maxPoints: Type.Integer(),
  maxPointsFileSizeInBytes: Type.Integer(),
  maxBoxes: Type.Integer(),
  maxBoxesFileSizeInBytes: Type.Integer(),
});

/** Answers that carry nothing: comet_ml reads only the status. */
export const EmptyResponse = Type.Object({});
