import { CairnError } from './core/errors.js';
import { HttpClient, LevelLogger, type Logger, type LogLevel, type RequestOptions } from './core/http.js';
import { RetryQuota } from './core/retry.js';
import type { Platform } from './platform/platform.js';
import { type ArtifactsResource, artifactsResource } from './resources/artifacts.js';
import { type AuditResource, auditResource } from './resources/audit.js';
import {
  createWithOwnKey,
  type EventsResource,
  type ExperimentsResource,
  eventsResource,
  experimentsResource,
} from './resources/experiments.js';
import {
  type AssetsResource,
  assetsResource,
  type DocumentsResource,
  documentsResource,
  type GitPatchResource,
  gitPatchResource,
  type ModelsResource,
  modelsResource,
  type OutputResource,
  outputResource,
  type TagsResource,
  tagsResource,
  type ValuesResource,
  valuesResource,
} from './resources/logged.js';
import { type MetricsResource, metricsResource, type SeriesResource, seriesResource } from './resources/metrics.js';
import {
  me,
  type ProjectsResource,
  projectsResource,
  type WorkspacesResource,
  workspacesResource,
} from './resources/projects.js';
import { type RegistryResource, registryResource } from './resources/registry.js';
import {
  type ApiKeysResource,
  apiKeysResource,
  type SessionsResource,
  sessionsResource,
} from './resources/sessions.js';
import { type TablesResource, tablesResource, type WebhooksResource, webhooksResource } from './resources/tables.js';
import type { Me } from './types.js';
import { type AssetOptions, type AssetSource, Run, type WriterOptions } from './writer/run.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
const API_PATH = '/api/cairn/v1';

export interface ClientOptions {
  /** The server: `$CAIRN_URL`, else http://127.0.0.1:8080. A URL ending in /api/cairn/v1 is fine too. */
  url?: string | undefined;
  /** `$CAIRN_API_KEY` unless given. */
  apiKey?: string | undefined;
  /** A fetch to use instead of the global one (a proxy agent, a test double, an instrumented fetch). */
  fetch?: typeof fetch;
  /** Per-attempt limit of a call, ms (default 60 s). */
  timeout?: number;
  /** Limit of a call with all its retries and waits, ms (default none). */
  totalTimeout?: number;
  /** Retries of a call after its first attempt (default 2). Background batches retry without limit. */
  maxRetries?: number;
  /** Longest Retry-After obeyed as asked; longer ones wait this long (default 60 s). */
  maxRetryAfterMs?: number;
  /** Backoff of calls: first delay bound and cap, ms (default 500 ms, 8 s). */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Tokens of the client-wide retry quota (default 500; a retry costs 5, after a timeout 10). */
  retryQuota?: number;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** Where the SDK reports (default console), and from which level (default warn). */
  logger?: Logger;
  logLevel?: LogLevel;
  /** Defaults for the runs of this client (startExperiment, attach). */
  writer?: Partial<WriterOptions>;
}

export interface StartExperimentParams extends Partial<WriterOptions> {
  /** `$CAIRN_WORKSPACE` unless given, else the key owner's default workspace. */
  workspace?: string;
  project: string;
  name?: string;
  /** The experiment key (32–50 letters and digits); generated unless given. */
  key?: string;
  /**
   * Do not wait for the server: the key is generated here, logging starts at once and the
   * experiment is created by the first request of the run's stream (offline runs always are).
   */
  lazy?: boolean;
  /** This writer's id in the spool path and batch keys (default: a new UUID). */
  writerId?: string;
}

export interface AttachOptions extends Partial<WriterOptions> {
  /** This writer's id (default: a new UUID). Never give two live processes the same one. */
  writerId?: string;
  /** Also beat for the experiment and mark it ended at `end()` (default false: the starter does). */
  primary?: boolean;
}

