import { ArtifactTablesService } from './artifact-tables.service.js';
import { ArtifactsService } from './artifacts.service.js';
import { AssetsService } from './assets.service.js';
import { AuditService } from './audit.service.js';
import { AuthService } from './auth.service.js';
import type { BlobStore } from './blob.port.js';
import { BlobSweeper, type BlobSweepOptions } from './blob-sweep.service.js';
import { ChartsService } from './charts.service.js';
import { type Clock, systemClock } from './clock.port.js';
import { DashboardsService } from './dashboards.service.js';
import { ExperimentQueryService } from './experiment-query.service.js';
import { ExperimentTableService } from './experiment-table.service.js';
import { ExperimentsService } from './experiments.service.js';
import { FileTreeService } from './file-tree.service.js';
import { InProcessLiveEvents } from './in-process-live-events.js';
import type { LiveEventBus } from './live-events.port.js';
import { LiveEventsService } from './live-events.service.js';
import { LiveRunsService } from './live-runs.service.js';
import { LoggedModelsService } from './logged-models.service.js';
import { MetricsService } from './metrics.service.js';
import { ModelRegistryService } from './model-registry.service.js';
import { OptimizerService } from './optimizer.service.js';
import { MAX_PANEL_ZIP_BYTES, PanelsService } from './panels.service.js';
import { PrincipalCache } from './principal-cache.js';
import { ProjectsService } from './projects.service.js';
import { PointsRateLimit, type RateLimitSettings } from './rate-limit.js';
import { RegistryService } from './registry.service.js';
import { RunsService } from './runs.service.js';
import { SessionsService } from './sessions.service.js';
import type { Store } from './store.port.js';
import { WebhookDispatcher, type WebhookDispatchOptions } from './webhook-dispatcher.js';
import type { WebhookSender } from './webhook-sender.port.js';
import { WebhooksService } from './webhooks.service.js';

export interface CoreLimits {
  /** Largest asset or git patch accepted, in bytes. */
  maxAssetBytes: number;
  /** Most bytes of asset files (assets, artifact and model files) per workspace; 0 or absent = no quota. */
  workspaceQuotaBytes?: number;
}

export interface Core {
  store: Store;
  auth: AuthService;
  /** Reading the audit log of administrative actions. */
  audit: AuditService;
  /** Browser sessions of the web UI and sign-in links. */
  sessions: SessionsService;
  projects: ProjectsService;
  experiments: ExperimentsService;
  queries: ExperimentQueryService;
  /** Cairn's experiment table (query language, any-column sort, keyset pages) and key catalogue. */
  table: ExperimentTableService;
  metrics: MetricsService;
  /** MLflow's tracking rules (runs, params, tags, metric logging and history). */
  runs: RunsService;
  charts: ChartsService;
  assets: AssetsService;
  /** Assets as a tree of paths (MLflow's artifacts). */
  files: FileTreeService;
  /** MLflow 3's logged models (experiment models with an `m-<hex>` id). */
  loggedModels: LoggedModelsService;
  artifacts: ArtifactsService;
  artifactTables: ArtifactTablesService;
  limits: CoreLimits;
  panels: PanelsService;
  dashboards: DashboardsService;
  optimizer: OptimizerService;
  registry: RegistryService;
  /** The same registry as MLflow clients address it: exact names, version numbers, aliases, tags. */
  modelRegistry: ModelRegistryService;
  webhooks: WebhooksService;
  /** Delivers the webhook log; the server's composition root starts and stops it. */
  webhookDispatcher: WebhookDispatcher;
  /** Deletes blobs no row refers to; the server's composition root starts and stops it. */
  blobSweeper: BlobSweeper;
  liveRuns: LiveRunsService;
  /** Subscriptions to live events (the bus itself is `events`). */
  live: LiveEventsService;
  events: LiveEventBus;
}

/** An hour either way: far longer than any gap between an upload's last byte and its row's commit. */
export const DEFAULT_BLOB_SWEEP_OPTIONS: BlobSweepOptions = {
  graceMillis: 60 * 60 * 1000,
  intervalMillis: 60 * 60 * 1000,
};

