import type { Clock } from './clock.port.js';
import type { ArtifactTableInfo, Experiment, Project, SeriesSummary } from './entities.js';
import type { ExperimentCondition, ExperimentSearch, SortPosition } from './experiment-query.js';
import { HEARTBEAT_TIMEOUT_MILLIS, type RunState, runState } from './experiments.service.js';
import { type Principal, requireScope } from './principal.js';
import type { ProjectRef, ProjectsService } from './projects.service.js';
import type { CurrentValue, ProjectColumns, Store } from './store.port.js';

/** Everything a search result shows of one experiment. */
export interface ExperimentRecord {
  experiment: Experiment;
  run: RunState;
  /** Current value of each parameter, by name. */
  parameters: CurrentValue[];
  /** Every series with its exact summary (system metrics included), by name. */
  series: SeriesSummary[];
  tags: string[];
  /** The branch of the logged git metadata (a `refs/heads/` ref as its branch name), if any. */
  gitBranch: string | null;
  /** The newest registry version made from one of its models (Foundry's linkedModelVersion). */
  registryVersionId: string | null;
  /** Its table artifacts, by name. */
  tables: ArtifactTableInfo[];
}

export type SearchOptions = Omit<ExperimentSearch, 'projectId' | 'now' | 'heartbeatTimeoutMs'>;

/** Searching a project's experiments: the one query core behind Comet's project query and Foundry's search. */
export class ExperimentQueryService {
  constructor(
    private readonly store: Store,
    private readonly projects: ProjectsService,
    private readonly clock: Clock,
  ) {}

  /** Keys of the matching experiments, in the requested order and page. */
  async search(principal: Principal, ref: ProjectRef, options: SearchOptions): Promise<string[]> {
    requireScope(principal, 'read');
    const { project } = await this.projects.findReadable(this.store, principal, ref);
    return this.searchIn(project, options);
  }

  /**
   * One keyset page of the experiments of several projects (MLflow's runs/search over several
   * experiments), with the store's searchPage semantics: the rows after `after`, each with the
   * position that continues the listing. Every project must be readable by the caller, else the
   * search is a NotFoundError as for one project (another tenant's ids are reported as absent);
   * no project means an empty page.
   */
  async searchPageAcross(
    principal: Principal,
    projectIds: readonly string[],
    options: SearchOptions,
    after?: SortPosition,
  ): Promise<{ key: string; position: SortPosition }[]> {
    requireScope(principal, 'read');
    const readable: string[] = [];
    for (const projectId of new Set(projectIds)) {
      readable.push((await this.projects.findReadable(this.store, principal, { projectId })).project.id);
    }
    return this.store.experiments.searchPage(
      { ...options, projectId: readable, now: this.clock.now(), heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MILLIS },
      after,
    );
  }

  /** The readable project a reference names (for facades that show project ids alongside). */
  async project(principal: Principal, ref: ProjectRef): Promise<Project> {
    requireScope(principal, 'read');
    return (await this.projects.findReadable(this.store, principal, ref)).project;
  }

  /**
   * One experiment of the project (home or symlinked) with what a search result shows;
   * undefined when the project holds no such experiment.
   */
  async record(principal: Principal, ref: ProjectRef, key: string): Promise<ExperimentRecord | undefined> {
    const project = await this.project(principal, ref);
    const found = await this.searchIn(project, {
      where: {
        kind: 'test',
        field: { source: 'attribute', name: 'key' },
        test: { as: 'string', op: 'eq', value: key },
      },
    });
    return found.length === 0 ? undefined : (await this.records(found))[0];
  }

  /** Search results as records, in the search's order. */
  async searchRecords(principal: Principal, ref: ProjectRef, options: SearchOptions): Promise<ExperimentRecord[]> {
    return this.records(await this.search(principal, ref, options));
  }

  private searchIn(project: Project, options: SearchOptions): Promise<string[]> {
    return this.store.experiments.search({
      ...options,
      projectId: project.id,
      now: this.clock.now(),
      heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MILLIS,
    });
  }

  /** Records of several experiments with one query per table, not per experiment. */
  private async records(keys: string[]): Promise<ExperimentRecord[]> {
    const now = this.clock.now();
    // Deleted between the search and this read: left out.
    const experiments = await this.store.experiments.getMany(keys);
    const ids = experiments.map((e) => e.id);
    const [gits, parameters, series, tags, versions, tables] = await Promise.all([
      this.store.experiments.getDocumentsOf(ids, 'git-metadata'),
      this.store.values.listCurrentOf(ids, 'param'),
      this.store.series.listSummariesOf(ids),
      this.store.experiments.listTagsOf(ids),
      this.store.registry.latestVersionOfExperiments(ids),
      this.store.artifactTables.listOf(ids),
    ]);
    return experiments.map((experiment) => {
      const git = gits.get(experiment.id);
      const branch = git ? (JSON.parse(git) as { branch?: unknown }).branch : undefined;
      return {
        experiment,
        run: runState(experiment, now),
        parameters: parameters.get(experiment.id) ?? [],
        series: series.get(experiment.id) ?? [],
        tags: tags.get(experiment.id) ?? [],
        gitBranch: typeof branch === 'string' && branch !== '' ? branch.replace(/^refs\/heads\//, '') : null,
        registryVersionId: versions.get(experiment.id) ?? null,
        tables: tables.get(experiment.id) ?? [],
      };
    });
  }

  /**
   * Comet's project query: the keys matching `where` among archived or active experiments, and
   * how many experiments of that archived state the project holds in all.
   */
  async queryProject(
    principal: Principal,
    ref: ProjectRef,
    where: ExperimentCondition,
    archived: boolean,
  ): Promise<{ keys: string[]; experimentsInProject: number }> {
    requireScope(principal, 'read');
    const { project } = await this.projects.findReadable(this.store, principal, ref);
    const keys = await this.store.experiments.search({
      projectId: project.id,
      archived,
      where,
      now: this.clock.now(),
      heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MILLIS,
    });
    return { keys, experimentsInProject: await this.store.experiments.countInProject(project.id, archived) };
  }

  async projectColumns(principal: Principal, ref: ProjectRef, archived?: boolean): Promise<ProjectColumns> {
    requireScope(principal, 'read');
    const { project } = await this.projects.findReadable(this.store, principal, ref);
    return this.store.experiments.listProjectColumns(project.id, archived);
  }
}