const WRITER_DEFAULTS: WriterOptions = {
  mode: 'online',
  maxBatchPoints: 25_000,
  maxBatchBytes: 8 * 1024 * 1024,
  flushIntervalMs: 1_000,
  maxBufferedPoints: 2_000_000,
  overflow: 'drop-oldest',
  gzip: true,
  spool: true,
  spoolDir: undefined,
  heartbeatIntervalMs: 10_000,
  exitHandlers: true,
  endTimeoutMs: 30_000,
  exitTimeoutMs: 10_000,
  retryBaseDelayMs: 250,
  retryMaxDelayMs: 10_000,
};

/** 32 hex digits: experiment keys, asset ids, multipart boundaries. */
function newHexId(): string {
  return crypto.randomUUID().replace(/-/g, '');
}

/**
 * The Cairn client. Resource namespaces read and manage everything (`cairn.experiments(...)`,
 * `cairn.series(key, name)`, `cairn.assets.upload(...)`, …); `startExperiment()` and `attach()`
 * give runs that log.
 */
export class CairnClient {
  readonly baseURL: string;
  /** @internal The transport; resources share it. */
  readonly http: HttpClient;
  readonly workspaces: WorkspacesResource;
  readonly projects: ProjectsResource;
  readonly experiments: ExperimentsResource;
  readonly metrics: MetricsResource;
  readonly series: SeriesResource;
  readonly params: ValuesResource;
  readonly others: ValuesResource;
  readonly tags: TagsResource;
  readonly documents: DocumentsResource;
  readonly gitPatch: GitPatchResource;
  readonly output: OutputResource;
  readonly assets: AssetsResource;
  readonly models: ModelsResource;
  readonly tables: TablesResource;
  readonly webhooks: WebhooksResource;
  readonly sessions: SessionsResource;
  readonly apiKeys: ApiKeysResource;
  /** The audit log, for administrators. */
  readonly audit: AuditResource;
  readonly events: EventsResource;
  readonly registry: RegistryResource;
  readonly artifacts: ArtifactsResource;

  private readonly platform: Platform;
  private readonly log: LevelLogger;
  private readonly quota: RetryQuota;
  private readonly writerDefaults: WriterOptions;
  private readonly maxRetryAfterMs: number;

  constructor(options: ClientOptions, platform: Platform) {
    this.platform = platform;
    const url = (options.url ?? platform.env('CAIRN_URL') ?? DEFAULT_URL).replace(/\/+$/, '');
    this.baseURL = url.endsWith(API_PATH) ? url : `${url}${API_PATH}`;
    const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
    if (!fetchImpl) throw new CairnError('no fetch: pass options.fetch');
    this.log = new LevelLogger(options.logger ?? console, options.logLevel ?? 'warn');
    this.quota = new RetryQuota(options.retryQuota ?? 500);
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.http = new HttpClient({
      baseUrl: this.baseURL,
      apiKey: options.apiKey ?? platform.env('CAIRN_API_KEY'),
      fetch: fetchImpl,
      // A fetch of the caller's own is used for everything, streamed uploads included.
      streamFetch: options.fetch ? fetchImpl : (platform.streamFetch ?? fetchImpl),
      timeout: options.timeout ?? 60_000,
      totalTimeout: options.totalTimeout,
      maxRetries: options.maxRetries ?? 2,
      backoff: {
        baseDelayMs: options.retryBaseDelayMs ?? 500,
        maxDelayMs: options.retryMaxDelayMs ?? 8_000,
        maxRetryAfterMs: this.maxRetryAfterMs,
      },
      quota: this.quota,
      headers: { 'x-cairn-client': 'cairn-sdk-ts/0.1.0', ...options.headers },
      log: this.log,
      newId: newHexId,
    });
    const spoolDir = platform.env('CAIRN_SPOOL_DIR') || undefined;
    this.writerDefaults = { ...WRITER_DEFAULTS, spoolDir, ...options.writer };
    this.workspaces = workspacesResource(this.http);
    this.projects = projectsResource(this.http);
    this.experiments = experimentsResource(this.http);
    this.metrics = metricsResource(this.http);
    this.series = seriesResource(this.http, this.metrics);
    this.params = valuesResource(this.http, 'params');
    this.others = valuesResource(this.http, 'others');
    this.tags = tagsResource(this.http);
    this.documents = documentsResource(this.http);
    this.gitPatch = gitPatchResource(this.http);
    this.output = outputResource(this.http);
    this.assets = assetsResource(this.http, platform, newHexId);
    this.models = modelsResource(this.http);
    this.tables = tablesResource(this.http);
    this.webhooks = webhooksResource(this.http);
    this.sessions = sessionsResource(this.http);
    this.apiKeys = apiKeysResource(this.http);
    this.audit = auditResource(this.http);
    this.events = eventsResource(this.http, this.log);
    this.registry = registryResource(this.http);
    this.artifacts = artifactsResource(this.http);
  }

