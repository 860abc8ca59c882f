/** Domain entities shared by every facade. Times are epoch milliseconds. */

export type Scope = 'read' | 'write' | 'admin' | 'api:models-read';
export const ALL_SCOPES: readonly Scope[] = ['read', 'write', 'admin', 'api:models-read'];

export interface User {
  id: string; // UUID: Foundry exposes users as PrincipalId UUIDs
  name: string;
  email: string | null;
  isAdmin: boolean;
  defaultWorkspaceId: string | null;
  createdAt: number;
}

export interface Workspace {
  id: string; // 32 lowercase hex
  name: string;
  createdBy: string;
  createdAt: number;
}

export type WorkspaceRole = 'owner' | 'member';

export interface ApiKey {
  id: string;
  userId: string;
  name: string;
  /** First characters of the key, shown in listings so a user can tell keys apart. */
  prefix: string;
  scopes: Scope[];
  createdAt: number;
  /**
   * When the key was last presented, to the minute: written at most once a minute per key, so it
   * may lag real use by up to a minute.
   */
  lastUsedAt: number | null;
  revokedAt: number | null;
  /** From this moment on the key no longer authenticates; null when it never expires. */
  expiresAt: number | null;
}

/** What an audit event records. */
export type AuditAction =
  | 'store.bootstrap'
  | 'user.create'
  | 'user.sign-in-link'
  | 'workspace.create'
  | 'membership.add'
  | 'key.create'
  | 'key.revoke'
  | 'project.delete'
  | 'project.trash'
  | 'project.restore';

export const AUDIT_ACTIONS: readonly AuditAction[] = [
  'store.bootstrap',
  'user.create',
  'user.sign-in-link',
  'workspace.create',
  'membership.add',
  'key.create',
  'key.revoke',
  'project.delete',
  'project.trash',
  'project.restore',
];

export type AuditTargetType = 'user' | 'workspace' | 'membership' | 'api-key' | 'project';

/**
 * How an audited action came in: Cairn's HTTP APIs, the operator's `cairn` command on the
 * store, or the server itself (the first start's bootstrap).
 */
export type AuditSource = 'api' | 'cli' | 'server';

/** One administrative action, kept in the audit log. */
export interface AuditEvent {
  /** Increases with every event written: the log's order. */
  id: number;
  at: number;
  /** The acting user; null for an operator's `cairn` command or the server itself. */
  actorUserId: string | null;
  /** The acting user's name, or for `cli` the operating-system user who ran `cairn`. */
  actorName: string;
  action: AuditAction;
  targetType: AuditTargetType;
  targetId: string;
  /** The target's name when it has one (a user's, a key's label, a project's). */
  targetName: string | null;
  workspaceId: string | null;
  workspaceName: string | null;
  /** Facts of the action (a key's prefix and scopes, how many experiments went); never a secret. */
  details: Record<string, unknown>;
  source: AuditSource;
  /** The HTTP request's id (`api` events), to find it in the server's log. */
  requestId: string | null;
}

export interface Project {
  id: string; // 32 lowercase hex
  workspaceId: string;
  name: string;
  description: string | null;
  isPublic: boolean;
  notes: string;
  ownerUserId: string;
  createdAt: number;
  updatedAt: number;
  /** Soft deletion (MLflow's experiment lifecycle): set while the project is in the trash. */
  deletedAt: number | null;
  /** Where MLflow clients put the project's artifacts; null: Cairn's own store (`mlflow-artifacts:/<id>`). */
  artifactLocation: string | null;
}

export type ExperimentStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface Experiment {
  id: string; // the experiment key: 32–50 alphanumerics, 32 lowercase hex when Cairn chooses
  projectId: string;
  workspaceId: string;
  name: string | null;
  status: ExperimentStatus;
  archived: boolean;
  startTime: number;
  endTime: number | null;
  createdBy: string;
  optimizationId: string | null;
  filePath: string | null;
  fileName: string | null;
  lastHeartbeat: number | null;
  hasCrashed: boolean;
  error: string | null;
  /**
   * What `status` alone cannot say of an MLflow run: `KILLED` (with FAILED) or `SCHEDULED` (with
   * RUNNING); null otherwise.
   */
  statusDetail: string | null;
  createdAt: number;
  updatedAt: number;
}

/** One logged metric point, as received. `offset` is assigned by the store. */
export interface MetricPointInput {
  name: string;
  value: number;
  step: number | null;
  epoch: number | null;
  timestamp: number;
  context: string | null;
}

export interface MetricPoint {
  offset: number;
  value: number;
  step: number | null;
  epoch: number | null;
  timestamp: number;
  context: string | null;
}

/**
 * Points of one series as columns, in offset order: what bulk reads send without building an
 * object per point. Absent steps and epochs are NaN (present ones are integers); values may be NaN.
 */
