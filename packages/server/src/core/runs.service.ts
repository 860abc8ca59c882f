import type { Clock } from './clock.port.js';
import type {
  Experiment,
  ExperimentInput,
  ExperimentModel,
  KeyValue,
  LoggedValueInput,
  MetricPoint,
  MetricPointInput,
  Project,
  SeriesSummary,
} from './entities.js';
import { DomainError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from './errors.js';
import { type ExperimentsService, runState } from './experiments.service.js';
import { newHexId } from './ids.js';
import type { LiveEvent, LiveEventBus } from './live-events.port.js';
import { pointsEvent } from './metrics.service.js';
import { canRead, isMember, type Principal, requireScope } from './principal.js';
import type { ProjectsService } from './projects.service.js';
import type { PointsRateLimit } from './rate-limit.js';
import * as rules from './rules.js';
import type { CurrentValue, Repositories, Store } from './store.port.js';

/**
 * MLflow's tracking rules over Cairn's experiments (docs/api/mlflow.md, "One data model"): an
 * MLflow run is an experiment, its params are parameters (write-once), its tags are "others"
 * (plus Comet's labels, read as tags with the value ""), its metrics are series. The facade
 * only translates the wire; every rule lives here.
 */

export type MlflowRunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

/** The tag that carries a run's name; it is the experiment's name, never stored as an "other". */
export const RUN_NAME_TAG = 'mlflow.runName';
/** The tag naming the run's user; `runs/create`'s `user_id` lands here. */
export const USER_TAG = 'mlflow.user';

/** log-batch limits (MLflow's validation.py). */
export const MAX_BATCH_METRICS = 1000;
export const MAX_BATCH_PARAMS = 100;
export const MAX_BATCH_TAGS = 100;
export const MAX_BATCH_ITEMS = 1000;
export const MAX_KEY_LENGTH = 250;
export const MAX_PARAM_VALUE_LENGTH = 6000;
export const MAX_TAG_VALUE_LENGTH = 8000;
/** Points one history page or bulk read returns at most (MLflow's client asks for 25,000). */
export const MAX_HISTORY_RESULTS = 25_000;
/** Steps the bulk-interval sampler keeps at most (MLflow's limit). */
export const MAX_SAMPLED_STEPS = 2500;
export const MAX_SAMPLED_RUNS = 100;

/** Metric, param and tag keys: MLflow's `^[/\w.\- ]*$`, normalised as a posix path. */
const KEY_PATTERN = /^[/\w.\- ]*$/;

/**
 * A run's status as MLflow reads it. A run whose client beats (Comet's) is read as Comet reports
 * it, ended once the beats stop; a run MLflow manages never beats (`lastHeartbeat` null), so its
 * stored status stands. KILLED and SCHEDULED live in `statusDetail`.
 */
export function mlflowStatusOf(experiment: Experiment, now: number): MlflowRunStatus {
  const status =
    experiment.lastHeartbeat === null && experiment.status === 'RUNNING' ? 'RUNNING' : runState(experiment, now).status;
  if (status === 'RUNNING') return experiment.statusDetail === 'SCHEDULED' ? 'SCHEDULED' : 'RUNNING';
  if (status === 'FAILED') return experiment.statusDetail === 'KILLED' ? 'KILLED' : 'FAILED';
  return 'FINISHED';
}

/** The end MLflow shows: the stored one, or for a Comet run whose beats stopped, its last beat. */
export function mlflowEndTimeOf(experiment: Experiment, now: number): number | null {
  if (experiment.lastHeartbeat === null) return experiment.endTime;
  return runState(experiment, now).endTime;
}

const STORED_STATUS: Record<MlflowRunStatus, Pick<Experiment, 'status' | 'statusDetail'>> = {
  RUNNING: { status: 'RUNNING', statusDetail: null },
  SCHEDULED: { status: 'RUNNING', statusDetail: 'SCHEDULED' },
  FINISHED: { status: 'SUCCEEDED', statusDetail: null },
  FAILED: { status: 'FAILED', statusDetail: null },
  KILLED: { status: 'FAILED', statusDetail: 'KILLED' },
};

/** Everything a wire Run shows, read in one query per table for many runs at once. */
export interface RunRecord {
  experiment: Experiment;
  project: Project;
  /** The creating user's name: the run's `user_id` when no `mlflow.user` tag says otherwise. */
  creatorName: string;
  params: CurrentValue[];
  /** The run's tags apart from its name and Comet labels (Cairn "others"), ordered by name. */
  others: CurrentValue[];
  /** Comet labels, in the order added. */
  labels: string[];
  /** Summaries of every series, ordered by name; `latest` is MLflow's metric value. */
  metrics: SeriesSummary[];
  inputs: ExperimentInput[];
  /** The run's experiment models; those made as MLflow 3 logged models are its outputs. */
  models: ExperimentModel[];
  /** When the record was read: the instant `mlflowStatusOf` reads the run at. */
  readAt: number;
}

/** A metric point as MLflow sends it. */
export interface RunMetricInput {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface RunBatch {
  metrics: readonly RunMetricInput[];
  params: readonly KeyValue[];
  tags: readonly KeyValue[];
}

export interface DatasetInput {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: string | null;
  profile: string | null;
  tags: KeyValue[];
}

/** A history point with its run (bulk reads). */
export interface RunMetricPoint extends MetricPoint {
  runId: string;
}

const ADJECTIVES = [
  'able',
  'bold',
  'brave',
  'bright',
  'calm',
  'clever',
  'crisp',
  'daring',
  'eager',
  'fair',
  'fleet',
  'gentle',
  'glad',
  'grand',
  'keen',
  'kind',
  'lively',
  'lucky',
  'merry',
  'mighty',
  'nimble',
  'proud',
  'quick',
  'quiet',
  'rare',
  'sharp',
  'shy',
  'silent',
  'smooth',
  'steady',
  'swift',
  'tidy',
  'vivid',
  'warm',
  'wise',
  'zealous',
];
const NOUNS = [
  'ant',
  'bass',
  'bear',
  'bee',
  'crane',
  'deer',
  'dove',
  'eel',
  'finch',
  'fox',
  'frog',
  'gnu',
  'hawk',
  'hen',
  'heron',
  'ibis',
  'koi',
  'lark',
  'lynx',
  'mink',
  'mole',
  'moth',
  'newt',
  'owl',
  'panda',
  'pike',
  'quail',
  'ram',
  'seal',
  'shrew',
  'sloth',
  'snail',
  'swan',
  'toad',
  'trout',
  'wolf',
  'wren',
  'yak',
];

function pick<T>(values: readonly T[]): T {
  return values[Math.floor(Math.random() * values.length)] as T;
}

/** A name for a run created without one: `<adjective>-<noun>-<n>`, as MLflow names runs. */
export function generatedRunName(): string {
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}-${Math.floor(Math.random() * 1000)}`;
}

function checkKey(kind: 'metric' | 'param' | 'tag', key: string): void {
  const label = kind === 'metric' ? 'metric name' : kind === 'param' ? 'parameter name' : 'tag name';
  const normalised = key
    .split('/')
    .filter((part, i) => part !== '.' && (part !== '' || i === 0))
    .join('/');
  if (!KEY_PATTERN.test(key) || key === '.' || key.startsWith('..') || key.startsWith('/') || normalised !== key) {
    throw new InvalidArgumentError(
      `Invalid ${label}: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).`,
    );
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw new InvalidArgumentError(
      `'${key}' exceeds the maximum length of ${MAX_KEY_LENGTH} characters for a ${label}.`,
    );
  }
}

function checkValueLength(kind: 'Param' | 'Tag', key: string, value: string, limit: number): void {
  if (value.length > limit) {
    throw new InvalidArgumentError(
      `${kind} value '${value.slice(0, 100)}...' had length ${value.length}, which exceeded length limit of ${limit} (key '${key}').`,
    );
  }
}

/** Python's repr of a list of strings, as MLflow's messages print key lists. */
function pythonList(values: readonly string[]): string {
  return `[${values.map((v) => `'${v}'`).join(', ')}]`;
}

function pointKey(name: string, step: number, timestamp: number, value: number): string {
  return `${name}\u0000${step}\u0000${timestamp}\u0000${Number.isNaN(value) ? 'NaN' : value}`;
}

/** MLflow's history order: (timestamp, step, value) ascending; a missing step reads as 0. */
function historyOrder(a: MetricPoint, b: MetricPoint): number {
  return a.timestamp - b.timestamp || (a.step ?? 0) - (b.step ?? 0) || compareValues(a.value, b.value);
}

/** Values compared as MLflow's float ordering does, NaN last. */
function compareValues(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** True when a point is strictly greater in (step, timestamp, value) than the series' latest. */
function beyondLatest(point: MetricPointInput, summary: SeriesSummary): boolean {
  return isAfter(point, summary.latest);
}

/** Whether `point` is strictly greater than `than` in (step, timestamp, value), NaN comparing as nothing. */
function isAfter(point: PointOrder, than: PointOrder): boolean {
  const thanStep = than.step ?? 0;
  const step = point.step ?? 0;
  if (step !== thanStep) return step > thanStep;
  if (point.timestamp !== than.timestamp) return point.timestamp > than.timestamp;
  return !Number.isNaN(point.value) && !Number.isNaN(than.value) && point.value > than.value;
}

type PointOrder = { value: number; step: number | null; timestamp: number };

/**
 * Whether each point of a series comes strictly after the one before it in the request: then no
 * two can be equal, and the request needs no duplicate check (training loops log in this order).
 */
function strictlyIncreasing(points: readonly MetricPointInput[]): boolean {
  const last = new Map<string, MetricPointInput>();
  for (const point of points) {
    const before = last.get(point.name);
    if (before && !isAfter(point, before)) return false;
    last.set(point.name, point);
  }
  return true;
}

/** A log-batch waiting for its group's commit. */
interface PendingBatch {
  principal: Principal;
  runId: string;
  batch: RunBatch;
  now: number;
  /** With whether the batch renamed the run. */
  resolve: (renamed: boolean) => void;
  reject: (error: unknown) => void;
}

export class RunsService {
  constructor(
    private readonly store: Store,
    private readonly projects: ProjectsService,
    private readonly experiments: ExperimentsService,
    private readonly clock: Clock,
    private readonly live: LiveEventBus,
    private readonly pointsLimit: PointsRateLimit,
  ) {}

  /**
   * Creates a run (an experiment, RUNNING from `startTime` or now) in a project that is not in the
   * trash. Its name is `runName`, else the `mlflow.runName` tag, else a generated one; the two
   * given with different values are refused. `userId` becomes tag `mlflow.user` unless the tags
   * carry one. Returns the run id.
   */
  async create(
    principal: Principal,
    input: { projectId: string; runName?: string; userId?: string; startTime?: number; tags: readonly KeyValue[] },
  ): Promise<string> {
    requireScope(principal, 'write');
    const tagName = lastValue(input.tags, RUN_NAME_TAG);
    if (input.runName && tagName !== undefined && tagName !== input.runName) {
      throw new InvalidArgumentError(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${input.runName}', mlflow.runName='${tagName}').`,
      );
    }
    const name = rules.entryName('run', input.runName || tagName || generatedRunName());
    const tags = input.tags.filter((t) => t.key !== RUN_NAME_TAG);
    if (input.userId && !tags.some((t) => t.key === USER_TAG)) tags.push({ key: USER_TAG, value: input.userId });
    for (const tag of tags) {
      checkKey('tag', tag.key);
      checkValueLength('Tag', tag.key, tag.value, MAX_TAG_VALUE_LENGTH);
    }
    const now = this.clock.now();
    const startTime = input.startTime ?? now;
    if (!Number.isSafeInteger(startTime) || startTime < 0) {
      throw new InvalidArgumentError(`Invalid value ${startTime} for parameter 'start_time' supplied.`);
    }
    const id = newHexId();
    await this.store.transaction(async (tx) => {
      const { project } = await this.projects.findWritable(tx, principal, { projectId: input.projectId });
      if (project.deletedAt !== null) {
        throw new FailedPreconditionError(
          `The experiment ${project.id} must be in the 'active' state. Current state is deleted.`,
        );
      }
      await tx.experiments.insert({
        id,
        projectId: project.id,
        workspaceId: project.workspaceId,
        name,
        status: 'RUNNING',
        archived: false,
        startTime,
        endTime: null,
        createdBy: principal.userId,
        optimizationId: null,
        filePath: null,
        fileName: null,
        // MLflow clients never beat: a null beat tells readers the stored status stands.
        lastHeartbeat: null,
        hasCrashed: false,
        error: null,
        statusDetail: null,
        createdAt: now,
        updatedAt: now,
      });
      if (tags.length > 0)
        await tx.values.append(
          id,
          'other',
          tags.map((t) => textValue(t, now)),
        );
      await tx.projects.update(project.id, { updatedAt: now });
    });
    await this.experiments.publishExperiment(id);
    return id;
  }

  /**
   * Changes what `runs/update` may: the status (MLflow's five, stored as status + detail), the end
   * time and the name. Only fields given change. RUNNING or SCHEDULED makes the run MLflow's
   * again (no beat), so a resumed Comet run reads as running.
   */
  async update(
    principal: Principal,
    runId: string,
    patch: { status?: MlflowRunStatus; endTime?: number; runName?: string },
  ): Promise<void> {
    requireScope(principal, 'write');
    if (patch.runName) rules.entryName('run', patch.runName);
    await this.store.transaction(async (tx) => {
      const experiment = await this.activeRun(tx, principal, runId);
      const now = this.clock.now();
      const change: Partial<Experiment> = { updatedAt: now };
      if (patch.status !== undefined) {
        Object.assign(change, STORED_STATUS[patch.status]);
        if (patch.status === 'RUNNING' || patch.status === 'SCHEDULED') {
          Object.assign(change, { lastHeartbeat: null, hasCrashed: false, error: null });
        } else if (patch.endTime === undefined && experiment.endTime === null) {
          change.endTime = now;
        }
      }
      if (patch.endTime !== undefined) change.endTime = patch.endTime;
      if (patch.runName) change.name = patch.runName;
      await tx.experiments.update(experiment.id, change);
    });
    await this.experiments.publishExperiment(runId);
  }

  /** `runs/delete` archives the run, `runs/restore` brings it back; neither checks the state. */
  async setDeleted(principal: Principal, runId: string, deleted: boolean): Promise<void> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const experiment = await this.run(tx, principal, runId, true);
      await tx.experiments.update(experiment.id, { archived: deleted, updatedAt: this.clock.now() });
    });
    await this.experiments.publishExperiment(runId);
  }

  /**
   * MLflow's log-batch: nothing of a batch is stored when anything of it is refused. Limits and
   * messages are MLflow's. Params are write-once (the same value again is accepted); tags are
   * upserted, the last of a key in the batch winning, `mlflow.runName` renaming the run. Metric
   * points that exactly repeat a stored point, or an earlier one of the batch, are dropped: only
   * a point not beyond the series' `latest` summary can repeat a stored one, so stored points are
   * read only for those.
   *
   * Group commit across runs: batches that arrive while an earlier group is committing are
   * committed together in one transaction (one fsync), each resolving once it is durable. Each
   * batch makes every check that can refuse it before it writes anything, so a refused batch
   * leaves the group's transaction untouched and only its own caller sees the error; a failed
   * commit rejects every caller of the group, none of whose batches were stored. Training jobs
   * logging to many runs at once (MLflow clients send ≤1000 metrics a request) share commits
   * instead of paying one each.
   */
  async logBatch(principal: Principal, runId: string, batch: RunBatch): Promise<void> {
    requireScope(principal, 'write');
    checkBatchLimits(batch);
    for (const key of new Set(batch.metrics.map((m) => m.key))) checkKey('metric', key);
    for (const param of batch.params) {
      checkKey('param', param.key);
      checkValueLength('Param', param.key, param.value, MAX_PARAM_VALUE_LENGTH);
    }
    for (const tag of batch.tags) {
      checkKey('tag', tag.key);
      checkValueLength('Tag', tag.key, tag.value, MAX_TAG_VALUE_LENGTH);
    }
    const counts = new Map<string, number>();
    for (const param of batch.params) counts.set(param.key, (counts.get(param.key) ?? 0) + 1);
    const duplicated = [...counts].filter(([, n]) => n > 1).map(([key]) => key);
    if (duplicated.length > 0) {
      throw new InvalidArgumentError(
        `Duplicate parameter keys have been submitted: ${pythonList(duplicated)}. Please ensure the request contains only one param value per param key.`,
      );
    }
    // Last of the checks: a batch refused for its content does not use up the caller's points.
    this.pointsLimit.take(principal, batch.metrics.length);
    const renamed = await new Promise<boolean>((resolve, reject) => {
      this.batches.push({ principal, runId, batch, now: this.clock.now(), resolve, reject });
      if (!this.committingBatches) void this.commitBatches();
    });
    if (renamed) await this.experiments.publishExperiment(runId);
  }

  private readonly batches: PendingBatch[] = [];
  private committingBatches = false;

  private async commitBatches(): Promise<void> {
    this.committingBatches = true;
    // One turn of the event loop first: the embedded store commits synchronously, so requests that
    // arrived during the last commit are only read after it; this lets them join the group.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.batches.length > 0) {
      // Run order: concurrent groups on other nodes take experiment row locks in the same order.
      const group = this.batches
        .splice(0, this.batches.length)
        .sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
      try {
        const outcomes = await this.store.transaction(async (tx) => {
          const done: ({ events: LiveEvent[]; renamed: boolean } | { refused: unknown })[] = [];
          for (const pending of group) {
            try {
              done.push(await this.applyBatch(tx, pending));
            } catch (error) {
              // A refusal comes before the batch's first write (applyBatch checks first).
              if (!(error instanceof DomainError)) throw error;
              done.push({ refused: error });
            }
          }
          return done;
        });
        group.forEach((pending, i) => {
          const outcome = outcomes[i] as (typeof outcomes)[number];
          if ('refused' in outcome) {
            pending.reject(outcome.refused);
          } else {
            for (const event of outcome.events) this.live.publish(event);
            pending.resolve(outcome.renamed);
          }
        });
      } catch (error) {
        for (const pending of group) pending.reject(error);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.committingBatches = false;
  }

  /** One batch of a group: every check that can refuse it, then its writes. */
  private async applyBatch(
    tx: Repositories,
    { principal, runId, batch, now }: PendingBatch,
  ): Promise<{ events: LiveEvent[]; renamed: boolean }> {
    const experiment = await this.activeRun(tx, principal, runId);
    const freshParams = await this.newParams(tx, experiment, batch.params);
    const tags = new Map<string, string>();
    for (const tag of batch.tags) tags.set(tag.key, tag.value);
    const name = tags.get(RUN_NAME_TAG);
    tags.delete(RUN_NAME_TAG);
    const newName = name === undefined ? undefined : name === '' ? null : rules.entryName('run', name);
    const points = await this.newPoints(tx, experiment.id, batch.metrics);

    const events: LiveEvent[] = [];
    if (freshParams.length > 0) {
      await tx.values.append(
        experiment.id,
        'param',
        freshParams.map((p) => textValue(p, now)),
      );
    }
    if (tags.size > 0) {
      await tx.values.append(
        experiment.id,
        'other',
        [...tags].map(([key, value]) => textValue({ key, value }, now)),
      );
    }
    if (points.length > 0) {
      const offsets = await tx.series.append(experiment.id, points);
      events.push(await pointsEvent(tx, experiment, points, offsets));
    }
    for (const [kind, names] of [
      ['param', batch.params.map((p) => p.key)],
      ['other', [...tags.keys()]],
    ] as const) {
      if (names.length > 0) {
        events.push({
          type: 'values',
          experimentId: experiment.id,
          projectId: experiment.projectId,
          kind,
          names: [...new Set(names)].sort(),
        });
      }
    }
    const patch: Partial<Experiment> = { updatedAt: now };
    if (newName !== undefined) patch.name = newName;
    await tx.experiments.update(experiment.id, patch);
    return { events, renamed: newName !== undefined };
  }

  /**
   * Params are write-once: the batch's params not logged yet. A different value for a key already
   * logged is refused; the same value again is accepted and not stored twice.
   */
  private async newParams(tx: Repositories, experiment: Experiment, params: readonly KeyValue[]): Promise<KeyValue[]> {
    if (params.length === 0) return [];
    const keys = params.map((p) => p.key);
    const stored = (await tx.values.listCurrentOf([experiment.id], 'param', keys)).get(experiment.id) ?? [];
    const current = new Map(stored.map((v) => [v.name, v.text]));
    const fresh: KeyValue[] = [];
    for (const param of params) {
      const old = current.get(param.key);
      if (old === undefined) fresh.push(param);
      else if (old !== param.value) {
        throw new InvalidArgumentError(
          `Changing param values is not allowed. Param with key='${param.key}' was already logged with value='${old}' for run ID='${experiment.id}'. Attempted logging new value '${param.value}'.`,
        );
      }
    }
    return fresh;
  }

  /** The batch's points less exact repeats of stored points and of earlier points of the batch. */
  private async newPoints(
    tx: Repositories,
    experimentId: string,
    metrics: readonly RunMetricInput[],
  ): Promise<MetricPointInput[]> {
    if (metrics.length === 0) return [];
    const names = [...new Set(metrics.map((m) => m.key))];
    const summaries = new Map(
      ((await tx.series.listSummariesOf([experimentId], names)).get(experimentId) ?? []).map((s) => [s.name, s]),
    );
    const points: MetricPointInput[] = metrics.map((m) => ({
      name: m.key,
      value: m.value,
      step: m.step,
      epoch: null,
      timestamp: rules.timestamp(m.timestamp, 0),
      context: null,
    }));
    // Steps at which stored points may be repeated, per series: read only those.
    const suspect = new Map<string, { from: number; to: number }>();
    for (const point of points) {
      const summary = summaries.get(point.name);
      if (!summary || beyondLatest(point, summary)) continue;
      const step = point.step ?? 0;
      const range = suspect.get(point.name);
      suspect.set(
        point.name,
        range ? { from: Math.min(range.from, step), to: Math.max(range.to, step) } : { from: step, to: step },
      );
    }
    if (suspect.size === 0 && strictlyIncreasing(points)) return points;
    const seen = new Set<string>();
    for (const [name, range] of suspect) {
      const stored = await tx.series.readPoints(experimentId, name, { stepFrom: range.from, stepTo: range.to });
      for (const p of stored) seen.add(pointKey(name, p.step ?? 0, p.timestamp, p.value));
    }
    return points.filter((point) => {
      const key = pointKey(point.name, point.step ?? 0, point.timestamp, point.value);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  /**
   * Removes a run tag: an "other" with its history, or a Comet label. A key the run does not have
   * is "not found", as in MLflow. The name (`mlflow.runName`) cannot be taken away.
   */
  async deleteTag(principal: Principal, runId: string, key: string): Promise<void> {
    requireScope(principal, 'write');
    const removed = await this.store.transaction(async (tx) => {
      const experiment = await this.activeRun(tx, principal, runId);
      const found =
        (key === RUN_NAME_TAG && experiment.name !== null) ||
        (await tx.values.remove(experiment.id, 'other', key)) ||
        (await tx.experiments.removeTag(experiment.id, key));
      if (!found) throw new NotFoundError(`No tag with name: ${key} in run with id ${runId}`);
      if (key === RUN_NAME_TAG) return false;
      await tx.experiments.update(experiment.id, { updatedAt: this.clock.now() });
      return true;
    });
    if (removed) await this.experiments.publishExperiment(runId);
  }

  /** Stores datasets the run used, once per (name, digest): the first logged is kept. */
  async logInputs(principal: Principal, runId: string, datasets: readonly DatasetInput[]): Promise<void> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const experiment = await this.activeRun(tx, principal, runId);
      const now = this.clock.now();
      await tx.inputs.put(datasets.map((d) => ({ experimentId: experiment.id, ...d, createdAt: now })));
      await tx.experiments.update(experiment.id, { updatedAt: now });
    });
  }

  /** One run's record; a run the caller cannot read is "not found". */
  async record(principal: Principal, runId: string): Promise<RunRecord> {
    const [record] = await this.records(principal, [runId]);
    if (!record) throw noSuchRun(runId);
    return record;
  }

  /**
   * Records of the runs among `keys` that exist and the caller may read, in the order of `keys`
   * (repeats once). One query per table whatever the number of runs: a search page of 1000 runs
   * costs the same few round trips as one run.
   */
  async records(principal: Principal, keys: readonly string[]): Promise<RunRecord[]> {
    requireScope(principal, 'read');
    const readAt = this.clock.now();
    const found = await this.store.experiments.getMany([...new Set(keys)]);
    const projects = new Map<string, Project | undefined>();
    for (const projectId of new Set(found.map((e) => e.projectId))) {
      projects.set(projectId, await this.store.projects.get(projectId));
    }
    const readable = found.filter((e) => {
      const project = projects.get(e.projectId);
      return project !== undefined && (isMember(principal, e.workspaceId) || canRead(principal, project));
    });
    if (readable.length === 0) return [];
    const ids = readable.map((e) => e.id);
    const [params, others, labels, metrics, inputs] = await Promise.all([
      this.store.values.listCurrentOf(ids, 'param'),
      this.store.values.listCurrentOf(ids, 'other'),
      this.store.experiments.listTagsOf(ids),
      this.store.series.listSummariesOf(ids),
      this.store.inputs.listOf(ids),
    ]);
    // Logged models the runs output (MLflow 3): few runs have models, one indexed read each.
    const models = new Map<string, ExperimentModel[]>();
    for (const id of ids) models.set(id, await this.store.assets.listModels(id));
    const creators = new Map<string, string>();
    for (const userId of new Set(readable.map((e) => e.createdBy))) {
      creators.set(userId, (await this.store.tenancy.getUser(userId))?.name ?? '');
    }
    return readable.map((experiment) => ({
      experiment,
      project: projects.get(experiment.projectId) as Project,
      creatorName: creators.get(experiment.createdBy) ?? '',
      params: params.get(experiment.id) ?? [],
      others: others.get(experiment.id) ?? [],
      labels: labels.get(experiment.id) ?? [],
      metrics: metrics.get(experiment.id) ?? [],
      inputs: inputs.get(experiment.id) ?? [],
      models: models.get(experiment.id) ?? [],
      readAt,
    }));
  }

  /**
   * A page of a metric's history: every point of the series (all contexts) in MLflow's order,
   * (timestamp, step, value), from `offset`, at most `limit` (all when undefined). `next` is the
   * offset of the following page while points remain. An unknown metric has no points.
   */
  async history(
    principal: Principal,
    runId: string,
    key: string,
    page: { offset: number; limit?: number },
  ): Promise<{ points: MetricPoint[]; next?: number }> {
    requireScope(principal, 'read');
    const experiment = await this.run(this.store, principal, runId, false);
    const all = (await this.store.series.readPoints(experiment.id, key)).sort(historyOrder);
    const end = page.limit === undefined ? all.length : Math.min(all.length, page.offset + page.limit);
    return { points: all.slice(page.offset, end), ...(end < all.length ? { next: end } : {}) };
  }

  /**
   * The histories of one metric of several runs (MLflow UI's get-history-bulk): by run in the
   * order given, each in history order, at most `maxResults` points in all.
   */
  async historyBulk(
    principal: Principal,
    runIds: readonly string[],
    key: string,
    maxResults: number,
  ): Promise<RunMetricPoint[]> {
    requireScope(principal, 'read');
    const result: RunMetricPoint[] = [];
    for (const runId of runIds) {
      if (result.length >= maxResults) break;
      const experiment = await this.run(this.store, principal, runId, false);
      const points = (await this.store.series.readPoints(experiment.id, key)).sort(historyOrder);
      for (const point of points.slice(0, maxResults - result.length)) result.push({ ...point, runId });
    }
    return result;
  }

  /**
   * MLflow's get-history-bulk-interval sampler (spec §7): the union of the runs' steps in
   * [startStep, endStep] (default 0 to the last step) thinned to `maxResults` evenly spaced ones
   * plus the last, and each run's first and last step in range; then every point of each run at
   * those steps, in (step, timestamp, value) order, at most 25,000 per run.
   */
  async sampledHistory(
    principal: Principal,
    runIds: readonly string[],
    key: string,
    options: { startStep?: number; endStep?: number; maxResults: number },
  ): Promise<RunMetricPoint[]> {
    requireScope(principal, 'read');
    const perRun: { runId: string; points: MetricPoint[] }[] = [];
    for (const runId of runIds) {
      const experiment = await this.run(this.store, principal, runId, false);
      perRun.push({ runId, points: await this.store.series.readPoints(experiment.id, key) });
    }
    const stepSet = new Set<number>();
    const minmax = new Set<number>();
    for (const { points } of perRun) {
      if (points.length === 0) continue;
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const p of points) {
        const step = p.step ?? 0;
        stepSet.add(step);
        min = Math.min(min, step);
        max = Math.max(max, step);
      }
      minmax.add(min).add(max);
    }
    const allSteps = [...stepSet].sort((a, b) => a - b);
    const start = options.startStep ?? 0;
    const end = options.endStep ?? allSteps[allSteps.length - 1] ?? 0;
    const i0 = allSteps.findIndex((s) => s >= start);
    const from = i0 === -1 ? allSteps.length : i0;
    let to = from;
    while (to < allSteps.length && (allSteps[to] as number) <= end) to++;
    const n = to - from;
    const sampled = new Set<number>();
    if (n <= options.maxResults) {
      for (let i = from; i < to; i++) sampled.add(allSteps[i] as number);
    } else {
      const interval = n / options.maxResults;
      for (let i = 0; i < options.maxResults; i++) {
        const index = from + Math.floor(i * interval);
        // MLflow compares the absolute index with the count, and so do we (spec §7, step 4).
        if (index < n) sampled.add(allSteps[index] as number);
      }
      sampled.add(allSteps[to - 1] as number);
    }
    for (const step of minmax) if (step >= start && step <= end) sampled.add(step);
    const result: RunMetricPoint[] = [];
    for (const { runId, points } of perRun) {
      const kept = points
        .filter((p) => sampled.has(p.step ?? 0))
        .sort((a, b) => (a.step ?? 0) - (b.step ?? 0) || a.timestamp - b.timestamp || compareValues(a.value, b.value))
        .slice(0, MAX_HISTORY_RESULTS);
      for (const point of kept) result.push({ ...point, runId });
    }
    return result;
  }

  /** A run the caller may read (or, with `write`, write); anything else is MLflow's not-found. */
  private async run(repos: Repositories, principal: Principal, runId: string, write: boolean): Promise<Experiment> {
    try {
      return write
        ? await this.experiments.writable(repos, principal, runId)
        : await this.experiments.readable(repos, principal, runId);
    } catch (error) {
      if (error instanceof NotFoundError) throw noSuchRun(runId);
      throw error;
    }
  }

  /** A writable run that is not deleted (archived): MLflow refuses writes to deleted runs. */
  private async activeRun(repos: Repositories, principal: Principal, runId: string): Promise<Experiment> {
    const experiment = await this.run(repos, principal, runId, true);
    if (experiment.archived) {
      throw new FailedPreconditionError(`The run ${runId} must be in the 'active' state. Current state is deleted.`);
    }
    return experiment;
  }
}

