import type {
  ApiKey,
  ArtifactTable,
  ArtifactTableInfo,
  Asset,
  DocumentKind,
  DownsampledSeries,
  Experiment,
  ExperimentModel,
  LoggedValue,
  LoggedValueInput,
  MetricPoint,
  MetricPointInput,
  OutputLine,
  OutputLineInput,
  Project,
  SeriesSummary,
  User,
  ValueKind,
  Workspace,
  WorkspaceRole,
} from './entities.js';
import type { EnvironmentField, ExperimentSearch } from './experiment-query.js';

/**
 * The persistence contract of the core. Every backend (SQLite, PostgreSQL) must pass the same
 * contract suite (`test/store.contract.test.ts`). Methods never check permissions: services do.
 * Lookups return `undefined` for a missing row; they never throw for absence.
 */
export interface Store extends Repositories {
  /**
   * Runs `work` atomically. When the promise resolves the changes are durable (committed to the
   * database's WAL); when it rejects nothing of it is visible.
   */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface Repositories {
  readonly tenancy: TenancyRepository;
  readonly projects: ProjectRepository;
  readonly experiments: ExperimentRepository;
  readonly values: LoggedValueRepository;
  readonly series: SeriesRepository;
  readonly assets: AssetRepository;
  readonly artifactTables: ArtifactTableRepository;
}

export interface ApiKeyRecord extends ApiKey {
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  hash: string;
}

export interface TenancyRepository {
  countUsers(): Promise<number>;
  insertUser(user: User): Promise<void>;
  getUser(id: string): Promise<User | undefined>;
  getUserByName(name: string): Promise<User | undefined>;
  setDefaultWorkspace(userId: string, workspaceId: string): Promise<void>;

  insertWorkspace(workspace: Workspace): Promise<void>;
  getWorkspace(id: string): Promise<Workspace | undefined>;
  getWorkspaceByName(name: string): Promise<Workspace | undefined>;
  /** Workspaces the user is a member of, ordered by name. */
  listWorkspacesOfUser(userId: string): Promise<Workspace[]>;
  /** Adds or updates a membership (idempotent). */
  putMember(workspaceId: string, userId: string, role: WorkspaceRole): Promise<void>;

  insertApiKey(key: ApiKeyRecord): Promise<void>;
  getApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** Keys of one user (or of everyone when `userId` is undefined), newest first, revoked included. */
  listApiKeys(userId?: string): Promise<ApiKey[]>;
  /** Marks a key revoked; returns false when no such un-revoked key exists. */
  revokeApiKey(id: string, at: number): Promise<boolean>;
}

export interface ProjectWithCount extends Project {
  /** Experiments whose home is this project plus those symlinked into it. */
  experimentCount: number;
}

export type ProjectPatch = Partial<Pick<Project, 'name' | 'description' | 'isPublic' | 'notes' | 'updatedAt'>>;

export interface ProjectRepository {
  insert(project: Project): Promise<void>;
  get(id: string): Promise<Project | undefined>;
  getByName(workspaceId: string, name: string): Promise<Project | undefined>;
  /** Projects of a workspace ordered by name; `publicOnly` restricts to public projects. */
  list(workspaceId: string, publicOnly: boolean): Promise<ProjectWithCount[]>;
  update(id: string, patch: ProjectPatch): Promise<void>;
  /** Deletes the project; its experiments must have been moved or deleted first. */
  delete(id: string): Promise<void>;

  addShareCode(projectId: string, shareCode: string, createdBy: string, at: number): Promise<void>;
  /** Share codes of the project, oldest first. */
  listShareCodes(projectId: string): Promise<string[]>;
  /** Returns false when the project has no such code. */
  deleteShareCode(projectId: string, shareCode: string): Promise<boolean>;
}

export type ExperimentPatch = Partial<
  Pick<
    Experiment,
    | 'name'
    | 'status'
    | 'archived'
    | 'startTime'
    | 'endTime'
    | 'optimizationId'
    | 'filePath'
    | 'fileName'
    | 'lastHeartbeat'
    | 'hasCrashed'
    | 'error'
    | 'updatedAt'
    | 'projectId'
    | 'workspaceId'
  >
>;

export interface ExperimentRepository {
  insert(experiment: Experiment): Promise<void>;
  get(id: string): Promise<Experiment | undefined>;
  /**
   * Experiments whose home is the project or that are symlinked into it, oldest first.
   * `archived` undefined lists both.
   */
  listInProject(projectId: string, archived?: boolean): Promise<Experiment[]>;
  /** Experiments whose home is the project (symlinks excluded). */
  listOwnedByProject(projectId: string): Promise<string[]>;
  update(id: string, patch: ExperimentPatch): Promise<void>;
  /** Deletes the experiment and everything logged to it (blobs are the caller's job). */
  delete(id: string): Promise<void>;
  addSymlink(experimentId: string, projectId: string): Promise<void>;

