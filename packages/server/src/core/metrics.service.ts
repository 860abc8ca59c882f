import type { Clock } from './clock.port.js';
import type { MetricPoint, MetricPointInput, SeriesSummary } from './entities.js';
import type { ExperimentsService } from './experiments.service.js';
import type { Principal } from './principal.js';
import { requireScope } from './principal.js';
import * as rules from './rules.js';
import type { SeriesReadOptions, Store } from './store.port.js';

/** A metric point as a caller sends it; validated and normalised by `logMetrics`. */
export interface MetricInput {
  name: string;
  value: number | string;
  step?: number | null;
  epoch?: number | null;
  timestamp?: number | null;
  context?: string | null;
}

/** Every write and read of metric points, for every facade, goes through here. */
export class MetricsService {
  constructor(
    private readonly store: Store,
    private readonly experiments: ExperimentsService,
    private readonly clock: Clock,
  ) {}

  /**
   * Appends a batch atomically: every point is validated first and one bad point rejects the
   * whole batch. Returns the offsets assigned. The promise resolves after the commit.
   */
  async logMetrics(
    principal: Principal,
    key: string,
    inputs: MetricInput[],
    options: { allowNonFinite?: boolean } = {},
  ): Promise<number[]> {
    requireScope(principal, 'write');
    const now = this.clock.now();
    const points: MetricPointInput[] = inputs.map((input) => ({
      name: rules.entryName('metric', input.name),
      value: rules.metricValue(input.name, input.value, options.allowNonFinite),
      step: rules.optionalInteger('step', input.step),
      epoch: rules.optionalInteger('epoch', input.epoch),
      timestamp: rules.timestamp(input.timestamp, now),
      context: input.context ?? null,
    }));
    return this.store.transaction(async (tx) => {
      const experiment = await this.experiments.writable(tx, principal, key);
      const offsets = await tx.series.append(experiment.id, points);
      await tx.experiments.update(experiment.id, { updatedAt: now });
      return offsets;
    });
  }

  /** Points of one metric in offset (logging) order. */
  async readMetric(
    principal: Principal,
    key: string,
    name: string,
    options?: SeriesReadOptions,
  ): Promise<MetricPoint[]> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    return this.store.series.readPoints(experiment.id, name, options);
  }

  async summaries(principal: Principal, key: string): Promise<SeriesSummary[]> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    return this.store.series.listSummaries(experiment.id);
  }
}