function noSuchRun(runId: string): NotFoundError {
  return new NotFoundError(`Run with id=${runId} not found`);
}

function lastValue(tags: readonly KeyValue[], key: string): string | undefined {
  let value: string | undefined;
  for (const tag of tags) if (tag.key === key) value = tag.value;
  return value;
}

/** MLflow params and tags are text, whatever they look like. */
function textValue(tag: KeyValue, now: number): LoggedValueInput {
  return { name: tag.key, type: 'string', text: tag.value, step: null, timestamp: now, context: null };
}

function checkBatchLimits(batch: RunBatch): void {
  const limit = (what: string, count: number, max: number) => {
    if (count > max) {
      throw new InvalidArgumentError(
        `A batch logging request can contain at most ${max} ${what}. Got ${count} ${what}. Please split up ${what} across multiple requests and try again.`,
      );
    }
  };
  limit('metrics', batch.metrics.length, MAX_BATCH_METRICS);
  limit('params', batch.params.length, MAX_BATCH_PARAMS);
  limit('tags', batch.tags.length, MAX_BATCH_TAGS);
  const total = batch.metrics.length + batch.params.length + batch.tags.length;
  if (total > MAX_BATCH_ITEMS) {
    throw new InvalidArgumentError(
      `A batch logging request can contain at most ${MAX_BATCH_ITEMS} metrics, params, and tags in total. Got ${total} total metrics, params, and tags. Please split up metrics, params, and tags across multiple requests and try again.`,
    );
  }
}