/** Outbound webhooks: the HTTP sender (outside the core) and the retry schedule. */
export interface WebhookDeps {
  sender: WebhookSender;
  options?: Partial<WebhookDispatchOptions>;
}

/** Stands in where nothing sends webhooks (one-shot CLI commands, tests that never start the dispatcher). */
const noWebhookSender: WebhookSender = {
  send: () => Promise.reject(new Error('no webhook sender is configured')),
};

export function createCore(deps: {
  store: Store;
  blobs: BlobStore;
  limits: CoreLimits;
  clock?: Clock;
  webhooks?: WebhookDeps;
  /** Defaults to an in-process bus: one server process. */
  events?: LiveEventBus;
  /** How long a browser session lives (DEFAULT_SESSION_TTL_MILLIS unless given). */
  sessionTtlMillis?: number;
  /** Metric points per second each API key may log; unlimited when absent. */
  pointsRateLimit?: RateLimitSettings;
  /** The blob sweep's grace period and interval (DEFAULT_BLOB_SWEEP_OPTIONS unless given). */
  blobSweep?: Partial<BlobSweepOptions>;
}): Core {
  const clock = deps.clock ?? systemClock;
  const events = deps.events ?? new InProcessLiveEvents();
  // The store's security epoch tells this node of changes made through other nodes and the CLI.
  const principals = new PrincipalCache(clock, () => deps.store.tenancy.securityEpoch());
  const projects = new ProjectsService(deps.store, deps.blobs, clock, principals);
  const experiments = new ExperimentsService(deps.store, deps.blobs, projects, clock, events);
  const pointsLimit = new PointsRateLimit(deps.pointsRateLimit, clock);
  const metrics = new MetricsService(deps.store, experiments, clock, events, pointsLimit);
  const webhookDispatcher = new WebhookDispatcher(
    deps.store,
    deps.webhooks?.sender ?? noWebhookSender,
    clock,
    deps.webhooks?.options,
  );
  const webhooks = new WebhooksService(deps.store, clock, webhookDispatcher);
  const assets = new AssetsService(
    deps.store,
    deps.blobs,
    experiments,
    clock,
    deps.limits.maxAssetBytes,
    events,
    deps.limits.workspaceQuotaBytes ?? 0,
  );
  const files = new FileTreeService(deps.store, assets, experiments, clock);
  // Uploads above the asset limit are cut short by the HTTP layer, so that limit bounds panels too.
  const panels = new PanelsService(
    deps.store,
    deps.blobs,
    clock,
    Math.min(MAX_PANEL_ZIP_BYTES, deps.limits.maxAssetBytes),
  );
  return {
    store: deps.store,
    auth: new AuthService(deps.store, clock, principals),
    audit: new AuditService(deps.store),
    sessions: new SessionsService(deps.store, clock, principals, deps.sessionTtlMillis),
    projects,
    experiments,
    queries: new ExperimentQueryService(deps.store, projects, clock),
    table: new ExperimentTableService(deps.store, projects, clock),
    metrics,
    runs: new RunsService(deps.store, projects, experiments, clock, events, pointsLimit),
    charts: new ChartsService(experiments, metrics),
    assets,
    files,
    loggedModels: new LoggedModelsService(deps.store, experiments, files, clock),
    artifacts: new ArtifactsService(deps.store, experiments, clock),
    artifactTables: new ArtifactTablesService(deps.store, deps.blobs, experiments, clock, deps.limits.maxAssetBytes),
    limits: deps.limits,
    panels,
    dashboards: new DashboardsService(deps.store, projects, panels, clock),
    optimizer: new OptimizerService(deps.store),
    registry: new RegistryService(deps.store, experiments, webhooks, clock),
    modelRegistry: new ModelRegistryService(deps.store, webhooks, clock),
    webhooks,
    webhookDispatcher,
    blobSweeper: new BlobSweeper(deps.store, deps.blobs, clock, { ...DEFAULT_BLOB_SWEEP_OPTIONS, ...deps.blobSweep }),
    liveRuns: new LiveRunsService(deps.store, experiments, clock),
    live: new LiveEventsService(deps.store, experiments, projects, events),
    events,
  };
}
