import type {
  ApiKey,
  Artifact,
  ArtifactTable,
  ArtifactTableInfo,
  ArtifactVersion,
  Asset,
  AuditAction,
  AuditEvent,
  CodePanel,
  Dashboard,
  DocumentInfo,
  DocumentKind,
  DownsampledSeries,
  Experiment,
  ExperimentInput,
  ExperimentModel,
  KeyValue,
  LoggedValue,
  LoggedValueInput,
  LoggedValueType,
  MetricColumns,
  MetricPoint,
  MetricPointInput,
  OutputFilter,
  OutputLine,
  OutputLineInput,
  PanelInstance,
  Project,
  Scope,
  SeriesAxis,
  SeriesSummary,
  SeriesWindow,
  User,
  ValueKind,
  Workspace,
  WorkspaceRole,
} from './entities.js';
import type { EnvironmentField, ExperimentSearch, SortPosition } from './experiment-query.js';
import type { RegistryRepository, WebhookRepository } from './registry.port.js';

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
  /**
   * True when the store commits one write transaction at a time (SQLite's single writer): writes
   * that would each wait for a commit of their own are then better committed together.
   */
  readonly serialisesWrites: boolean;
  /**
   * Of `keys`, those a stored row refers to (an asset's bytes, a table's rows, a code panel's
   * zip). The blob sweep deletes only keys this leaves out.
   */
  referencedBlobKeys(keys: readonly string[]): Promise<Set<string>>;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface Repositories {
  readonly tenancy: TenancyRepository;
  readonly sessions: SessionRepository;
  readonly projects: ProjectRepository;
  readonly experiments: ExperimentRepository;
  readonly values: LoggedValueRepository;
  readonly inputs: ExperimentInputRepository;
  readonly series: SeriesRepository;
  readonly assets: AssetRepository;
  readonly artifacts: ArtifactRepository;
  readonly registry: RegistryRepository;
  readonly webhooks: WebhookRepository;
  readonly artifactTables: ArtifactTableRepository;
  readonly codePanels: CodePanelRepository;
  readonly dashboards: DashboardRepository;
  readonly optimizations: OptimizationRepository;
  readonly clientBatches: ClientBatchRepository;
  readonly audit: AuditRepository;
}

export interface ApiKeyRecord extends ApiKey {
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  hash: string;
}

/**
 * Users, workspaces, memberships and API keys. Every change to what a credential may do (a
 * membership put, a default workspace set, a key revoked; a session ended, in SessionRepository)
 * also moves the security epoch on, in the same transaction: server nodes sharing the store
 * read the epoch to know when the principals they cached went stale.
 */
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
  /** A key by id, revoked or not. */
  getApiKey(id: string): Promise<ApiKey | undefined>;
  /** Keys of one user (or of everyone when `userId` is undefined), newest first, revoked included. */
  listApiKeys(userId?: string): Promise<ApiKey[]>;
  /** Marks a key revoked; returns false when no such un-revoked key exists. */
  revokeApiKey(id: string, at: number): Promise<boolean>;
  /**
   * Records a use of the key at `at`: sets `lastUsedAt` to `at` when it is null or older than
   * `at - minIntervalMillis`, otherwise changes nothing (so processes sharing the store write a
   * key's row at most once per interval between them). Returns whether it wrote. Revoked and
   * expired keys are stamped like any other; a missing key is false.
   */
  touchApiKey(id: string, at: number, minIntervalMillis: number): Promise<boolean>;

  /**
   * Moves the security epoch on. Inside a transaction it also holds back every other transaction
   * that moves it until this one ends (on PostgreSQL a row lock; SQLite writers are serial anyway).
   */
  bumpSecurityEpoch(): Promise<void>;
  /** The security epoch: a counter that only grows. */
  securityEpoch(): Promise<number>;
}

/** An audit event before the store numbers it. */
export type AuditEventInput = Omit<AuditEvent, 'id'>;

/** Which audit events to list; every condition given must hold. */
export interface AuditFilter {
  /** Events at or after this time. */
  since?: number;
  /** Events whose actor has exactly this name. */
  actorName?: string;
  action?: AuditAction;
  /** Events with a smaller id than this (the next page after the event with this id). */
  beforeId?: number;
  /** At most this many events (positive). */
  limit: number;
}