export interface MetricColumns {
  /** Points in the whole series (not only those returned); 0 when it does not exist. */
  total: number;
  offsets: Float64Array;
  steps: Float64Array;
  epochs: Float64Array;
  timestamps: Float64Array;
  values: Float64Array;
  /** Each point's index into `contexts`. */
  contextIds: Uint32Array;
  /** The series' contexts; null is the default one. */
  contexts: (string | null)[];
}

/** A point kept by downsampling: enough to draw it and to find it again by its offset. */
export interface SeriesSample {
  offset: number;
  value: number;
  step: number | null;
  timestamp: number;
}

/** A series reduced for a chart: exact points when few enough, else min/max per bucket. */
export interface DownsampledSeries {
  /** Points in the whole series. */
  total: number;
  /** True when `points` is every point of the series (no reduction was needed). */
  exact: boolean;
  /** In offset order. */
  points: SeriesSample[];
}

/**
 * The x axis of a chart read: the point's step, its epoch, its timestamp (epoch ms), or its
 * timestamp minus the experiment's start time ("relative", ms).
 */
export type SeriesAxis = 'step' | 'epoch' | 'wall' | 'relative';

interface SeriesWindowBase {
  experimentId: string;
  metric: string;
  /** Points in the whole series, with or without the chosen x. */
  total: number;
  /** Points that have the chosen x and lie in the requested range. */
  inRange: number;
}

/** Every point in range, ordered by x then logging order (offset). */
export interface ExactSeriesWindow extends SeriesWindowBase {
  exact: true;
  x: Float64Array;
  values: Float64Array;
}

/**
 * One entry per non-empty bucket, in x order. `x0`/`x1` are the lowest and highest x the bucket's
 * points have; `first` is the value of its first point in (x, offset) order and `last` of its
 * last; `min`, `max` and `mean` leave NaN values out (NaN when the bucket holds NaN alone);
 * `count` counts every point, NaN included.
 */
export interface BucketedSeriesWindow extends SeriesWindowBase {
  exact: false;
  x0: Float64Array;
  x1: Float64Array;
  first: Float64Array;
  last: Float64Array;
  min: Float64Array;
  max: Float64Array;
  mean: Float64Array;
  count: Float64Array;
}

/** One series of a chart read over a range of x: exact points, or buckets. */
export type SeriesWindow = ExactSeriesWindow | BucketedSeriesWindow;

/** The point that supplied a summary value (min, max or last). */
export interface SummaryPoint {
  value: number;
  step: number | null;
  timestamp: number;
  context: string | null;
  offset: number;
}

/** Exact per-series summary kept on write. */
export interface SeriesSummary {
  name: string;
  count: number;
  min: SummaryPoint;
  max: SummaryPoint;
  /** The point logged last (highest offset): Comet's "current" value. */
  last: SummaryPoint;
  /** The greatest point by (step, timestamp, value), a missing step read as 0: MLflow's "latest". */
  latest: SummaryPoint;
}

export type ValueKind = 'param' | 'other';
export type LoggedValueType = 'number' | 'string' | 'boolean';

export interface LoggedValueInput {
  name: string;
  type: LoggedValueType;
  /** The value as text: numbers in their shortest round-trip form, booleans as true/false. */
  text: string;
  step: number | null;
  timestamp: number;
  context: string | null;
}

export interface LoggedValue extends LoggedValueInput {
  seq: number;
}

export interface OutputLineInput {
  text: string;
  stderr: boolean;
  context: string | null;
  timestamp: number;
  clientOffset: number | null;
}

export interface OutputLine extends OutputLineInput {
  seq: number;
  /** Position in the experiment's output: 1, 2, 3, … in arrival order, without gaps. */
  line: number;
}

/** Which output lines a read wants: one stream, and/or lines containing a text. */
export interface OutputFilter {
  /** true: stderr lines only; false: stdout lines only; undefined: both. */
  stderr?: boolean;
  /** Lines containing this text, ignoring case. */
  search?: string;
}

/** Single-valued experiment documents, stored whole. */
export type DocumentKind =
  | 'html'
  | 'code'
  | 'graph'
  | 'git-metadata'
  | 'system-details'
  | 'cloud-details'
  | 'dependencies';

/** A stored document's kind, size (UTF-8 bytes) and time of its last write. */
export interface DocumentInfo {
  kind: DocumentKind;
  size: number;
  updatedAt: number;
}

export interface Asset {
  id: string;
  experimentId: string;
  fileName: string;
  fileSize: number;
  type: string;
  step: number | null;
  epoch: number | null;
  context: string | null;
  dir: string;
  /** Stored and returned as the JSON text the client sent. */
  metadata: string | null;
  tags: string[];
  remote: boolean;
  link: string | null;
  groupingName: string | null;
  artifactVersionId: string | null;
  blobKey: string | null;
  createdAt: number;
}

