import { type BatchKey, type BatchOutcome, normaliseEach } from './batches.js';
import type { Clock } from './clock.port.js';
import type {
  DownsampledSeries,
  Experiment,
  MetricColumns,
  MetricPoint,
  MetricPointInput,
  SeriesAxis,
  SeriesSummary,
  SeriesWindow,
} from './entities.js';
import {
  DomainError,
  InvalidArgumentError,
  NotFoundError,
  SdkErrorCode,
  StorageFullError,
  UnavailableError,
} from './errors.js';
import type { ExperimentsService } from './experiments.service.js';
import type { LiveEvent, LiveEventBus, LivePointsRange, LivePointsSeries } from './live-events.port.js';
import type { Principal } from './principal.js';
import { canRead, isMember, requireScope } from './principal.js';
import type { PointsRateLimit } from './rate-limit.js';
import * as rules from './rules.js';
import type { Repositories, SeriesReadOptions, Store } from './store.port.js';

/** A metric point as a caller sends it; validated and normalised by `logMetrics`. */
export interface MetricInput {
  name: string;
  value: number | string;
  step?: number | null;
  epoch?: number | null;
  timestamp?: number | null;
  context?: string | null;
}

/**
 * System metrics are series whose name starts with this prefix. It is Comet's own convention
 * (comet_ml logs `sys.cpu.percent.avg`, `sys.gpu.0.used_memory`, ... as ordinary metrics), so a
 * client that streams them itself is classified the same as one using the system-metric writes.
 */
export const SYSTEM_METRIC_PREFIX = 'sys.';

export function isSystemMetric(name: string): boolean {
  return name.startsWith(SYSTEM_METRIC_PREFIX);
}

/** One GPU's sample; absent or null readings are not logged. */
export interface GpuSample {
  gpuId: number;
  freeMemory?: number | null;
  usedMemory?: number | null;
  gpuUtilization?: number | null;
  totalMemory?: number | null;
}

/** One sample of machine usage, as reported by a client's monitor. */
export type SystemSample =
  | { kind: 'gpu'; gpus: GpuSample[] }
  | { kind: 'cpu'; percentPerCore: number[] }
  | { kind: 'ram'; total?: number | null; used?: number | null }
  | { kind: 'load'; average?: number | null };

/** Where a sample sits in the run; the same for every series the sample feeds. */
export interface SamplePosition {
  step?: number | null;
  epoch?: number | null;
  timestamp?: number | null;
  context?: string | null;
}

/**
 * A series of the bulk path: parallel columns, `values` required, the others optional. Columns
 * are array-like so a binary body's Float64Arrays arrive as they are, without a JS array or an
 * object per point. In steps, timestamps and epochs null or NaN means "not given": JSON sends
 * null, the binary body (float64 throughout) NaN; JSON cannot carry NaN, so the two never mix.
 */
export interface SeriesBatchInput {
  name: string;
  context?: string | null;
  values: ArrayLike<number | string>;
  steps?: ArrayLike<number | null> | null;
  timestamps?: ArrayLike<number | null> | null;
  epochs?: ArrayLike<number | null> | null;
}

/** A column entry that is absent: null (JSON) or NaN (binary), see `SeriesBatchInput`. */
function given(value: number | null | undefined): number | null {
  return value === null || value === undefined || Number.isNaN(value) ? null : value;
}

/**
 * Batches larger than this are announced to live views as ranges to read rather than as their
 * points: a bulk upload of millions of points must not be copied to every watcher and into the
 * event history, while a training loop's batches (tens to hundreds of points) arrive whole.
 */
export const LIVE_POINTS_MAX = 2_000;

/** Charts never need more: Comet's own full-resolution charts stop at 15,000 points. */
export const MAX_BUCKETS = 15_000;

/** A chart read of many series (see `querySeries`). */
export interface SeriesQueryInput {
  experiments: string[];
  metrics: string[];
  x?: SeriesAxis;
  from?: number | null;
  to?: number | null;
  buckets?: number;
}

export const SERIES_AXES: readonly SeriesAxis[] = ['step', 'epoch', 'wall', 'relative'];
export const DEFAULT_QUERY_BUCKETS = 1000;
/** Experiments and metrics one series query may name (a chart shows far fewer lines). */
export const MAX_QUERY_EXPERIMENTS = 500;
export const MAX_QUERY_METRICS = 100;
/**
 * experiments × metrics × buckets of one query: bounds the answer (~115 bytes of JSON per bucket)
 * and the work; 50 lines at 15,000 buckets or 2,000 at 1,000 fit.
 */
