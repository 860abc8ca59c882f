import type { ExperimentsService } from './experiments.service.js';
import type { LiveDelivery, LiveEventBus, LiveSubscription } from './live-events.port.js';
import { type Principal, requireScope } from './principal.js';
import type { ProjectRef, ProjectsService } from './projects.service.js';
import type { Store } from './store.port.js';

/**
 * Following changes live: the caller's right to read is checked once, when the subscription
 * starts (an experiment or a project the caller cannot read is "not found"); from then on the
 * subscription receives every event of what it follows.
 */
export class LiveEventsService {
  constructor(
    private readonly store: Store,
    private readonly experiments: ExperimentsService,
    private readonly projects: ProjectsService,
    private readonly bus: LiveEventBus,
  ) {}

  /** One experiment's events, wherever it is moved to; `after` resumes (see LiveEventBus.subscribe). */
  async followExperiment(
    principal: Principal,
    key: string,
    after: string | undefined,
    listener: (delivery: LiveDelivery) => void,
  ): Promise<LiveSubscription> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    return this.bus.subscribe({ projectId: experiment.projectId, experimentId: experiment.id }, after, listener);
  }

  /** The events of every experiment whose home is the project, new ones included. */
  async followProject(
    principal: Principal,
    ref: ProjectRef,
    after: string | undefined,
    listener: (delivery: LiveDelivery) => void,
  ): Promise<LiveSubscription> {
    requireScope(principal, 'read');
    const { project } = await this.projects.findReadable(this.store, principal, ref);
    return this.bus.subscribe({ projectId: project.id }, after, listener);
  }
}