/**
 * The audit log of administrative actions. Events are only ever appended: nothing updates or
 * deletes one, and no foreign key ties one to the rows it names, so an event outlives its
 * target. Services write an event in the transaction of the action it records: both commit or
 * neither does.
 */
export interface AuditRepository {
  /**
   * Appends an event and returns it with its id. Ids are allocated in increasing order and never
   * reused; on PostgreSQL transactions running at once may commit out of id order.
   */
  insert(event: AuditEventInput): Promise<AuditEvent>;
  /**
   * Events matching `filter`, newest first: by id descending (the order they were written in),
   * whatever their `at` (clocks of processes sharing the store may disagree). `details` comes back
   * as it was given (a JSON object).
   */
  list(filter: AuditFilter): Promise<AuditEvent[]>;
}

/** A browser session of the web UI. */
export interface SessionRecord {
  id: string;
  /** SHA-256 of the session secret (the cookie's value), hex. The secret itself is never stored. */
  hash: string;
  userId: string;
  /** What the session may do: those of the key it was opened with, or all for a sign-in link. */
  scopes: Scope[];
  /** The API key the session was opened with; null when a sign-in link opened it. */
  apiKeyId: string | null;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

/** A one-time sign-in link's token. */
export interface SignInTokenRecord {
  id: string;
  /** SHA-256 of the token, hex. */
  hash: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

/**
 * Sessions and sign-in tokens. Lookups return rows whatever their state: whether a session is
 * live (not revoked, `expiresAt` after now) is the service's decision, except where a method
 * says otherwise.
 */
export interface SessionRepository {
  insert(session: SessionRecord): Promise<void>;
  /** The session whose secret has this hash, revoked and expired ones included. */
  getByHash(hash: string): Promise<SessionRecord | undefined>;
  /** Marks a session revoked at `at`; false when no such un-revoked session exists. */
  revoke(id: string, at: number): Promise<boolean>;
  /** Marks every un-revoked session opened with the key revoked at `at`; returns how many. */
  revokeOfApiKey(apiKeyId: string, at: number): Promise<number>;

  insertSignInToken(token: SignInTokenRecord): Promise<void>;
  /**
   * Spends a sign-in token: when the token with this hash is unused and `expiresAt > at`, marks it
   * used at `at` and returns it (with `usedAt: at`); otherwise changes nothing and returns
   * undefined. It is one atomic statement: of concurrent calls for one token, one at most wins.
   */
  useSignInToken(hash: string, at: number): Promise<SignInTokenRecord | undefined>;

  /** Deletes the sessions and sign-in tokens with `expiresAt <= before`; returns how many rows went. */
  deleteExpired(before: number): Promise<number>;
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
  /**
   * Projects of a workspace ordered by name; `publicOnly` restricts to public projects. Projects
   * in the trash (`deletedAt` set) are left out: `get` and `getByName` still find them.
   */
  list(workspaceId: string, publicOnly: boolean): Promise<ProjectWithCount[]>;
  /** Every project of a workspace, those in the trash included, ordered by name. */
  listWithTrash(workspaceId: string): Promise<Project[]>;
  update(id: string, patch: ProjectPatch): Promise<void>;
  /** Moves the project to the trash at `at`, or (null) takes it out; its name stays taken either way. */
  setDeletedAt(id: string, at: number | null): Promise<void>;
  /** The project's tags ordered by key (bytewise). */
  listTags(projectId: string): Promise<KeyValue[]>;
  /** `listTags` for several projects at once, by project id (an entry for every id asked). */
  listTagsOf(projectIds: readonly string[]): Promise<Map<string, KeyValue[]>>;
  /** Sets a tag: inserts it, or replaces the value of the project's tag with that key. */
  setTag(projectId: string, key: string, value: string): Promise<void>;
  /** Removes a tag; false when the project had no tag with that key. */
  deleteTag(projectId: string, key: string): Promise<boolean>;
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
    | 'statusDetail'
    | 'updatedAt'
    | 'projectId'
    | 'workspaceId'
  >
>;

export interface ExperimentRepository {
  insert(experiment: Experiment): Promise<void>;
  get(id: string): Promise<Experiment | undefined>;
  /** The experiments that exist among `ids`, in the order of `ids`. */
  getMany(ids: string[]): Promise<Experiment[]>;
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
  /**
   * One page of a search by keyset: the matching experiments after `after` (from the first when
   * absent), in `search.orderBy` (default createdAt ascending; ties by key, compared bytewise;
   * experiments lacking a value last in either direction), at most `search.limit`; `offset` is
   * not read. Each row carries its position; handing the last one back as `after` continues the
   * listing with no row repeated or skipped while the data stands still. A position that cannot
   * come from this order is an InvalidArgumentError.
   */
  searchPage(search: ExperimentSearch, after?: SortPosition): Promise<{ key: string; position: SortPosition }[]>;
  /** How many experiments match the search's scope, archived state and condition. */
  countMatching(search: ExperimentSearch): Promise<number>;
  /** Experiments in the project (home or symlinked); `archived` undefined counts both. */
  countInProject(projectId: string, archived?: boolean): Promise<number>;
  /** The names logged across the project's experiments, for column listings. */
  listProjectColumns(projectId: string, archived?: boolean): Promise<ProjectColumns>;
  /**
   * The project's key catalogue: every key some experiment listed in the project (home or
   * symlinked, archived or not) has, with counts kept on write. Ordered by source then name,
   * both bytewise; `after` resumes after that key, `search` keeps names containing it ignoring
   * case (SQLite folds ASCII letters only), `limit` bounds the page.
   */
  listKeys(projectId: string, options: KeyListOptions): Promise<ProjectKey[]>;
  /** How many keys `listKeys` would list with the same source and search, unpaged. */
  countKeys(projectId: string, options: Pick<KeyListOptions, 'source' | 'search'>): Promise<number>;