export const MAX_QUERY_CELLS = 2_000_000;

interface PendingAppend {
  points: MetricPointInput[];
  now: number;
  batchKey: BatchKey | undefined;
  /** Called with the offsets assigned, or undefined when the batch key showed a replay. */
  resolve(offsets: number[] | undefined): void;
  reject(error: unknown): void;
}

/** Appends of one principal to one experiment, committed together (see `append`). */
interface AppendGroup {
  principal: Principal;
  key: string;
  waiting: PendingAppend[];
  committing: boolean;
}

/** What committing one group's appends gave: each caller's offsets (see `PendingAppend`), the live event. */
interface CommittedBatch {
  results: (number[] | undefined)[];
  event: LiveEvent | undefined;
}

/** A group's appends waiting for the next shared commit (see `commitShared`). */
interface SharedEntry {
  group: AppendGroup;
  batch: PendingAppend[];
  resolve(committed: CommittedBatch): void;
  reject(error: unknown): void;
}

/** Every write and read of metric points, for every facade, goes through here. */
export class MetricsService {
  private readonly groups = new Map<string, AppendGroup>();
  private readonly sharedCommit: SharedEntry[] = [];
  private sharedCommitting = false;

  constructor(
    private readonly store: Store,
    private readonly experiments: ExperimentsService,
    private readonly clock: Clock,
    private readonly live: LiveEventBus,
    private readonly pointsLimit: PointsRateLimit,
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
    const points = inputs.map((input) => toPoint(input, now, options.allowNonFinite));
    this.pointsLimit.take(principal, points.length);
    return (await this.append(principal, key, points, now, undefined)) ?? [];
  }

  /**
   * Appends a client's batch exactly once: when `batchKey` was recorded for the experiment
   * before, the batch is a replay and nothing is stored; otherwise the key is recorded in the
   * transaction that stores the points (one append for the whole batch). `lenient` leaves out
   * points that cannot be stored (a non-numeric value, a fractional step) instead of refusing the
   * batch, and reports them.
   */
  async logMetricBatch(
    principal: Principal,
    key: string,
    inputs: MetricInput[],
    options: { batchKey?: BatchKey; lenient?: boolean; allowNonFinite?: boolean },
  ): Promise<BatchOutcome> {
    requireScope(principal, 'write');
    const now = this.clock.now();
    const { valid, skipped } = normaliseEach(
      inputs,
      (input) => toPoint(input, now, options.allowNonFinite),
      options.lenient ?? false,
    );
    this.pointsLimit.take(principal, valid.length);
    const offsets = await this.append(principal, key, valid, now, options.batchKey);
    if (!offsets) return { applied: false, stored: 0, skipped: [] };
    return { applied: true, stored: offsets.length, skipped };
  }

  /**
   * The bulk path: many series, each with its points as parallel arrays. Validated whole before
   * anything is stored; one bad point or mismatched array length rejects the request. With an
   * `idempotencyKey` the batch is stored exactly once: the key is recorded in the transaction that
   * stores the points, and a request repeating a recorded key stores nothing (`applied` false).
   */
  async logSeries(
    principal: Principal,
    key: string,
    series: SeriesBatchInput[],
    options: { allowNonFinite?: boolean; idempotencyKey?: string } = {},
  ): Promise<{ points: number; applied: boolean }> {
    requireScope(principal, 'write');
    const now = this.clock.now();
    const points: MetricPointInput[] = [];
    for (const input of series) {
      const name = rules.entryName('metric', input.name);
      const context = rules.context(input.context);
      const count = input.values.length;
      for (const [column, values] of [
        ['steps', input.steps],
        ['timestamps', input.timestamps],
        ['epochs', input.epochs],
      ] as const) {
        if (values && values.length !== count) {
          throw new InvalidArgumentError(
            `series "${name}": ${column} has ${values.length} entries, values has ${count}`,
          );
        }
      }
      const { values, steps, epochs, timestamps } = input;
      for (let i = 0; i < count; i++) {
        points.push({
          name,
          value: rules.metricValue(name, values[i] as number | string, options.allowNonFinite),
          step: rules.optionalInteger('step', steps ? given(steps[i]) : null),
          epoch: rules.optionalInteger('epoch', epochs ? given(epochs[i]) : null),
          timestamp: rules.timestamp(timestamps ? given(timestamps[i]) : null, now),
          context,
        });
      }
    }
    const batchKey: BatchKey | undefined =
      options.idempotencyKey === undefined ? undefined : { stream: 'cairn-metrics', key: options.idempotencyKey };
    // An empty batch still goes through append when keyed: its key is recorded like any other.
    if (points.length === 0 && !batchKey) return { points: 0, applied: true };
    this.pointsLimit.take(principal, points.length);
    const offsets = await this.append(principal, key, points, now, batchKey);
    return { points: points.length, applied: offsets !== undefined };
  }

