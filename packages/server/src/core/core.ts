import { ArtifactTablesService } from './artifact-tables.service.js';
import { AssetsService } from './assets.service.js';
import { AuthService } from './auth.service.js';
import type { BlobStore } from './blob.port.js';
import { ChartsService } from './charts.service.js';
import { type Clock, systemClock } from './clock.port.js';
import { ExperimentQueryService } from './experiment-query.service.js';
import { ExperimentsService } from './experiments.service.js';
import { MetricsService } from './metrics.service.js';
import { PrincipalCache } from './principal-cache.js';
import { ProjectsService } from './projects.service.js';
import type { Store } from './store.port.js';

export interface CoreLimits {
  /** Largest asset or git patch accepted, in bytes. */
  maxAssetBytes: number;
}

export interface Core {
  store: Store;
  auth: AuthService;
  projects: ProjectsService;
  experiments: ExperimentsService;
  queries: ExperimentQueryService;
  metrics: MetricsService;
  charts: ChartsService;
  assets: AssetsService;
  artifactTables: ArtifactTablesService;
  limits: CoreLimits;
}

export function createCore(deps: { store: Store; blobs: BlobStore; limits: CoreLimits; clock?: Clock }): Core {
  const clock = deps.clock ?? systemClock;
  const principals = new PrincipalCache(clock);
  const projects = new ProjectsService(deps.store, deps.blobs, clock, principals);
  const experiments = new ExperimentsService(deps.store, deps.blobs, projects, clock);
  const metrics = new MetricsService(deps.store, experiments, clock);
  return {
    store: deps.store,
    auth: new AuthService(deps.store, clock, principals),
    projects,
    experiments,
    queries: new ExperimentQueryService(deps.store, projects, clock),
    metrics,
    charts: new ChartsService(experiments, metrics),
    assets: new AssetsService(deps.store, deps.blobs, experiments, clock, deps.limits.maxAssetBytes),
    artifactTables: new ArtifactTablesService(deps.store, deps.blobs, experiments, clock, deps.limits.maxAssetBytes),
    limits: deps.limits,
  };
}