  getDocument(id: string, kind: DocumentKind): Promise<string | undefined>;
  /** A document with the time of its last write; undefined when that kind was never written. */
  getDocumentEntry(id: string, kind: DocumentKind): Promise<{ body: string; updatedAt: number } | undefined>;
  putDocument(id: string, kind: DocumentKind, body: string, at: number): Promise<void>;
  /**
   * The kinds of document the experiment has, ordered by kind (byte order), with each body's size
   * in UTF-8 bytes; the bodies themselves are not read out.
   */
  listDocuments(id: string): Promise<DocumentInfo[]>;
  /** The documents of that kind of several experiments, by experiment id (absent when unset). */
  getDocumentsOf(ids: string[], kind: DocumentKind): Promise<Map<string, string>>;

  /** Adds tags as a set union; order of first insertion is kept. */
  addTags(id: string, tags: string[]): Promise<void>;
  /**
   * Removes one tag (exact match); the others keep their order. False when the experiment did not
   * have it.
   */
  removeTag(id: string, tag: string): Promise<boolean>;
  listTags(id: string): Promise<string[]>;
  /** Tags of several experiments, by experiment id, each in insertion order. */
  listTagsOf(ids: string[]): Promise<Map<string, string[]>>;

  /**
   * Appends lines; they get the next `line` numbers (contiguous from 1 per experiment) and `seq`
   * numbers, both in input order. Concurrent appends to one experiment are serialised, so line
   * numbers are committed in increasing order: a visible line means every lower one is visible.
   */
  appendOutput(id: string, lines: OutputLineInput[]): Promise<void>;
  /** Lines in arrival order. */
  listOutput(id: string): Promise<OutputLine[]>;
  /** The `line` number of the last output line, i.e. how many there are; 0 when none. */
  lastOutputLine(id: string): Promise<number>;
  /**
   * Up to `limit` lines matching `filter` whose numbers lie in (`range.afterLine`,
   * `range.upToLine`], in arrival order. Filtered and paged in the database: the cost follows
   * the lines examined, never the whole output. `search` matches a substring ignoring case
   * (ASCII letters on SQLite; as the database's locale folds letters on PostgreSQL).
   */
  readOutput(id: string, filter: OutputFilter, range: OutputRange, limit: number): Promise<OutputLine[]>;
  /** How many lines matching `filter` have numbers in (`range.afterLine`, `range.upToLine`]. */
  countOutput(id: string, filter: OutputFilter, range: OutputRange): Promise<number>;
}

/** Output lines numbered above `afterLine` and at most `upToLine`. */
export interface OutputRange {
  afterLine: number;
  upToLine: number;
}

export type KeySource = 'metric' | 'param' | 'other' | 'tag' | 'system';

export interface KeyListOptions {
  source?: KeySource;
  search?: string;
  after?: { source: KeySource; name: string };
  limit: number;
}

/** A key of a project's catalogue. */
export interface ProjectKey {
  source: KeySource;
  name: string;
  /** Experiments of the project having the key. */
  experiments: number;
  /** Parameters and others: how many of those experiments' current values are of each type. */
  numbers: number;
  strings: number;
  booleans: number;
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

export interface CurrentValue {
  name: string;
  type: LoggedValueType;
  text: string;
  /** The number the text denotes: the number itself, or the epoch ms of an ISO-8601 datetime text. */
  number: number | null;
}

export interface LoggedValueRepository {
  /** Appends values; each gets the next `seq` of the experiment, so "current" = highest seq. */
  append(experimentId: string, kind: ValueKind, values: LoggedValueInput[]): Promise<void>;
  /** The current (last logged) value of each name of that kind, ordered by name. */
  listCurrent(experimentId: string, kind: ValueKind): Promise<CurrentValue[]>;
  /** `listCurrent` for several experiments at once, by experiment id; only `names` when given. */
  listCurrentOf(
    experimentIds: string[],
    kind: ValueKind,
    names?: readonly string[],
  ): Promise<Map<string, CurrentValue[]>>;
  /** Every logged value of that kind, ordered by name then seq. */
  list(experimentId: string, kind: ValueKind): Promise<LoggedValue[]>;
  /**
   * Deletes every value of that kind and name, history and current alike, and takes the key out
   * of the key catalogue counts of the projects listing the experiment. False when there was none.
   */
  remove(experimentId: string, kind: ValueKind, name: string): Promise<boolean>;
}

/** Dataset inputs of experiments (MLflow's `log-inputs`), one per (experiment, name, digest). */
export interface ExperimentInputRepository {
  /**
   * Stores inputs. One whose (experiment, name, digest) is already stored, or repeated earlier in
   * `inputs`, is left out: the first one logged is kept whole, tags included.
   */
  put(inputs: readonly ExperimentInput[]): Promise<void>;
  /** The experiment's inputs in the order first logged (creation time, then name, then digest). */
  list(experimentId: string): Promise<ExperimentInput[]>;
  /** `list` for several experiments at once, by experiment id (an entry for every id asked). */
  listOf(experimentIds: readonly string[]): Promise<Map<string, ExperimentInput[]>>;
}

export interface SeriesReadOptions {
  /** Only points whose step is within [stepFrom, stepTo] (inclusive; points without a step are excluded). */
  stepFrom?: number;
  stepTo?: number;
  /** Skip this many points (in offset order). */
  offset?: number;
  limit?: number;
}

/** A chart read of many series over one x range (see `SeriesRepository.query`). */
export interface SeriesQuery {
  /**
   * The experiments to read, each with its start time, the origin of the `relative` axis. Their
   * permissions are the caller's business, as everywhere in the store.
   */
  experiments: readonly { id: string; startTime: number }[];
  metrics: readonly string[];
  x: SeriesAxis;
  /** Inclusive bounds in x's units; undefined is unbounded on that side. */
  from?: number;
  to?: number;
  /** 1 or more. */
  buckets: number;
}

/** See `SeriesRepository.append`. */
export interface AppendOptions {
  updatedAt?: number;
}

/**
 * Metric series: one series per (experiment, metric name); points of every context live in it
 * and are ordered by `offset`, a per-experiment sequence assigned on append. Summaries are exact
 * and maintained on write.
 */
export interface SeriesRepository {
  /**
   * Appends points atomically and returns the offsets assigned, in input order. With `updatedAt`
   * the experiment's `updatedAt` is set too, as `ExperimentRepository.update` would (a single
   * write then costs one statement fewer); nothing is set when `points` is empty.
   */
  append(experimentId: string, points: MetricPointInput[], options?: AppendOptions): Promise<number[]>;
  /** Summaries of every series of the experiment, ordered by name. */
  listSummaries(experimentId: string): Promise<SeriesSummary[]>;
  /** `listSummaries` for several experiments at once, by experiment id; only `names` when given. */
  listSummariesOf(experimentIds: string[], names?: readonly string[]): Promise<Map<string, SeriesSummary[]>>;
  getSummary(experimentId: string, name: string): Promise<SeriesSummary | undefined>;
  /** Points of one series in offset order. */
  readPoints(experimentId: string, name: string, options?: SeriesReadOptions): Promise<MetricPoint[]>;
  /** The points `readPoints` returns, as columns, with the series' total (0 when it does not exist). */
  readColumns(experimentId: string, name: string, options?: SeriesReadOptions): Promise<MetricColumns>;
  /**
   * At most about 2 × `buckets` points: every point when the series has no more than that,
   * otherwise the lowest and highest point of each of ≤ `buckets` runs of consecutive points
   * (NaN points are never chosen). Reads per-block summaries, never the points themselves, so the
   * cost grows with the series length / 256, not with its points.
   */
  downsample(experimentId: string, name: string, buckets: number): Promise<DownsampledSeries>;
  /**
   * Chart reads: one window per (experiment, metric) pair of the query whose series exists, in
   * the order of `experiments`, then of `metrics` (duplicates in either are read once). Pairs
   * without a series are absent. All series are read from one snapshot.
   *
   * - x is the point's step, epoch, timestamp, or timestamp − the experiment's `startTime`.
   *   Points without that x (no step, no epoch) take no part anywhere, nor in `inRange`. Points
   *   of every context take part.
   * - In range: from ≤ x ≤ to. When `inRange` ≤ `buckets` the window is exact: those points,
   *   ordered by x, then offset.
   * - Otherwise the range [lo, hi] is cut into `buckets` equal parts, with lo = `from` (or the
   *   lowest x in range when `from` is undefined) and hi likewise; a point goes to bucket
   *   ⌊(x − lo) · buckets / (hi − lo)⌋, computed in doubles, the last bucket taking x = hi (every
   *   point goes to bucket 0 when hi = lo). Empty buckets are left out. Per bucket: `first` is
   *   the value of the point lowest in (x, offset) order and `last` of the one highest;
   *   `min`/`max`/`mean` ignore NaN values and are NaN when every value is NaN (`mean` is the
   *   sum of the other values, added in offset order, over their number); `count` counts NaN
   *   values too. Infinities take part like any value (so a mean may be ±Infinity or NaN).
   *   Values are never rounded: `first`, `last`, `min` and `max` are values of logged points.
   * - Cost: sealed blocks whose x extent misses the range are not fetched; decoded blocks are
   *   immutable and may be cached across calls.
   */
  query(query: SeriesQuery): Promise<SeriesWindow[]>;
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
  /**
   * Bytes of the asset files of a workspace's experiments (0 when none): a counter kept by every
   * write that adds, deletes or moves assets (asset insert and delete, experiment delete, an
   * experiment's move to another workspace), in that write's transaction, so reading it costs one
   * row. Inside a transaction it includes that transaction's own changes.
   */
  workspaceBytes(workspaceId: string): Promise<number>;