  /**
   * Keys of the experiments matching a search, in its order (ties by key), paged. The condition
   * runs in the database (experiment-query.ts holds its semantics).
   */
  search(search: ExperimentSearch): Promise<string[]>;
  /** Experiments in the project (home or symlinked); `archived` undefined counts both. */
  countInProject(projectId: string, archived?: boolean): Promise<number>;
  /** The names logged across the project's experiments, for column listings. */
  listProjectColumns(projectId: string, archived?: boolean): Promise<ProjectColumns>;

  getDocument(id: string, kind: DocumentKind): Promise<string | undefined>;
  putDocument(id: string, kind: DocumentKind, body: string, at: number): Promise<void>;

  /** Adds tags as a set union; order of first insertion is kept. */
  addTags(id: string, tags: string[]): Promise<void>;
  listTags(id: string): Promise<string[]>;

  appendOutput(id: string, lines: OutputLineInput[]): Promise<void>;
  /** Lines in arrival order. */
  listOutput(id: string): Promise<OutputLine[]>;
}

/** Names logged across a project's experiments, ordered by name. */
export interface ProjectColumns {
  metrics: string[];
  /** `numeric`: every experiment's current value of it is a number. */
  params: { name: string; numeric: boolean }[];
  others: { name: string; numeric: boolean }[];
  tags: string[];
  /** System-details fields some experiment has. */
  environment: EnvironmentField[];
}

export interface LoggedValueRepository {
  /** Appends values; each gets the next `seq` of the experiment, so "current" = highest seq. */
  append(experimentId: string, kind: ValueKind, values: LoggedValueInput[]): Promise<void>;
  /** Every logged value of that kind, ordered by name then seq. */
  list(experimentId: string, kind: ValueKind): Promise<LoggedValue[]>;
}

export interface SeriesReadOptions {
  /** Only points whose step is within [stepFrom, stepTo] (inclusive; points without a step are excluded). */
  stepFrom?: number;
  stepTo?: number;
  /** Skip this many points (in offset order). */
  offset?: number;
  limit?: number;
}

/**
 * Metric series: one series per (experiment, metric name); points of every context live in it
 * and are ordered by `offset`, a per-experiment sequence assigned on append. Summaries are exact
 * and maintained on write.
 */
export interface SeriesRepository {
  /** Appends points atomically and returns the offsets assigned, in input order. */
  append(experimentId: string, points: MetricPointInput[]): Promise<number[]>;
  /** Summaries of every series of the experiment, ordered by name. */
  listSummaries(experimentId: string): Promise<SeriesSummary[]>;
  getSummary(experimentId: string, name: string): Promise<SeriesSummary | undefined>;
  /** Points of one series in offset order. */
  readPoints(experimentId: string, name: string, options?: SeriesReadOptions): Promise<MetricPoint[]>;
  /**
   * At most about 2 × `buckets` points: every point when the series has no more than that,
   * otherwise the lowest and highest point of each of ≤ `buckets` runs of consecutive points
   * (NaN points are never chosen). Reads per-block summaries, never the points themselves, so the
   * cost grows with the series length / 256, not with its points.
   */
  downsample(experimentId: string, name: string, buckets: number): Promise<DownsampledSeries>;
}

export interface AssetListFilter {
  /** Exact type; undefined for every type. */
  type?: string;
  groupingName?: string;
}

export interface AssetRepository {
  insert(asset: Asset): Promise<void>;
  get(experimentId: string, assetId: string): Promise<Asset | undefined>;
  /** Looks an asset up by id alone: ids are unique across experiments. */
  getById(assetId: string): Promise<Asset | undefined>;
  /** Assets ordered by creation time then id. */
  list(experimentId: string, filter?: AssetListFilter): Promise<Asset[]>;
  /** Assets with this file name in the same model/artifact scope (for overwrite). */
  listSameName(
    experimentId: string,
    fileName: string,
    groupingName: string | null,
    artifactVersionId: string | null,
  ): Promise<Asset[]>;
  delete(experimentId: string, assetId: string): Promise<void>;

  /** Returns the named experiment model, creating it when absent. */
  ensureModel(model: ExperimentModel): Promise<ExperimentModel>;
  getModel(experimentId: string, name: string): Promise<ExperimentModel | undefined>;
  listModels(experimentId: string): Promise<ExperimentModel[]>;
}

/**
 * Table artifacts' metadata; their rows live in the blob store under `blobKey`. A table is named
 * by (experiment, name); names compare bytewise, as everywhere.
 */
export interface ArtifactTableRepository {
  get(experimentId: string, name: string): Promise<ArtifactTable | undefined>;
  /** The experiment's tables ordered by name (bytewise), without their row indexes. */
  list(experimentId: string): Promise<ArtifactTableInfo[]>;
  /**
   * Inserts the table, or replaces every field of the one with the same (experiment, name) except
   * its `createdAt`, which is kept.
   */
  put(table: ArtifactTable): Promise<void>;
  /** Returns false when there was no such table. */
  delete(experimentId: string, name: string): Promise<boolean>;
}