  /** Who the API key belongs to, its default workspace and scopes. */
  me(options?: RequestOptions): Promise<Me> {
    return me(this.http, options);
  }

  /**
   * Creates an experiment and returns the run that logs to it. With `lazy` (or offline) nothing
   * waits for the server: the experiment is created by the run's first request.
   */
  async startExperiment(params: StartExperimentParams, options?: RequestOptions): Promise<Run> {
    const { workspace: givenWorkspace, project, name, key: givenKey, lazy, writerId, ...overrides } = params;
    const writer = this.writerOptions(overrides);
    const key = givenKey ?? newHexId();
    const deferred = lazy === true || writer.mode === 'offline';
    let workspace = givenWorkspace ?? this.platform.env('CAIRN_WORKSPACE');
    if (!workspace) {
      if (deferred) throw new CairnError('a lazy or offline start needs a workspace (or $CAIRN_WORKSPACE)');
      workspace = (await this.me(options)).defaultWorkspace ?? undefined;
      if (!workspace) throw new CairnError('the API key has no default workspace: pass one');
    }
    const init = {
      key,
      writerId: writerId ?? crypto.randomUUID(),
      primary: true,
      options: writer,
    };
    if (deferred) {
      return new Run(this.runContext(), {
        ...init,
        experiment: undefined,
        create: { workspace, project, name: name ?? null, startTime: Date.now() },
        clockOffsetMs: 0,
      });
    }
    const sent = Date.now();
    const experiment = givenKey
      ? await this.experiments.create(workspace, project, { key, ...(name ? { name } : {}) }, options)
      : await createWithOwnKey(this.experiments, workspace, project, key, name ?? null, options);
    // The server stamped startTime between sending and answering: about the middle of the two here.
    const clockOffsetMs = Math.round(experiment.startTime - (sent + Date.now()) / 2);
    return new Run(this.runContext(), { ...init, experiment, create: undefined, clockOffsetMs });
  }

  /**
   * A writer for an existing experiment, e.g. in another process or rank: no network at all until
   * it has something to send. Each writer has its own id; batches of all writers are exact.
   */
  attach(key: string, options: AttachOptions = {}): Run {
    const { writerId, primary, ...overrides } = options;
    return new Run(this.runContext(), {
      key,
      writerId: writerId ?? crypto.randomUUID(),
      primary: primary ?? false,
      experiment: undefined,
      create: undefined,
      clockOffsetMs: 0,
      options: this.writerOptions(overrides),
    });
  }

  private writerOptions(overrides: Partial<WriterOptions>): WriterOptions {
    const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
    return { ...this.writerDefaults, ...defined };
  }

  private runContext() {
    return {
      http: this.http,
      platform: this.platform,
      log: this.log,
      quota: this.quota,
      maxRetryAfterMs: this.maxRetryAfterMs,
      newId: newHexId,
      uploadAsset: (key: string, source: AssetSource, options: AssetOptions & { id: string }) =>
        this.assets.upload(key, source, options),
    };
  }
}