/** A key/value tag: MLflow's project (experiment) tags and dataset input tags. */
export interface KeyValue {
  key: string;
  value: string;
}

/** A dataset an experiment (MLflow run) used, with its input tags (MLflow's `log-inputs`). */
export interface ExperimentInput {
  experimentId: string;
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: string | null;
  profile: string | null;
  /** Input tags, such as `mlflow.data.context`, in the order logged. */
  tags: KeyValue[];
  createdAt: number;
}

/** MLflow 3's LoggedModelStatus names. */
export type LoggedModelStatus = 'LOGGED_MODEL_PENDING' | 'LOGGED_MODEL_READY' | 'LOGGED_MODEL_UPLOAD_FAILED';

/**
 * A named group of an experiment's files (assets of type model-element with this grouping name).
 * The optional fields are set when the model was created as an MLflow 3 logged model, and absent
 * otherwise.
 */
export interface ExperimentModel {
  id: string;
  experimentId: string;
  name: string;
  createdAt: number;
  /** MLflow's `model_id`, `m-<32 hex>`. */
  loggedModelId?: string;
  status?: LoggedModelStatus;
  modelType?: string;
  /** Key/value tags and params, in the order keys were first set. */
  tags?: Record<string, string>;
  params?: Record<string, string>;
  /** The step the run logged the model at (`runs/outputs`). */
  step?: number;
  updatedAt?: number;
}

/** Who may see a code panel outside its workspace: PUBLIC panels are readable by every user. */
export type PanelScope = 'PUBLIC' | 'PRIVATE';

export interface PanelResource {
  name: string;
  version: string;
  enabled: boolean;
}

/** The source of a code panel, as its zip describes it (Comet's `code` object). */
export interface PanelCode {
  code: string;
  css: string;
  description: string;
  html: string;
  defaultConfig: string;
  internalResources: PanelResource[];
  /** Kept as the client sent them (URLs or objects); Cairn only stores them. */
  userResources: unknown[];
  pyCode: string;
  /** "js" or "py": which of `code` and `pyCode` is the panel. */
  type: 'js' | 'py';
  pyConfig: string;
}

/** A code panel template of a workspace; each upload to it is a new revision. */
export interface CodePanel {
  id: string;
  workspaceId: string;
  ownerUserId: string;
  name: string;
  queryBuilderId: string;
  scopeType: PanelScope;
  code: PanelCode;
  thumbnailName: string | null;
  /** Time of the upload that produced the current definition. */
  revisionId: number;
  /** Where the uploaded zip of the current revision lives in the blob store. */
  blobKey: string;
  createdAt: number;
  updatedAt: number;
}

/** A saved dashboard (Comet's dashboard template) of one project. */
export interface Dashboard {
  id: string;
  projectId: string;
  name: string;
  createdBy: string;
  /** JSON texts, stored as sent: the UI owns their structure. */
  experimentQueryState: string;
  dashboardChartState: string;
  reactGridTableState: string;
  v2: Record<string, unknown>;
  source: string | null;
  current: boolean;
  unsavedView: boolean;
  /** At most one dashboard per project is its default. */
  projectDefault: boolean;
  pinnedExperiments: string[];
  autoRefresh: boolean;
  createdAt: number;
  updatedAt: number;
}

/** A code panel placed on a dashboard; its viz store belongs to this placement. */
export interface PanelInstance {
  id: string;
  dashboardId: string;
  templateId: string;
  /** Order of the panel on its dashboard, from 0. */
  position: number;
}

/**
 * An artifact version's life: OPEN while its files upload, then CLOSED (complete, immutable) or
 * ERROR (an upload failed). Only an OPEN version accepts files or a state change.
 */
export type ArtifactVersionState = 'OPEN' | 'CLOSED' | 'ERROR';

/** A named, typed collection of versions, unique by name within its workspace. */
export interface Artifact {
  id: string; // UUID, as Comet's artifact ids are
  workspaceId: string;
  /** The project of the experiment that logged the first version; null once that project is gone. */
  projectId: string | null;
  name: string;
  type: string;
  description: string | null;
  /** JSON text, stored verbatim. */
  metadata: string | null;
  tags: string[];
  isPublic: boolean;
  emoji: string | null;
  createdBy: string;
  /** Key of the experiment that logged the first version. */
  experimentKey: string;
  createdAt: number;
  updatedAt: number;
}

