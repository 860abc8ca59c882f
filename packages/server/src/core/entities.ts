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