  /** Points of one metric in offset (logging) order, optionally a page or a step range. */
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

  /** `readMetric` as columns, with the series' total from the same snapshot (bulk reads). */
  async readMetricColumns(
    principal: Principal,
    key: string,
    name: string,
    options?: SeriesReadOptions,
  ): Promise<MetricColumns> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    return this.store.series.readColumns(experiment.id, name, options);
  }

  /**
   * Chart reads: many metrics of many experiments over one x range, bucketed or exact (the
   * semantics are `SeriesRepository.query`'s). Every experiment must be readable by the caller;
   * one that is not, or does not exist, is "not found". Metrics an experiment lacks are absent.
   */
  async querySeries(principal: Principal, input: SeriesQueryInput): Promise<SeriesWindow[]> {
    requireScope(principal, 'read');
    const keys = [...new Set(input.experiments)];
    const metrics = [...new Set(input.metrics)];
    const x = input.x ?? 'step';
    const buckets = input.buckets ?? DEFAULT_QUERY_BUCKETS;
    const from = input.from ?? undefined;
    const to = input.to ?? undefined;
    if (keys.length === 0 || keys.length > MAX_QUERY_EXPERIMENTS) {
      throw new InvalidArgumentError(`experiments must name 1 to ${MAX_QUERY_EXPERIMENTS} experiments`);
    }
    if (metrics.length === 0 || metrics.length > MAX_QUERY_METRICS) {
      throw new InvalidArgumentError(`metrics must name 1 to ${MAX_QUERY_METRICS} metrics`);
    }
    for (const name of metrics) rules.entryName('metric', name);
    if (!SERIES_AXES.includes(x)) throw new InvalidArgumentError(`x must be one of ${SERIES_AXES.join(', ')}`);
    if (!Number.isSafeInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) {
      throw new InvalidArgumentError(`buckets must be an integer from 1 to ${MAX_BUCKETS}`);
    }
    if (keys.length * metrics.length * buckets > MAX_QUERY_CELLS) {
      throw new InvalidArgumentError(
        `experiments × metrics × buckets must be at most ${MAX_QUERY_CELLS.toLocaleString('en-US')}: ask for fewer buckets or fewer series`,
      );
    }
    for (const [name, bound] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (bound !== undefined && !Number.isFinite(bound))
        throw new InvalidArgumentError(`${name} must be a finite number`);
    }
    if (from !== undefined && to !== undefined && from > to) {
      throw new InvalidArgumentError(`from (${from}) must not be greater than to (${to})`);
    }
    const experiments = await this.readableExperiments(principal, keys);
    return this.store.series.query({
      experiments: experiments.map((e) => ({ id: e.id, startTime: e.startTime })),
      metrics,
      x,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      buckets,
    });
  }

  /**
   * `ExperimentsService.readable` for many keys in one lookup, in the order of `keys`: members
   * read their workspaces' experiments, others only those of public projects.
   */
  private async readableExperiments(principal: Principal, keys: string[]): Promise<Experiment[]> {
    const found = new Map((await this.store.experiments.getMany(keys)).map((e) => [e.id, e]));
    const projectReadable = new Map<string, boolean>();
    const result: Experiment[] = [];
    for (const key of keys) {
      const experiment = found.get(key);
      let readable = experiment !== undefined && isMember(principal, experiment.workspaceId);
      if (experiment && !readable) {
        let known = projectReadable.get(experiment.projectId);
        if (known === undefined) {
          const project = await this.store.projects.get(experiment.projectId);
          known = project !== undefined && canRead(principal, project);
          projectReadable.set(experiment.projectId, known);
        }
        readable = known;
      }
      if (!experiment || !readable) {
        throw new NotFoundError(`experiment ${key} not found`, SdkErrorCode.nonExistingRun);
      }
      result.push(experiment);
    }
    return result;
  }

  /** The exact summary of one metric; undefined when nothing was logged under that name. */
  async summary(principal: Principal, key: string, name: string): Promise<SeriesSummary | undefined> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    return this.store.series.getSummary(experiment.id, name);
  }

  /** A metric reduced to at most about 2 × `buckets` points, extremes kept (see SeriesRepository). */
  async downsample(principal: Principal, key: string, name: string, buckets: number): Promise<DownsampledSeries> {
    requireScope(principal, 'read');
    if (!Number.isSafeInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) {
      throw new InvalidArgumentError(`buckets must be an integer from 1 to ${MAX_BUCKETS}`);
    }
    const experiment = await this.experiments.readable(this.store, principal, key);
    return this.store.series.downsample(experiment.id, name, buckets);
  }

  /**
   * Group commit. Appends by one caller to one experiment that arrive while an earlier group is
   * committing are queued and committed together in one transaction, each caller resolving with
   * its own offsets once that transaction is durable. A training loop's many small writes then
   * share commits instead of paying one each; a failed commit rejects every caller of its group,
   * none of whose points were stored. Batch keys are recorded in that same transaction, so a
   * batch and the record that it was applied are durable together or not at all.
   */
  private append(
    principal: Principal,
    key: string,
    points: MetricPointInput[],
    now: number,
    batchKey: BatchKey | undefined,
  ): Promise<number[] | undefined> {
    const groupKey = `${principal.userId}\u0000${key}`;
    let group = this.groups.get(groupKey);
    if (!group) {
      group = { principal, key, waiting: [], committing: false };
      this.groups.set(groupKey, group);
    }
    const promise = new Promise<number[] | undefined>((resolve, reject) => {
      (group as AppendGroup).waiting.push({ points, now, batchKey, resolve, reject });
    });
    if (!group.committing) void this.commitGroups(groupKey, group);
    return promise;
  }

  private async commitGroups(groupKey: string, group: AppendGroup): Promise<void> {
    group.committing = true;
    while (group.waiting.length > 0) {
      const batch = group.waiting.splice(0, group.waiting.length);
      try {
        const { results, event } = this.store.serialisesWrites
          ? await new Promise<CommittedBatch>((resolve, reject) => {
              this.sharedCommit.push({ group, batch, resolve, reject });
              if (!this.sharedCommitting) void this.commitShared();
            })
          : await this.store.transaction(async (tx) =>
              this.appendBatch(tx, await this.experiments.writable(tx, group.principal, group.key), batch),
            );
        // After the commit: a watcher that reads on this event finds the points.
        if (event) this.live.publish(event);
        batch.forEach((pending, i) => {
          pending.resolve(results[i]);
        });
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    group.committing = false;
    this.groups.delete(groupKey);
  }

  /**
   * On a store that commits one transaction at a time (SQLite's single writer), the groups of
   * different experiments and callers that are ready while a commit runs are committed together
   * in the next one: 20 runs logging one point each then share one fsync instead of queueing for
   * 20. The groups are taken in experiment order. One whose experiment is not writable is refused
   * alone (nothing of it was written); when anything else fails, the transaction is rolled back
   * and each group is committed again in a transaction of its own, so that one group's failure is
   * its own, as if they had never been combined.
   */
  private async commitShared(): Promise<void> {
    this.sharedCommitting = true;
    while (this.sharedCommit.length > 0) {
      const entries = this.sharedCommit.splice(0, this.sharedCommit.length);
      entries.sort((a, b) => (a.group.key < b.group.key ? -1 : a.group.key > b.group.key ? 1 : 0));
      if (entries.length === 1) {
        await this.commitAlone(entries[0] as SharedEntry);
        continue;
      }
      let outcomes: ({ ok: true; value: CommittedBatch } | { ok: false; error: unknown })[];
      try {
        outcomes = await this.store.transaction(async (tx) => {
          // One lookup for all: each statement is a round trip to the writer. A caller that is not
          // a member of the experiment's workspace gets `writable`'s own answer below.
          const found = new Map(
            (await tx.experiments.getMany([...new Set(entries.map((e) => e.group.key))])).map((e) => [e.id, e]),
          );
          const done: typeof outcomes = [];
          for (const { group, batch } of entries) {
            let experiment: Experiment;
            try {
              const known = found.get(group.key);
              experiment =
                known && isMember(group.principal, known.workspaceId)
                  ? known
                  : await this.experiments.writable(tx, group.principal, group.key);
            } catch (error) {
              // Not-found, no write access: this group's own answer. The database's errors are everyone's.
              if (
                !(error instanceof DomainError) ||
                error instanceof UnavailableError ||
                error instanceof StorageFullError
              ) {
                throw error;
              }
              done.push({ ok: false, error });
              continue;
            }
            done.push({ ok: true, value: await this.appendBatch(tx, experiment, batch) });
          }
          return done;
        });
      } catch (error) {
        if (error instanceof UnavailableError || error instanceof StorageFullError) {
          // The database refuses every write for now; committing one by one would only repeat it.
          for (const entry of entries) entry.reject(error);
        } else {
          for (const entry of entries) await this.commitAlone(entry);
        }
        continue;
      }
      outcomes.forEach((outcome, i) => {
        const entry = entries[i] as SharedEntry;
        if (outcome.ok) entry.resolve(outcome.value);
        else entry.reject(outcome.error);
      });
    }
    this.sharedCommitting = false;
  }

  private async commitAlone({ group, batch, resolve, reject }: SharedEntry): Promise<void> {
    try {
      resolve(
        await this.store.transaction(async (tx) =>
          this.appendBatch(tx, await this.experiments.writable(tx, group.principal, group.key), batch),
        ),
      );
    } catch (error) {
      reject(error);
    }
  }

  /** Stores one group's appends in the caller's transaction; the offsets of each, and the live event. */
  private async appendBatch(tx: Repositories, experiment: Experiment, batch: PendingAppend[]): Promise<CommittedBatch> {
    const now = Math.max(...batch.map((b) => b.now));
    // A replayed batch key (also one repeated within this group) takes no part.
    const applied: boolean[] = [];
    for (const pending of batch) {
      const { batchKey } = pending;
      applied.push(
        !batchKey || (await tx.clientBatches.markApplied(experiment.id, batchKey.stream, batchKey.key, now)),
      );
    }
    const accepted = batch.filter((_, i) => applied[i]);
    const all = accepted.length === 1 ? (accepted[0] as PendingAppend).points : accepted.flatMap((b) => b.points);
    const assigned = all.length > 0 ? await tx.series.append(experiment.id, all, { updatedAt: now }) : [];
    let at = 0;
    const results = batch.map((pending, i) => {
      if (!applied[i]) return undefined;
      const offsets = assigned.slice(at, at + pending.points.length);
      at += pending.points.length;
      return offsets;
    });
    if (all.length === 0) return { results, event: undefined };
    return { results, event: await pointsEvent(tx, experiment, all, assigned) };
  }

  /**
   * Stores a machine-usage sample as system metric series, named as comet_ml names them:
   * `sys.gpu.<id>.{free_memory,used_memory,gpu_utilization,total_memory}`,
   * `sys.cpu.percent.<01..>` plus their mean `sys.cpu.percent.avg`, `sys.ram.{total,used}`,
   * `sys.load.avg`. All points of a sample are one batch (one offset range, all or nothing).
   */
  async logSystemMetrics(
    principal: Principal,
    key: string,
    sample: SystemSample,
    position: SamplePosition = {},
  ): Promise<number[]> {
    const readings: [string, number | null | undefined][] = [];
    switch (sample.kind) {
      case 'gpu':
        for (const gpu of sample.gpus) {
          const id = rules.optionalInteger('gpuId', gpu.gpuId);
          readings.push(
            [`sys.gpu.${id}.free_memory`, gpu.freeMemory],
            [`sys.gpu.${id}.used_memory`, gpu.usedMemory],
            [`sys.gpu.${id}.gpu_utilization`, gpu.gpuUtilization],
            [`sys.gpu.${id}.total_memory`, gpu.totalMemory],
          );
        }
        break;
      case 'cpu':
        sample.percentPerCore.forEach((percent, i) => {
          readings.push([`sys.cpu.percent.${String(i + 1).padStart(2, '0')}`, percent]);
        });
        if (sample.percentPerCore.length > 0) {
          const cores = sample.percentPerCore.length;
          const sum = sample.percentPerCore.reduce((a, b) => a + b, 0);
          // A sum of finite readings can overflow to ±Infinity; their mean cannot, divided term by term.
          const mean = Number.isFinite(sum) ? sum / cores : sample.percentPerCore.reduce((m, p) => m + p / cores, 0);
          readings.push(['sys.cpu.percent.avg', mean]);
        }
        break;
      case 'ram':
        readings.push(['sys.ram.total', sample.total], ['sys.ram.used', sample.used]);
        break;
      case 'load':
        readings.push(['sys.load.avg', sample.average]);
        break;
    }
    const inputs: MetricInput[] = [];
    for (const [name, value] of readings) {
      if (value !== null && value !== undefined) inputs.push({ name, value, ...position });
    }
    return this.logMetrics(principal, key, inputs);
  }

  /** Summaries of every series, system metrics included, ordered by name. */
  async summaries(principal: Principal, key: string): Promise<SeriesSummary[]> {
    requireScope(principal, 'read');
    const experiment = await this.experiments.readable(this.store, principal, key);
    return this.store.series.listSummaries(experiment.id);
  }

  /** Summaries of the metrics the user logged: system metrics are left out (see `isSystemMetric`). */
  async userSummaries(principal: Principal, key: string): Promise<SeriesSummary[]> {
    return (await this.summaries(principal, key)).filter((s) => !isSystemMetric(s.name));
  }

  /** Names of the experiment's system metric series, ordered by name. */
  async systemMetricNames(principal: Principal, key: string): Promise<string[]> {
    return (await this.summaries(principal, key)).filter((s) => isSystemMetric(s.name)).map((s) => s.name);
  }
}

/**
 * The live event announcing points just appended to an experiment (offsets as assigned), built
 * inside the appending transaction and published after its commit.
 */
export async function pointsEvent(
  tx: Repositories,
  experiment: Pick<Experiment, 'id' | 'projectId'>,
  points: readonly MetricPointInput[],
  offsets: readonly number[],
): Promise<LiveEvent> {
  const where = { experimentId: experiment.id, projectId: experiment.projectId };
  return points.length > LIVE_POINTS_MAX
    ? { type: 'points', ...where, truncated: true, series: await pointRanges(tx, experiment.id, points) }
    : { type: 'points', ...where, truncated: false, series: pointColumns(points, offsets) };
}

/** The points of a batch as columns per (metric, context), in the order they first appear. */
function pointColumns(points: readonly MetricPointInput[], offsets: readonly number[]): LivePointsSeries[] {
  const byKey = new Map<string, LivePointsSeries>();
  points.forEach((point, i) => {
    const key = `${point.name}\u0000${point.context ?? ''}`;
    let series = byKey.get(key);
    if (!series) {
      series = {
        name: point.name,
        context: point.context,
        offsets: [],
        steps: [],
        values: [],
        timestamps: [],
        epochs: [],
      };
      byKey.set(key, series);
    }
    series.offsets.push(offsets[i] as number);
    series.steps.push(point.step);
    series.values.push(point.value);
    series.timestamps.push(point.timestamp);
    series.epochs.push(point.epoch);
  });
  return [...byKey.values()];
}

/**
 * Where a large batch's points sit in each series: an append keeps a series' new points together
 * at its end, so they are the last `count` of the series as the appending transaction sees it.
 */
async function pointRanges(
  tx: Repositories,
  experimentId: string,
  points: readonly MetricPointInput[],
): Promise<LivePointsRange[]> {
  // Counted per run of one name (a bulk batch holds each series in one run), not per point.
  const counts = new Map<string, number>();
  for (let i = 0; i < points.length; ) {
    const name = (points[i] as MetricPointInput).name;
    let end = i + 1;
    while (end < points.length && (points[end] as MetricPointInput).name === name) end++;
    counts.set(name, (counts.get(name) ?? 0) + end - i);
    i = end;
  }
  const totals = new Map((await tx.series.listSummaries(experimentId)).map((s) => [s.name, s.count]));
  return [...counts].map(([name, count]) => ({ name, fromOffset: (totals.get(name) ?? count) - count, count }));
}

function toPoint(input: MetricInput, now: number, allowNonFinite = false): MetricPointInput {
  return {
    name: rules.entryName('metric', input.name),
    value: rules.metricValue(input.name, input.value, allowNonFinite),
    step: rules.optionalInteger('step', input.step),
    epoch: rules.optionalInteger('epoch', input.epoch),
    timestamp: rules.timestamp(input.timestamp, now),
    context: rules.context(input.context),
  };
}
