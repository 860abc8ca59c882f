import type { Clock } from './clock.port.js';
import type { MetricPointInput } from './entities.js';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, SdkErrorCode } from './errors.js';
import { type ExperimentsService, type ExperimentView, OTHER_NAME } from './experiments.service.js';
import { hidden, type Principal, requireScope } from './principal.js';
import type { Store } from './store.port.js';

/**
 * Where a run goes when its client names no project: Comet's default project, which its UI shows
 * as "Uncategorized".
 */
export const DEFAULT_PROJECT_NAME = 'general';

/** A run a live client logs to, as its handshake reports it. */
export interface RunSession {
  view: ExperimentView;
  /**
   * The client's message counter continues after this: the highest client offset stored for the
   * run (its output lines carry them); 0 for a new run.
   */
  lastOffset: number;
}

/**
 * Live runs: a logging client (comet_ml's `Experiment`, `ExistingExperiment`, `comet upload`)
 * opens a session on a run whose key it chose itself, then streams to it. The streaming writes
 * are the experiments' and metrics' own, made exactly-once by batch keys.
 */
export class LiveRunsService {
  constructor(
    private readonly store: Store,
    private readonly experiments: ExperimentsService,
    private readonly clock: Clock,
  ) {}

  /**
   * Starts a new run under the client's key, in the named workspace (the caller's default when
   * null) and project (DEFAULT_PROJECT_NAME when null), created when missing. A key in use is
   * "already exists" (90999), unless `getOrCreate`: then that run is resumed.
   */
  async start(
    principal: Principal,
    input: { key: string | null; workspaceName: string | null; projectName: string | null; getOrCreate: boolean },
  ): Promise<RunSession> {
    requireScope(principal, 'write');
    if (!input.key) {
      throw new InvalidArgumentError('experimentKey is required', SdkErrorCode.experimentKeyNotSpecified);
    }
    const workspaceName = input.workspaceName || (await this.defaultWorkspaceName(principal));
    const projectName = input.projectName || DEFAULT_PROJECT_NAME;
    try {
      const view = await this.experiments.create(principal, { workspaceName, projectName, experimentKey: input.key });
      return { view, lastOffset: 0 };
    } catch (error) {
      if (input.getOrCreate && error instanceof AlreadyExistsError) return this.resume(principal, input.key);
      throw error;
    }
  }

  /** Opens a session on an existing run the caller may write to. */
  async resume(principal: Principal, key: string): Promise<RunSession> {
    requireScope(principal, 'write');
    await this.experiments.writable(this.store, principal, key);
    const view = await this.experiments.get(principal, key);
    return { view, lastOffset: await this.experiments.lastClientOffset(principal, key) };
  }

  /**
   * Starts run `newKey` in the project of run `fromKey` with a copy of what `fromKey` logged up to
   * step `lastStep`: metric points with a step ≤ lastStep (points without a step cannot be
   * placed and stay behind), and parameters and others with no step or a step ≤ lastStep. Assets,
   * output and tags are not copied. All in one transaction: the new run exists complete or not at all.
   */
  async copySteps(principal: Principal, fromKey: string, newKey: string, lastStep: number): Promise<RunSession> {
    requireScope(principal, 'write');
    if (!Number.isSafeInteger(lastStep)) throw new InvalidArgumentError('stepToCopyTo must be an integer');
    await this.store.transaction(async (tx) => {
      const source = await this.experiments.readable(tx, principal, fromKey);
      const project = await tx.projects.get(source.projectId);
      const workspace = await tx.tenancy.getWorkspace(source.workspaceId);
      if (!project || !workspace) throw hidden('experiment');
      const id = await this.experiments.insert(tx, principal, {
        workspaceName: workspace.name,
        projectName: project.name,
        experimentKey: newKey,
      });
      const points: MetricPointInput[] = [];
      for (const summary of await tx.series.listSummaries(source.id)) {
        for (const point of await tx.series.readPoints(source.id, summary.name, { stepTo: lastStep })) {
          const { offset: _offset, ...input } = point;
          points.push({ name: summary.name, ...input });
        }
      }
      if (points.length > 0) await tx.series.append(id, points);
      let name: string | null = null;
      for (const kind of ['param', 'other'] as const) {
        const values = (await tx.values.list(source.id, kind))
          .filter((v) => v.step === null || v.step <= lastStep)
          // `list` orders by name then seq; appending in seq order keeps each name's "current".
          .sort((a, b) => a.seq - b.seq)
          .map(({ seq: _seq, ...value }) => value);
        if (values.length > 0) await tx.values.append(id, kind, values);
        // The other `Name` names the run (as in ExperimentsService.logValues).
        if (kind === 'other') name = values.findLast((v) => v.name === OTHER_NAME)?.text ?? null;
      }
      await tx.experiments.update(id, { updatedAt: this.clock.now(), ...(name !== null ? { name } : {}) });
    });
    await this.experiments.publishExperiment(newKey);
    return { view: await this.experiments.get(principal, newKey), lastOffset: 0 };
  }

  private async defaultWorkspaceName(principal: Principal): Promise<string> {
    const workspace = principal.defaultWorkspaceId
      ? await this.store.tenancy.getWorkspace(principal.defaultWorkspaceId)
      : undefined;
    if (!workspace) {
      throw new NotFoundError('no workspace named and the API key has no default one', SdkErrorCode.nonExistingTeam);
    }
    return workspace.name;
  }
}