  /** Returns the named experiment model, creating it when absent. */
  ensureModel(model: ExperimentModel): Promise<ExperimentModel>;
  getModel(experimentId: string, name: string): Promise<ExperimentModel | undefined>;
  listModels(experimentId: string): Promise<ExperimentModel[]>;
  /** The model with this logged-model id (MLflow's `m-<hex>`), in any experiment. */
  getModelByLoggedId(loggedModelId: string): Promise<ExperimentModel | undefined>;
  /**
   * Stores the logged-model fields (loggedModelId, status, modelType, tags, params, step,
   * updatedAt) of the model with `model.id`; a field absent from `model` is cleared. Name,
   * experiment and creation time are not changed.
   */
  updateModel(model: ExperimentModel): Promise<void>;
  /** Removes the model row; its assets are not touched (callers delete them first). */
  deleteModel(experimentId: string, name: string): Promise<void>;
  /**
   * Logged models (models with a logged-model id) of the experiments of the given projects,
   * newest first (creation time descending, then id ascending), `name` filtering exactly, skipping
   * `offset` and returning at most `limit`.
   */
  listLoggedModels(
    projectIds: readonly string[],
    options: { name?: string; offset: number; limit: number },
  ): Promise<ExperimentModel[]>;
  /**
   * Makes the experiment's plain files under a folder the files of a model: every asset with
   * no grouping name and no artifact version whose file name starts with `prefix` + "/" becomes
   * a model-element asset (dir "model-element") grouped under `groupingName`, its file name the
   * rest after that "/". Returns how many assets changed. Does not create the model row.
   */
  regroupUnder(experimentId: string, prefix: string, groupingName: string): Promise<number>;
}

export interface CodePanelRepository {
  insert(panel: CodePanel): Promise<void>;
  get(id: string): Promise<CodePanel | undefined>;
  /** Panels of a workspace, oldest first (creation time, then id); `publicOnly` keeps PUBLIC ones. */
  list(workspaceId: string, publicOnly: boolean): Promise<CodePanel[]>;
  /**
   * Stores a new revision: every field of `panel` except its id, workspace, owner and creation
   * time replaces the stored one.
   */
  update(panel: CodePanel): Promise<void>;
}

export interface DashboardRepository {
  insert(dashboard: Dashboard): Promise<void>;
  get(id: string): Promise<Dashboard | undefined>;
  /** Replaces every field except id, project, creator and creation time. */
  update(dashboard: Dashboard): Promise<void>;
  /**
   * Dashboards of the workspace's projects (only public projects when `publicProjectsOnly`),
   * ordered by creation time, then id.
   */
  listInWorkspace(workspaceId: string, publicProjectsOnly: boolean): Promise<Dashboard[]>;
  /** Clears the default flag of every dashboard of the project except `keepId`. */
  clearProjectDefault(projectId: string, keepId: string): Promise<void>;

