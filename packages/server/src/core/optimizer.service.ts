import { NotFoundError, SdkErrorCode } from './errors.js';
import { type Principal, requireScope } from './principal.js';
import * as rules from './rules.js';
import type { OptimizationGoal, Store } from './store.port.js';

export interface BestExperiment {
  /** Null when no experiment of the optimization logged a finite value of the metric. */
  experimentKey: string | null;
  metricValue: number | null;
  experimentCount: number;
}

/**
 * Reads over optimizations. An experiment joins an optimization when its client logs the other
 * `optimizer_id` (comet_ml's Optimizer does; spec §2), which sets its `optimizationId`.
 */
export class OptimizerService {
  constructor(private readonly store: Store) {}

  /**
   * The best experiment of an optimization on one metric: lowest series minimum for MIN, highest
   * maximum for MAX. Only experiments in the caller's own workspaces count, so an experiment
   * another tenant tags with the same id (public or not) can never be offered as "best".
   */
  async bestExperiment(
    principal: Principal,
    query: { optimizationId: string; metricName: string; goal: OptimizationGoal },
  ): Promise<BestExperiment> {
    requireScope(principal, 'read');
    rules.entryName('metric', query.metricName);
    const ranking = await this.store.optimizations.rank(
      query.optimizationId,
      [...principal.workspaceIds],
      query.metricName,
      query.goal,
    );
    if (ranking.experimentCount === 0) {
      throw new NotFoundError(`optimization ${query.optimizationId} not found`, SdkErrorCode.invalidOptimizationId);
    }
    return {
      experimentKey: ranking.best?.experimentId ?? null,
      metricValue: ranking.best?.value ?? null,
      experimentCount: ranking.experimentCount,
    };
  }
}