/** One version of an artifact. Its files are assets whose `artifactVersionId` is its id. */
export interface ArtifactVersion {
  id: string; // UUID
  artifactId: string;
  /** Semantic version text, unique within the artifact. */
  version: string;
  state: ArtifactVersionState;
  /** JSON text, stored verbatim. */
  metadata: string | null;
  tags: string[];
  note: string | null;
  ownerUserId: string;
  /** Key of the experiment that logged the version (Comet's `createdFrom`). */
  experimentKey: string;
  createdAt: number;
  updatedAt: number;
}

/** A model in a workspace's model registry (Comet's "registry model"). */
export interface RegistryModel {
  id: string; // 32 lowercase hex
  workspaceId: string;
  /**
   * Unique in the workspace. Created through Comet: lowercase letters, digits and single dashes
   * (comet_ml's `proper_registry_model_name`); through MLflow: the name as given.
   */
  name: string;
  description: string | null;
  isPublic: boolean;
  notes: string;
  /** MLflow's registered-model tags. */
  tags: Record<string, string>;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

/** One registered version of a registry model (Comet's "registry model item"). */
export interface RegistryVersion {
  id: string; // 32 lowercase hex
  registryModelId: string;
  /** A semantic version (semver.org 2.0.0), unique within the model. */
  version: string;
  /** MLflow's version: 1, 2, … per model in creation order (the highest so far plus one). */
  number: number;
  /**
   * The experiment model whose files the version serves; null once its experiment is deleted,
   * and for a version registered through MLflow from a URI outside Cairn (`source`).
   */
  experimentModelId: string | null;
  /**
   * The experiment key and model name at registration, kept when the experiment goes. A version
   * registered from a URI outside Cairn has the run it names, or '' for neither.
   */
  experimentId: string;
  experimentModelName: string;
  comment: string | null;
  /** Free-form stages such as "production", in the order they were added. */
  stages: string[];
  /** The model URI an MLflow client registered the version from; null for Comet's versions. */
  source: string | null;
  /** MLflow's `run_link`, stored as given. */
  runLink: string | null;
  /** MLflow's version status; null (read as READY) for Comet's versions. */
  status: string | null;
  /** MLflow's model-version tags. */
  tags: Record<string, string>;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
}

/** What a webhook can be triggered by. */
export type WebhookEventType = 'STAGE_ADDED' | 'STAGE_REMOVED' | 'MODEL_VERSION_CREATED' | 'MODEL_VERSION_DELETED';

/** One URL of a webhook configuration. */
export interface WebhookTarget {
  url: string;
  /** Extra HTTP headers sent with every delivery (e.g. an Authorization token). */
  headers: Record<string, string>;
  name: string | null;
  /** The events this URL receives; empty means the stage events (STAGE_ADDED, STAGE_REMOVED). */
  triggers: WebhookEventType[];
}

/** The webhooks of one registry model, or (`registryModelId` null) of every model in a workspace. */
export interface WebhookConfig {
  workspaceId: string;
  registryModelId: string | null;
  targets: WebhookTarget[];
  updatedAt: number;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event to POST to one URL, and how its attempts went: the durable delivery log. */
export interface WebhookDelivery {
  id: string;
  workspaceId: string;
  eventType: WebhookEventType;
  /** The JSON body sent, fixed when the event happened. */
  payload: string;
  url: string;
  headers: Record<string, string>;
  status: WebhookDeliveryStatus;
  attempts: number;
  /** HTTP status of the last attempt; null when it got no response (or none was made yet). */
  lastStatus: number | null;
  lastError: string | null;
  /** When the next attempt is due; null once delivered or given up. */
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  createdAt: number;
}

export const TABLE_COLUMN_TYPES = ['string', 'double', 'integer', 'boolean', 'datetime'] as const;
export type TableColumnType = (typeof TABLE_COLUMN_TYPES)[number];

export interface TableColumn {
  name: string;
  type: TableColumnType;
}

/**
 * One cell of a table: a string, a double (NaN and ±Infinity allowed), a safe integer, a boolean,
 * or a datetime as epoch milliseconds (UTC); null for a missing value, in any column.
 */
export type TableCell = string | number | boolean | null;

/** A table artifact without its row index (what listings read). Names are unique per experiment. */
export interface ArtifactTableInfo {
  experimentId: string;
  name: string;
  description: string | null;
  columns: TableColumn[];
  rowCount: number;
  /** Size of the stored rows (the blob), in bytes. */
  sizeBytes: number;
  /** When a table of this name was first logged; re-logging keeps it. */
  createdAt: number;
  /** When the current rows were logged. */
  updatedAt: number;
  /** Where the rows live in the blob store; a new key for every logging of the table. */
  blobKey: string;
}

/** A table artifact with the index of its rows. */
export interface ArtifactTable extends ArtifactTableInfo {
  /** Byte offset in the blob of every TABLE_ROW_INDEX_STRIDE-th row (rows 0, stride, 2·stride, …). */
  rowIndex: number[];
}