  /** Instances of a dashboard ordered by position. */
  listInstances(dashboardId: string): Promise<PanelInstance[]>;
  getInstance(id: string): Promise<PanelInstance | undefined>;
  /**
   * Makes `instances` the dashboard's whole set: instances missing from it are deleted with their
   * viz stores, the others are inserted or get their new position.
   */
  replaceInstances(dashboardId: string, instances: PanelInstance[]): Promise<void>;

  /** The JSON text stored for an instance; undefined when nothing was stored yet. */
  getVizStore(instanceId: string): Promise<string | undefined>;
  /** Replaces the instance's store. */
  putVizStore(instanceId: string, body: string, at: number): Promise<void>;
}

export type OptimizationGoal = 'MIN' | 'MAX';

export interface OptimizationRanking {
  /** Experiments of the optimization in the given workspaces, archived ones included. */
  experimentCount: number;
  /** The best of them on the metric, or undefined when none logged a finite value of it. */
  best?: { experimentId: string; value: number };
}

/**
 * Optimizations are the experiments sharing an `optimizationId` (set by log-other `optimizer_id`).
 */
export interface OptimizationRepository {
  /**
   * Ranks the optimization's experiments in `workspaceIds` by their summary of `metricName`: the
   * series minimum for MIN, the maximum for MAX. NaN-only and infinite extremes take no part.
   * Ties go to the experiment created first, then to the lowest id. Done in one indexed query, so
   * the cost does not grow with the experiments' points.
   */
  rank(
    optimizationId: string,
    workspaceIds: readonly string[],
    metricName: string,
    goal: OptimizationGoal,
  ): Promise<OptimizationRanking>;
}

/** An artifact with figures derived from its versions and their files at read time. */
export interface ArtifactRecord extends Artifact {
  versionsCount: number;
  /** Bytes of the files of all its versions (remote files count 0). */
  sizeInBytes: number;
}

/** A version with its aliases and the bytes of its files, derived at read time. */
export interface ArtifactVersionRecord extends ArtifactVersion {
  /** Aliases naming this version, in byte order. */
  aliases: string[];
  /** Bytes of the version's files (remote files count 0). */
  sizeInBytes: number;
}

export type ArtifactPatch = Partial<
  Pick<Artifact, 'type' | 'description' | 'metadata' | 'tags' | 'isPublic' | 'emoji' | 'updatedAt'>
>;
export type ArtifactVersionPatch = Partial<Pick<ArtifactVersion, 'metadata' | 'tags' | 'updatedAt'>>;

/**
 * Artifacts, their versions and aliases. Sizes and counts are derived from the rows they sum, so
 * they can never drift from the files (assets) they describe, whichever way those go.
 */
export interface ArtifactRepository {
  insert(artifact: Artifact): Promise<void>;
  get(id: string): Promise<ArtifactRecord | undefined>;
  getByName(workspaceId: string, name: string): Promise<ArtifactRecord | undefined>;
  /** Artifacts of a workspace ordered by name (byte order); `type` filters by exact type. */
  list(workspaceId: string, type?: string): Promise<ArtifactRecord[]>;
  update(id: string, patch: ArtifactPatch): Promise<void>;
  /**
   * Sets `updatedAt`; returns false when there is no such artifact. Inside a transaction this takes
   * the artifact's row lock, which serialises version creation and alias moves on PostgreSQL.
   */
  touch(id: string, at: number): Promise<boolean>;

