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
  lastUsedAt: number | null;
  revokedAt: number | null;
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
  last: SummaryPoint;
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

export interface ExperimentModel {
  id: string;
  experimentId: string;
  name: string;
  createdAt: number;
}

/** A model in a workspace's model registry (Comet's "registry model"). */
export interface RegistryModel {
  id: string; // 32 lowercase hex
  workspaceId: string;
  /** Lowercase letters, digits and single dashes (comet_ml's `proper_registry_model_name`). */
  name: string;
  description: string | null;
  isPublic: boolean;
  notes: string;
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
  /** The experiment model whose files the version serves; null once its experiment is deleted. */
  experimentModelId: string | null;
  /** The experiment key and model name at registration, kept when the experiment goes. */
  experimentId: string;
  experimentModelName: string;
  comment: string | null;
  /** Free-form stages such as "production", in the order they were added. */
  stages: string[];
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
