import type { SeriesSample } from './entities.js';
import { InvalidArgumentError, NotFoundError } from './errors.js';
import type { ExperimentsService } from './experiments.service.js';
import { isSystemMetric, type MetricsService } from './metrics.service.js';
import { type Principal, requireScope } from './principal.js';

/** Points per metric of a sampled chart, and the most a full chart returns (Comet's limits). */
export const SAMPLED_CHART_POINTS = 500;
export const FULL_CHART_POINTS = 15_000;
/** Experiments one chart may compare: bounds the work of one request. */
export const MAX_CHART_EXPERIMENTS = 500;

export interface ChartRequest {
  experimentKeys: string[];
  /** null: every metric the user logged (system metrics excluded). */
  metrics: string[] | null;
  /** null: no parameters. */
  params: string[] | null;
  /** false: only the steps at which every requested metric has a value (correlated). */
  independent: boolean;
  full: boolean;
}

export interface ChartMetric {
  name: string;
  points: SeriesSample[];
}

export interface ChartExperiment {
  experimentKey: string;
  /** Union (independent) or intersection (correlated) of the metrics' steps, ascending. */
  steps: number[];
  metrics: ChartMetric[];
  params: Record<string, string> | null;
}

/**
 * Multi-experiment, multi-metric charts from the series engine. Independent metrics are reduced
 * by the engine's min/max buckets (about 500 points sampled, up to 15,000 full), so spikes
 * survive; correlated metrics keep the steps all of them share, then an even stride. Experiments the caller cannot read are left
 * out, as a chart of many runs should not fail because one was deleted.
 */
export class ChartsService {
  constructor(
    private readonly experiments: ExperimentsService,
    private readonly metrics: MetricsService,
  ) {}

  async chart(principal: Principal, request: ChartRequest): Promise<ChartExperiment[]> {
    requireScope(principal, 'read');
    if (request.experimentKeys.length > MAX_CHART_EXPERIMENTS) {
      throw new InvalidArgumentError(`a chart compares at most ${MAX_CHART_EXPERIMENTS} experiments`);
    }
    const limit = request.full ? FULL_CHART_POINTS : SAMPLED_CHART_POINTS;
    const result: ChartExperiment[] = [];
    for (const key of new Set(request.experimentKeys)) {
      let names: string[];
      try {
        names =
          request.metrics ??
          (await this.metrics.userSummaries(principal, key)).map((s) => s.name).filter((n) => !isSystemMetric(n));
      } catch (error) {
        if (error instanceof NotFoundError) continue;
        throw error;
      }
      const metrics: ChartMetric[] = [];
      for (const name of names) {
        const points = request.independent
          ? // Buckets yield up to two points each (min and max).
            (await this.metrics.downsample(principal, key, name, Math.floor(limit / 2))).points
          : // Correlation needs every step, so points are reduced after the steps are intersected.
            (await this.metrics.readMetric(principal, key, name)).map(({ offset, value, step, timestamp }) => ({
              offset,
              value,
              step,
              timestamp,
            }));
        if (points.length > 0) metrics.push({ name, points });
      }
      const aligned = request.independent
        ? metrics
        : correlate(metrics, request.metrics?.length ?? metrics.length).map((m) => ({
            ...m,
            points: evenStride(m.points, limit),
          }));
      const steps = new Set<number>();
      for (const metric of aligned) for (const p of metric.points) if (p.step !== null) steps.add(p.step);
      result.push({
        experimentKey: key,
        steps: [...steps].sort((a, b) => a - b),
        metrics: aligned,
        params: request.params ? await this.currentParams(principal, key, request.params) : null,
      });
    }
    return result;
  }

  private async currentParams(principal: Principal, key: string, names: string[]): Promise<Record<string, string>> {
    const wanted = new Set(names);
    const params: Record<string, string> = {};
    for (const summary of await this.experiments.summarizeValues(principal, key, 'param')) {
      if (wanted.has(summary.name)) params[summary.name] = summary.current.text;
    }
    return params;
  }
}

/** At most `limit` points by an even index stride, first and last always kept. */
function evenStride(points: SeriesSample[], limit: number): SeriesSample[] {
  if (points.length <= limit) return points;
  const last = points.length - 1;
  return Array.from({ length: limit }, (_, i) => points[Math.round((i * last) / (limit - 1))] as SeriesSample);
}

/** Keeps only the steps at which every requested metric has a point; none if one is missing. */
function correlate(metrics: ChartMetric[], requested: number): ChartMetric[] {
  if (metrics.length < requested || metrics.length === 0) return metrics.map((m) => ({ ...m, points: [] }));
  let common: Set<number> | undefined;
  for (const metric of metrics) {
    const steps = new Set(metric.points.flatMap((p) => (p.step === null ? [] : [p.step])));
    common = common ? new Set([...common].filter((s) => steps.has(s))) : steps;
  }
  const keep = common ?? new Set<number>();
  return metrics.map((m) => ({ ...m, points: m.points.filter((p) => p.step !== null && keep.has(p.step)) }));
}