  insertVersion(version: ArtifactVersion): Promise<void>;
  getVersion(id: string): Promise<ArtifactVersionRecord | undefined>;
  /** Versions of an artifact in creation order (time, then id); semver order is the core's business. */
  listVersions(artifactId: string): Promise<ArtifactVersionRecord[]>;
  updateVersion(id: string, patch: ArtifactVersionPatch): Promise<void>;
  /**
   * Moves an OPEN version to `state`, atomically: returns false (and changes nothing) when the
   * version is absent or no longer OPEN, so two concurrent closes cannot both succeed.
   */
  closeVersion(id: string, state: 'CLOSED' | 'ERROR', at: number): Promise<boolean>;
  /**
   * Touches the version if it is OPEN; false when absent or not OPEN. Inside a transaction the
   * row lock it takes makes a concurrent `closeVersion` wait for that transaction.
   */
  lockOpenVersion(id: string, at: number): Promise<boolean>;
  /**
   * Makes `aliases` exactly the aliases of the version. An alias names one version per artifact,
   * so one held by another version of the artifact moves to this one.
   */
  setAliases(artifactId: string, versionId: string, aliases: readonly string[]): Promise<void>;
  /** The version's files: assets carrying its id, by creation time then id. */
  listFiles(versionId: string): Promise<Asset[]>;
}

/**
 * Table artifacts' metadata; their rows live in the blob store under `blobKey`. A table is named
 * by (experiment, name); names compare bytewise, as everywhere.
 */
export interface ArtifactTableRepository {
  get(experimentId: string, name: string): Promise<ArtifactTable | undefined>;
  /** The experiment's tables ordered by name (bytewise), without their row indexes. */
  list(experimentId: string): Promise<ArtifactTableInfo[]>;
  /** `list` for several experiments at once, by experiment id. */
  listOf(experimentIds: readonly string[]): Promise<Map<string, ArtifactTableInfo[]>>;
  /**
   * Inserts the table, or replaces every field of the one with the same (experiment, name) except
   * its `createdAt`, which is kept.
   */
  put(table: ArtifactTable): Promise<void>;
  /** Returns false when there was no such table. */
  delete(experimentId: string, name: string): Promise<boolean>;
}

/**
 * The streams of client batches that are deduplicated apart from each other.
 * `metric`, `parameter`, `output`: comet_ml's clientlib batches (content-hash keys);
 * `cairn-*`: Idempotency-Key values of Cairn's API, one stream per endpoint (bulk metrics,
 * parameters, others, tags, output), so one key may name a batch on each of them.
 */
export type ClientStream =
  | 'metric'
  | 'parameter'
  | 'output'
  | 'cairn-metrics'
  | 'cairn-params'
  | 'cairn-others'
  | 'cairn-tags'
  | 'cairn-output';

/**
 * Exactly-once logging under client retries. A client (or the facade on its behalf) names each
 * batch it sends with a key that a replay of the same batch repeats; the service records the key
 * in the transaction that stores the batch, and a batch whose key is already recorded for the
 * experiment and stream is acknowledged without being stored again. Keys are kept for the life
 * of the experiment: a replay may come after a server restart, long after the first attempt.
 */
export interface ClientBatchRepository {
  /**
   * Records `batchKey` for the experiment and stream. True when this call recorded it, false when
   * it was recorded before (a replay). Inside a transaction the record commits or rolls back with
   * the data it guards; on PostgreSQL a concurrent transaction recording the same key waits for
   * this one and then returns false (or true, if this one rolled back).
   */
  markApplied(experimentId: string, stream: ClientStream, batchKey: string, at: number): Promise<boolean>;
  /** The highest client offset among the experiment's output lines; 0 when none carries one. */
  lastOutputOffset(experimentId: string): Promise<number>;
}
