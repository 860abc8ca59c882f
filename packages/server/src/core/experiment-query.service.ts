import type { Clock } from './clock.port.js';
import type { ExperimentCondition, ExperimentSearch } from './experiment-query.js';
import { HEARTBEAT_TIMEOUT_MILLIS } from './experiments.service.js';
import { type Principal, requireScope } from './principal.js';
import type { ProjectRef, ProjectsService } from './projects.service.js';
import type { ProjectColumns, Store } from './store.port.js';

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
    return this.store.experiments.search({
      ...options,
      projectId: project.id,
      now: this.clock.now(),
      heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MILLIS,
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
