import type { Readable } from 'node:stream';
import { type BatchKey, type BatchOutcome, normaliseEach } from './batches.js';
import type { BlobStore } from './blob.port.js';
import type { Clock } from './clock.port.js';
import type {
  DocumentInfo,
  DocumentKind,
  Experiment,
  ExperimentStatus,
  LoggedValue,
  LoggedValueInput,
  OutputFilter,
  OutputLine,
  OutputLineInput,
  Project,
  ValueKind,
  Workspace,
} from './entities.js';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, SdkErrorCode } from './errors.js';
import { checkDocumentBody } from './experiment-documents.js';
import { newHexId } from './ids.js';
import type { LiveEventBus } from './live-events.port.js';
import { canRead, hidden, isMember, type Principal, requireScope } from './principal.js';
import { gitPatchBlobKey, type ProjectRef, type ProjectsService } from './projects.service.js';
import * as rules from './rules.js';
import type { Repositories, Store } from './store.port.js';

export interface ExperimentView {
  experiment: Experiment;
  project: Project;
  workspace: Workspace;
  creatorName: string;
  /** The run's state when the view was read (see `runState`). */
  run: RunState;
}

/**
 * How often clients are asked to beat (the heartbeat reply). A run is "running" while its client
 * beats; six missed beats in a row mean the client is gone (killed, crashed, cut off) without
 * having said so, which is why liveness is derived at read time and not stored. A run that has
 * never beaten (`lastHeartbeat` null: runs MLflow clients manage, which send no heartbeats) keeps
 * the status its client reports.
 */
export const HEARTBEAT_INTERVAL_MILLIS = 10_000;
export const HEARTBEAT_TIMEOUT_MILLIS = 6 * HEARTBEAT_INTERVAL_MILLIS;

/** An experiment's run as callers see it at one instant. */
export interface RunState {
  /** Stored as RUNNING and beaten within HEARTBEAT_TIMEOUT_MILLIS. */
  running: boolean;
  /**
   * The stored status, except that a RUNNING run whose beats stopped counts as ended: FAILED when
   * its client reported a crash or an error, SUCCEEDED otherwise.
   */
  status: ExperimentStatus;
  /** The stored end; for a run whose beats stopped, its last beat; null while running with no end. */
  endTime: number | null;
  /**
   * end − start, and now − start while running with no end: clients (Java reads a `long`) and
   * the UI want a number that grows during the run, not a null.
   */
  durationMillis: number;
}

export function runState(experiment: Experiment, now: number): RunState {
  const { status, startTime, endTime, lastHeartbeat } = experiment;
  const beating = lastHeartbeat === null || now - lastHeartbeat <= HEARTBEAT_TIMEOUT_MILLIS;
  if (status === 'RUNNING' && beating) {
    return { running: true, status, endTime, durationMillis: Math.max(0, (endTime ?? now) - startTime) };
  }
  const end = endTime ?? Math.max(startTime, lastHeartbeat ?? startTime);
  return {
    running: false,
    status: status === 'RUNNING' ? endedStatus(experiment) : status,
    endTime: end,
    durationMillis: Math.max(0, end - startTime),
  };
}

/** How a run that was RUNNING ends: FAILED when its client reported a crash or an error. */
function endedStatus(experiment: Experiment): ExperimentStatus {
  return experiment.hasCrashed || experiment.error !== null ? 'FAILED' : 'SUCCEEDED';
}

/** The fields that resume an ended run: running again, its old end and crash report cleared. */
function resumed(experiment: Experiment): Partial<Experiment> {
  if (experiment.status === 'RUNNING') return {};
  return { status: 'RUNNING', endTime: null, hasCrashed: false, error: null };
}

/** What `ExperimentsService.update` may change. */
export interface ExperimentUpdate {
  name?: string | null;
  status?: ExperimentStatus;
  archived?: boolean;
  startTime?: number;
  endTime?: number | null;
}

function checkTimes(start: number, end: number | null): void {
  if (!Number.isSafeInteger(start) || start < 0)
    throw new InvalidArgumentError('startTime must be a non-negative integer');
  if (end !== null && (!Number.isSafeInteger(end) || end < start)) {
    throw new InvalidArgumentError('endTime must be an integer not before startTime');
  }
}

/** Longest file path accepted: beyond any real OS path limit (Linux PATH_MAX is 4096). */
const MAX_FILE_PATH_LENGTH = 4096;

/** A logged value as a caller sends it: typed from its JSON form. */
export interface ValueInput {
  name: string;
  value: string | number | boolean | null;
  step?: number | null;
  timestamp?: number | null;
  context?: string | null;
}

/** A page of an experiment's output (see ExperimentsService.readOutput). */
export interface OutputPage {
  lines: OutputLine[];
  /** More matching lines follow the page (up to `upToLine`). */
  hasMore: boolean;
  /** Matching lines up to `upToLine`. */
  total: number;
  /** The last line when the page was read: what `total` counts up to. */
  upToLine: number;
}

/** min/max/current of one parameter or other, each the logged value that supplied it. */
export interface ValueSummary {
  name: string;
  min: LoggedValue;
  max: LoggedValue;
  current: LoggedValue;
}

/** Log-other keys with a meaning of their own (spec §2: `Name` renames, `optimizer_id` links). */
export const OTHER_NAME = 'Name';
const OTHER_OPTIMIZER_ID = 'optimizer_id';

/** Experiment lifecycle and everything logged to an experiment except metrics and assets. */
export class ExperimentsService {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly projects: ProjectsService,
    private readonly clock: Clock,
    private readonly live: LiveEventBus,
  ) {}

  async create(
    principal: Principal,
    input: {
      workspaceName: string;
      projectName: string;
      experimentName?: string | null;
      experimentKey?: string | null;
    },
  ): Promise<ExperimentView> {
    requireScope(principal, 'write');
    const id = await this.store.transaction((tx) => this.insert(tx, principal, input));
    await this.publishExperiment(id);
    return this.get(principal, id);
  }

  /**
   * Creates an experiment inside the caller's transaction (its project too when missing), under
   * the given key or a new one; a key in use is "already exists" (90999). Returns the key.
   */
  async insert(
    tx: Repositories,
    principal: Principal,
    input: {
      workspaceName: string;
      projectName: string;
      experimentName?: string | null;
      experimentKey?: string | null;
    },
  ): Promise<string> {
    requireScope(principal, 'write');
    const key = input.experimentKey ? rules.experimentKey(input.experimentKey) : newHexId();
    // An empty name is how some clients say "no name"; a given one follows the entry-name rules.
    const name = input.experimentName ? rules.entryName('experiment', input.experimentName) : null;
    const { project, workspace } = await this.projects.ensureProject(
      tx,
      principal,
      input.workspaceName,
      input.projectName,
    );
    if (await tx.experiments.get(key)) {
      throw new AlreadyExistsError(`experiment ${key} already exists`, SdkErrorCode.experimentAlreadyExists);
    }
    const now = this.clock.now();
    await tx.experiments.insert({
      id: key,
      projectId: project.id,
      workspaceId: workspace.id,
      name,
      status: 'RUNNING',
      archived: false,
      startTime: now,
      endTime: null,
      createdBy: principal.userId,
      optimizationId: null,
      filePath: null,
      fileName: null,
      lastHeartbeat: now,
      hasCrashed: false,
      error: null,
      statusDetail: null,
      createdAt: now,
      updatedAt: now,
    });
    await tx.projects.update(project.id, { updatedAt: now });
    return key;
  }

  async get(principal: Principal, key: string): Promise<ExperimentView> {
    requireScope(principal, 'read');
    return this.view(await this.readable(this.store, principal, key));
  }

  /** Experiments of a project (symlinked ones included), oldest first. */
  async list(principal: Principal, ref: ProjectRef, archived?: boolean): Promise<ExperimentView[]> {
    requireScope(principal, 'read');
    const { project } = await this.projects.findReadable(this.store, principal, ref);
    const experiments = await this.store.experiments.listInProject(project.id, archived);
    const views: ExperimentView[] = [];
    for (const experiment of experiments) {
      const view = await this.view(experiment);
      // A symlink left behind by a move to another workspace must not reveal the experiment to
      // callers who cannot read its home project.
      if (canRead(principal, view.project)) views.push(view);
    }
    return views;
  }

  /**
   * Ends the run: not running any more, with the end it already shows (its own, or its last beat
   * when the client went quiet), else now. A crash or error reported earlier makes it FAILED.
   */
  async stop(principal: Principal, key: string): Promise<void> {
    await this.mutate(principal, key, (e, now) => ({
      status: e.status === 'RUNNING' ? endedStatus(e) : e.status,
      endTime: runState(e, now).endTime ?? now,
    }));
  }

  /**
   * Changes an experiment's own fields in one transaction. Status RUNNING resumes an ended run
   * (as a heartbeat would); SUCCEEDED or FAILED ends it at `endTime`, else at the end it already
   * has, else now. The end may never fall before the start.
   */
  async update(principal: Principal, key: string, patch: ExperimentUpdate): Promise<ExperimentView> {
    const name = patch.name ? rules.entryName('experiment', patch.name) : patch.name === undefined ? undefined : null;
    await this.mutate(principal, key, (e, now) => {
      const change: Partial<Experiment> = {};
      if (name !== undefined) change.name = name;
      if (patch.archived !== undefined) change.archived = patch.archived;
      if (patch.startTime !== undefined) change.startTime = patch.startTime;
      if (patch.endTime !== undefined) change.endTime = patch.endTime;
      if (patch.status === 'RUNNING') {
        Object.assign(change, { ...resumed(e), lastHeartbeat: now }, patch.endTime ? { endTime: patch.endTime } : {});
      } else if (patch.status !== undefined) {
        change.status = patch.status;
        change.endTime = patch.endTime ?? e.endTime ?? now;
      }
      checkTimes(change.startTime ?? e.startTime, change.endTime === undefined ? e.endTime : change.endTime);
      return change;
    });
    return this.get(principal, key);
  }

  /** Ends the run now (or at `endTime`) with the given status, SUCCEEDED by default. */
  async end(
    principal: Principal,
    key: string,
    options: { status?: 'SUCCEEDED' | 'FAILED'; endTime?: number } = {},
  ): Promise<ExperimentView> {
    await this.mutate(principal, key, (e, now) => {
      const endTime = options.endTime ?? now;
      checkTimes(e.startTime, endTime);
      return { status: options.status ?? 'SUCCEEDED', endTime };
    });
    return this.get(principal, key);
  }

  async setArchived(principal: Principal, key: string, archived: boolean): Promise<void> {
    await this.mutate(principal, key, () => ({ archived }));
  }

  async delete(principal: Principal, key: string): Promise<void> {
    requireScope(principal, 'write');
    const blobKeys = await this.store.transaction(async (tx) => {
      const experiment = await this.writable(tx, principal, key);
      const keys = (await tx.assets.list(experiment.id)).flatMap((a) => (a.blobKey ? [a.blobKey] : []));
      for (const table of await tx.artifactTables.list(experiment.id)) keys.push(table.blobKey);
      await tx.experiments.delete(experiment.id);
      return [...keys, gitPatchBlobKey(experiment.id)];
    });
    for (const blobKey of blobKeys) await this.blobs.delete(blobKey);
  }

  /**
   * A heartbeat: the run is alive now. A beat for an ended run resumes it (the Java SDK beats for
   * an existing experiment it continues), so the old end and crash report no longer apply; a
   * stray beat after a stop only revives the run until it lapses again.
   */
  async heartbeat(principal: Principal, key: string): Promise<void> {
    await this.mutate(principal, key, (e, now) => ({ lastHeartbeat: now, ...resumed(e) }));
  }

  /**
   * Sets start and/or end. A start given alone, with no end yet, puts the end one second later;
   * an end given alone, before a start never set, puts the start one second earlier (both as
   * comet_ml documents), so the duration is never negative or undefined.
   */
  async setStartEndTime(
    principal: Principal,
    key: string,
    times: { startTimeMillis?: number | null; endTimeMillis?: number | null },
  ): Promise<void> {
    const start = times.startTimeMillis ?? null;
    const end = times.endTimeMillis ?? null;
    for (const [name, value] of [
      ['startTimeMillis', start],
      ['endTimeMillis', end],
    ] as const) {
      if (value !== null && (!Number.isSafeInteger(value) || value < 0)) {
        throw new InvalidArgumentError(`${name} must be a non-negative integer`);
      }
    }
    await this.mutate(principal, key, (e) => {
      const patch: Partial<Experiment> = {};
      if (start !== null) patch.startTime = start;
      if (end !== null) patch.endTime = end;
      if (start !== null && end === null && e.endTime === null) patch.endTime = start + 1000;
      // A start still at the creation time was never set. comet_ml documents set_end_time as
      // placing an unset start one second before the end; clients importing a past run call it
      // first, with an end long before the creation time.
      if (start === null && end !== null && e.startTime === e.createdAt && end < e.startTime) {
        patch.startTime = Math.max(0, end - 1000);
      }
      const finalStart = patch.startTime ?? e.startTime;
      const finalEnd = patch.endTime ?? e.endTime;
      if (finalEnd !== null && finalEnd < finalStart) {
        throw new InvalidArgumentError('endTimeMillis must not be before startTimeMillis');
      }
      return patch;
    });
  }

  /**
   * The client's own status report. comet_ml reports an exception with isAlive=true and the error
   * while the process still runs, so an alive report counts as a beat and keeps the error; a
   * report with isAlive=false ends the run, FAILED when it crashed or carries an error.
   */
  async updateStatus(
    principal: Principal,
    key: string,
    report: { isAlive: boolean; hasCrashed?: boolean | null; error?: string | null },
  ): Promise<void> {
    await this.mutate(principal, key, (e, now) => {
      const reported = { hasCrashed: Boolean(report.hasCrashed), error: report.error ? report.error : null };
      if (report.isAlive) return { ...resumed(e), lastHeartbeat: now, ...reported };
      return { status: endedStatus({ ...e, ...reported }), ...reported, endTime: e.endTime ?? now };
    });
  }

  /** Records the script that runs the experiment; `fileName` is its last path segment. */
  async setFilePath(principal: Principal, key: string, filePath: string): Promise<void> {
    if (filePath.length > MAX_FILE_PATH_LENGTH) {
      throw new InvalidArgumentError(`filePath must be at most ${MAX_FILE_PATH_LENGTH} characters`);
    }
    if (/[\u0000-\u001f\u007f]/.test(filePath)) {
      throw new InvalidArgumentError('filePath must not contain control characters');
    }
    // Windows clients send backslashes; a trailing separator does not make the name empty.
    const fileName =
      filePath
        .split(/[\\/]/)
        .filter((part) => part !== '')
        .pop() ?? '';
    await this.mutate(principal, key, () => ({ filePath, fileName }));
  }

  /**
   * Moves experiments to another project (of any workspace the caller belongs to), or symlinks
   * them into it when `symlink`. All or nothing: one bad key leaves every experiment where it was.
   */
  async move(
    principal: Principal,
    input: { targetWorkspaceName: string; targetProjectName: string; experimentKeys: string[]; symlink: boolean },
  ): Promise<void> {
    requireScope(principal, 'write');
    const moved = await this.store.transaction(async (tx) => {
      const moves: Experiment[] = [];
      const { project, workspace } = await this.projects.ensureProject(
        tx,
        principal,
        input.targetWorkspaceName,
        input.targetProjectName,
      );
      for (const key of input.experimentKeys) {
        const experiment = await this.writable(tx, principal, key);
        if (input.symlink) {
          // A symlink shows the experiment inside a project; across workspaces it would show it to
          // members who cannot read it (spec §2: symlinks stay within one workspace).
          if (experiment.workspaceId !== workspace.id) {
            throw new InvalidArgumentError(
              `experiment ${key} can only be symlinked into projects of its own workspace; move it instead`,
            );
          }
          if (experiment.projectId !== project.id) await tx.experiments.addSymlink(experiment.id, project.id);
        } else {
          moves.push(experiment);
          await tx.experiments.update(experiment.id, {
            projectId: project.id,
            workspaceId: workspace.id,
            updatedAt: this.clock.now(),
          });
        }
      }
      return moves;
    });
    // Watchers of the old project hear of the move when they can read its new home too.
    for (const before of moved) {
      const after = await this.store.experiments.get(before.id);
      const sameWorkspace = after?.workspaceId === before.workspaceId;
      await this.publishExperiment(before.id, sameWorkspace ? before.projectId : undefined);
    }
  }

  /** Symlinks an experiment into another project of its workspace (created when absent). */
  async symlink(principal: Principal, key: string, projectName: string): Promise<ExperimentView> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const experiment = await this.writable(tx, principal, key);
      const workspace = await tx.tenancy.getWorkspace(experiment.workspaceId);
      if (!workspace) throw hidden('workspace');
      const { project } = await this.projects.ensureProject(tx, principal, workspace.name, projectName);
      if (project.id !== experiment.projectId) await tx.experiments.addSymlink(experiment.id, project.id);
    });
    return this.get(principal, key);
  }

  /**
   * Logs parameters or others. With `batchKey` the batch is logged exactly once (a replay stores
   * nothing, see MetricsService.logMetricBatch); `lenient` leaves out unstorable entries instead
   * of refusing the batch.
   */
  async logValues(
    principal: Principal,
    key: string,
    kind: ValueKind,
    inputs: ValueInput[],
    options: { batchKey?: BatchKey; lenient?: boolean } = {},
  ): Promise<BatchOutcome> {
    requireScope(principal, 'write');
    const now = this.clock.now();
    const { valid: values, skipped } = normaliseEach(
      inputs,
      (input) => toLoggedValue(kind, input, now),
      options.lenient ?? false,
    );
    const outcome = await this.store.transaction(async (tx) => {
      const experiment = await this.writable(tx, principal, key);
      if (!(await this.firstApplication(tx, experiment.id, options.batchKey, now))) {
        return { applied: false as const, stored: 0, skipped: [] };
      }
      if (values.length > 0) await tx.values.append(experiment.id, kind, values);
      const patch: Partial<Experiment> = { updatedAt: now };
      if (kind === 'other') {
        for (const v of values) {
          if (v.name === OTHER_NAME) patch.name = v.text;
          if (v.name === OTHER_OPTIMIZER_ID) patch.optimizationId = v.text;
        }
      }
      await tx.experiments.update(experiment.id, patch);
      return { applied: true as const, stored: values.length, skipped, experiment, renamed: patch.name !== undefined };
    });
    if (!outcome.applied) return outcome;
    if (values.length > 0) {
      const names = [...new Set(values.map((v) => v.name))].sort();
      const { experiment } = outcome;
      this.live.publish({ type: 'values', experimentId: experiment.id, projectId: experiment.projectId, kind, names });
    }
    if (outcome.renamed) await this.publishExperiment(outcome.experiment.id);
    return { applied: true, stored: outcome.stored, skipped: outcome.skipped };
  }

  /** Records the batch key (when there is one); false when it was recorded before: a replay. */
  private async firstApplication(
    tx: Repositories,
    experimentId: string,
    batchKey: BatchKey | undefined,
    now: number,
  ): Promise<boolean> {
    return !batchKey || tx.clientBatches.markApplied(experimentId, batchKey.stream, batchKey.key, now);
  }

  /**
   * Per name: min and max numerically when every value is a number, else lexically; current is
   * the last logged. Ties keep the first value logged.
   */
  async summarizeValues(principal: Principal, key: string, kind: ValueKind): Promise<ValueSummary[]> {
    requireScope(principal, 'read');
    const experiment = await this.readable(this.store, principal, key);
    const byName = new Map<string, LoggedValue[]>();
    for (const value of await this.store.values.list(experiment.id, kind)) {
      const list = byName.get(value.name) ?? [];
      list.push(value);
      byName.set(value.name, list);
    }
    return [...byName].map(([name, values]) => {
      const numeric = values.every((v) => v.type === 'number');
      const less = (a: LoggedValue, b: LoggedValue) => (numeric ? Number(a.text) < Number(b.text) : a.text < b.text);
      let min = values[0] as LoggedValue;
      let max = min;
      for (const v of values) {
        if (less(v, min)) min = v;
        if (less(max, v)) max = v;
      }
      return { name, min, max, current: values[values.length - 1] as LoggedValue };
    });
  }

  /** Every logged value of that kind in the order they were logged, across names. */
  async valueHistory(principal: Principal, key: string, kind: ValueKind): Promise<LoggedValue[]> {
    requireScope(principal, 'read');
    const experiment = await this.readable(this.store, principal, key);
    const values = await this.store.values.list(experiment.id, kind);
    return values.sort((a, b) => a.seq - b.seq);
  }

  /**
   * Adds tags as a set. With `batchKey`, exactly once: a replayed call adds nothing and returns
   * false (it matters when a tag removed since must stay removed).
   */
  async addTags(
    principal: Principal,
    key: string,
    tags: string[],
    options: { batchKey?: BatchKey } = {},
  ): Promise<boolean> {
    for (const tag of tags) rules.entryName('tag', tag);
    requireScope(principal, 'write');
    const applied = await this.store.transaction(async (tx) => {
      const experiment = await this.writable(tx, principal, key);
      const now = this.clock.now();
      if (!(await this.firstApplication(tx, experiment.id, options.batchKey, now))) return false;
      await tx.experiments.addTags(experiment.id, tags);
      await tx.experiments.update(experiment.id, { updatedAt: now });
      return true;
    });
    if (applied) await this.publishExperiment(key);
    return applied;
  }

  /** Removes a tag; false (and nothing changes) when the experiment does not have it. */
  async removeTag(principal: Principal, key: string, tag: string): Promise<boolean> {
    requireScope(principal, 'write');
    const removed = await this.store.transaction(async (tx) => {
      const experiment = await this.writable(tx, principal, key);
      const removed = await tx.experiments.removeTag(experiment.id, tag);
      if (removed) await tx.experiments.update(experiment.id, { updatedAt: this.clock.now() });
      return removed;
    });
    if (removed) await this.publishExperiment(key);
    return removed;
  }

  async getTags(principal: Principal, key: string): Promise<string[]> {
    requireScope(principal, 'read');
    const experiment = await this.readable(this.store, principal, key);
    return this.store.experiments.listTags(experiment.id);
  }

  /**
   * Replaces a document (code, graph, git metadata, cloud details, dependencies). The JSON kinds
   * must hold the JSON shape every facade reads back (see checkDocumentBody).
   */
  async setDocument(principal: Principal, key: string, kind: DocumentKind, body: string): Promise<void> {
    checkDocumentBody(kind, body);
    await this.withWritable(principal, key, (tx, e) => tx.experiments.putDocument(e.id, kind, body, this.clock.now()));
  }

  /** HTML is replaced when `override`, otherwise appended. */
  async logHtml(principal: Principal, key: string, html: string, override: boolean): Promise<void> {
    await this.withWritable(principal, key, async (tx, e) => {
      const previous = override ? '' : ((await tx.experiments.getDocument(e.id, 'html')) ?? '');
      await tx.experiments.putDocument(e.id, 'html', previous + html, this.clock.now());
    });
  }

  async getDocument(principal: Principal, key: string, kind: DocumentKind): Promise<string | null> {
    requireScope(principal, 'read');
    const experiment = await this.readable(this.store, principal, key);
    return (await this.store.experiments.getDocument(experiment.id, kind)) ?? null;
  }

  /** A document with the time of its last write; undefined when that kind was never written. */
  async readDocument(
    principal: Principal,
    key: string,
    kind: DocumentKind,
  ): Promise<{ content: string; updatedAt: number } | undefined> {
    requireScope(principal, 'read');
    const experiment = await this.readable(this.store, principal, key);
    const entry = await this.store.experiments.getDocumentEntry(experiment.id, kind);
    return entry && { content: entry.body, updatedAt: entry.updatedAt };
  }

  /** The kinds of document the experiment has, with their sizes and last writes. */
  async listDocuments(principal: Principal, key: string): Promise<DocumentInfo[]> {
    requireScope(principal, 'read');
    const experiment = await this.readable(this.store, principal, key);
    return this.store.experiments.listDocuments(experiment.id);
  }

  /** Appends output lines; with `batchKey`, exactly once (a replay appends nothing and returns false). */
  async appendOutput(
    principal: Principal,
    key: string,
    lines: OutputLineInput[],
    batchKey?: BatchKey,
  ): Promise<boolean> {
    requireScope(principal, 'write');
    return this.store.transaction(async (tx) => {
      const experiment = await this.writable(tx, principal, key);
      const now = this.clock.now();
      if (!(await this.firstApplication(tx, experiment.id, batchKey, now))) return false;
      await tx.experiments.appendOutput(experiment.id, lines);
      await tx.experiments.update(experiment.id, { updatedAt: now });
      return true;
    });
  }

  /** The highest client offset among the experiment's output lines (0 when none has one). */
  async lastClientOffset(principal: Principal, key: string): Promise<number> {
    requireScope(principal, 'read');
    const experiment = await this.readable(this.store, principal, key);
    return this.store.clientBatches.lastOutputOffset(experiment.id);
  }

  async getOutput(principal: Principal, key: string): Promise<OutputLine[]> {
    requireScope(principal, 'read');
    const experiment = await this.readable(this.store, principal, key);
    return this.store.experiments.listOutput(experiment.id);
  }

  /**
   * A page of output lines matching `filter`, after line `afterLine`, in arrival order; filtered
   * and paged in the database, so an output of millions of lines costs a page, not the whole.
   * `total` counts every matching line up to `upToLine`, the last line when the page was read
   * (later pages read no further than their own `upToLine`). A reader paging on hands back
   * `counted` (the previous page's `total` and `upToLine`): only lines since then are counted
   * again, so a search over a long output is not rescanned for every page.
   */
  async readOutput(
    principal: Principal,
    key: string,
    query: {
      filter: OutputFilter;
      afterLine: number;
      limit: number;
      counted?: { total: number; upToLine: number };
    },
  ): Promise<OutputPage> {
    requireScope(principal, 'read');
    if (!Number.isSafeInteger(query.limit) || query.limit < 1) {
      throw new InvalidArgumentError('limit must be a positive integer');
    }
    if (!Number.isSafeInteger(query.afterLine) || query.afterLine < 0) {
      throw new InvalidArgumentError('afterLine must be a non-negative integer');
    }
    const experiment = await this.readable(this.store, principal, key);
    const filter: OutputFilter = { ...query.filter };
    if (filter.search === '') delete filter.search;
    // Read first: lines are numbered in commit order, so every line up to it is already visible.
    const last = await this.store.experiments.lastOutputLine(experiment.id);
    const counted = query.counted && query.counted.upToLine <= last ? query.counted : { total: 0, upToLine: 0 };
    const total =
      counted.total +
      (await this.store.experiments.countOutput(experiment.id, filter, {
        afterLine: counted.upToLine,
        upToLine: last,
      }));
    const lines = await this.store.experiments.readOutput(
      experiment.id,
      filter,
      { afterLine: query.afterLine, upToLine: last },
      query.limit + 1,
    );
    return { lines: lines.slice(0, query.limit), hasMore: lines.length > query.limit, total, upToLine: last };
  }

  /** Stores the git patch bytes verbatim (a zip from newer clients), replacing any earlier one. */
  async setGitPatch(principal: Principal, key: string, body: Readable, maxBytes: number): Promise<void> {
    requireScope(principal, 'write');
    const experiment = await this.writable(this.store, principal, key);
    await this.blobs.put(gitPatchBlobKey(experiment.id), body, { maxBytes });
    await this.store.transaction((tx) => tx.experiments.update(experiment.id, { updatedAt: this.clock.now() }));
  }

  async getGitPatch(principal: Principal, key: string): Promise<Readable | undefined> {
    requireScope(principal, 'read');
    const experiment = await this.readable(this.store, principal, key);
    return this.blobs.get(gitPatchBlobKey(experiment.id));
  }

  /** The experiment if the principal may read it; anything else is "not found". */
  async readable(repos: Repositories, principal: Principal, key: string): Promise<Experiment> {
    const experiment = await repos.experiments.get(key);
    if (!experiment) throw new NotFoundError(`experiment ${key} not found`, SdkErrorCode.nonExistingRun);
    // Members read everything in their workspace: the project is only needed for the public flag.
    if (isMember(principal, experiment.workspaceId)) return experiment;
    const project = await repos.projects.get(experiment.projectId);
    if (!project || !canRead(principal, project)) {
      throw new NotFoundError(`experiment ${key} not found`, SdkErrorCode.nonExistingRun);
    }
    return experiment;
  }

  /** The experiment if the principal is a member of its workspace. */
  async writable(repos: Repositories, principal: Principal, key: string): Promise<Experiment> {
    const experiment = await this.readable(repos, principal, key);
    if (!isMember(principal, experiment.workspaceId)) {
      throw new NotFoundError(`experiment ${key} not found in a workspace you belong to`, SdkErrorCode.noWriteAccess);
    }
    return experiment;
  }

  private async withWritable(
    principal: Principal,
    key: string,
    work: (tx: Repositories, experiment: Experiment) => Promise<void>,
  ): Promise<void> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const experiment = await this.writable(tx, principal, key);
      await work(tx, experiment);
      await tx.experiments.update(experiment.id, { updatedAt: this.clock.now() });
    });
  }

  private async mutate(
    principal: Principal,
    key: string,
    change: (experiment: Experiment, now: number) => Partial<Experiment>,
  ): Promise<void> {
    requireScope(principal, 'write');
    const { before, patch } = await this.store.transaction(async (tx) => {
      const experiment = await this.writable(tx, principal, key);
      const now = this.clock.now();
      const patch = change(experiment, now);
      await tx.experiments.update(experiment.id, { ...patch, updatedAt: now });
      return { before: experiment, patch };
    });
    await this.publishChange(before, patch);
  }

  /**
   * Publishes the experiment as it is now, after the commit that changed it (see LiveEventBus).
   * Live views are a convenience: a failure to read the snapshot loses the event, not the write.
   */
  async publishExperiment(key: string, previousProjectId?: string): Promise<void> {
    try {
      const experiment = await this.store.experiments.get(key);
      if (!experiment) return;
      const [view, tags] = await Promise.all([this.view(experiment), this.store.experiments.listTags(key)]);
      this.live.publish({
        type: 'experiment',
        experimentId: key,
        projectId: experiment.projectId,
        ...(previousProjectId && previousProjectId !== experiment.projectId ? { previousProjectId } : {}),
        view,
        tags,
      });
    } catch {
      // The write it follows has committed; see above.
    }
  }

  /** A beat alone is a heartbeat event; a change of what the experiment shows, an experiment event. */
  private async publishChange(before: Experiment, patch: Partial<Experiment>): Promise<void> {
    if (
      patch.lastHeartbeat !== undefined &&
      patch.lastHeartbeat !== null &&
      patch.lastHeartbeat !== before.lastHeartbeat
    ) {
      this.live.publish({
        type: 'heartbeat',
        experimentId: before.id,
        projectId: before.projectId,
        lastHeartbeat: patch.lastHeartbeat,
      });
    }
    const shown = ['name', 'status', 'archived', 'startTime', 'endTime'] as const;
    if (shown.some((field) => field in patch && patch[field] !== before[field]))
      await this.publishExperiment(before.id);
  }

  private async view(experiment: Experiment): Promise<ExperimentView> {
    const project = await this.store.projects.get(experiment.projectId);
    const workspace = await this.store.tenancy.getWorkspace(experiment.workspaceId);
    if (!project || !workspace) throw hidden('experiment');
    const creator = await this.store.tenancy.getUser(experiment.createdBy);
    const run = runState(experiment, this.clock.now());
    return { experiment, project, workspace, creatorName: creator?.name ?? '', run };
  }

  /**
   * Read-modify-write of one document, for partial writes (system details, dependencies).
   * Touching the experiment row first takes its row lock, so on PostgreSQL concurrent merges into
   * the same document queue up instead of losing each other's fields (comet_ml sends system
   * details one field per call).
   */
  async updateDocument(
    principal: Principal,
    key: string,
    kind: DocumentKind,
    change: (current: string | null) => string,
  ): Promise<void> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const experiment = await this.writable(tx, principal, key);
      const now = this.clock.now();
      await tx.experiments.update(experiment.id, { updatedAt: now });
      const current = (await tx.experiments.getDocument(experiment.id, kind)) ?? null;
      await tx.experiments.putDocument(experiment.id, kind, change(current), now);
    });
  }

  /**
   * Appends the output of one client call. Calls stay in arrival order; within a call, lines are
   * put in the client's offset order when every line has one. Offsets are never compared across
   * calls: comet_ml restarts them at 0 in each call. A missing timestamp is the server's time.
   * With `batchKey`, exactly once: a replayed call appends nothing and returns false.
   */
  async logOutput(
    principal: Principal,
    key: string,
    lines: {
      text: string;
      stderr: boolean;
      context: string | null;
      timestamp?: number | null;
      clientOffset?: number | null;
    }[],
    batchKey?: BatchKey,
  ): Promise<boolean> {
    const now = this.clock.now();
    const inputs: OutputLineInput[] = lines.map((line) => ({
      text: line.text,
      stderr: line.stderr,
      context: line.context,
      timestamp: rules.timestamp(line.timestamp, now),
      clientOffset: rules.optionalInteger('offset', line.clientOffset),
    }));
    if (inputs.every((line) => line.clientOffset !== null)) {
      inputs.sort((a, b) => (a.clientOffset as number) - (b.clientOffset as number));
    }
    return this.appendOutput(principal, key, inputs, batchKey);
  }
}

function toLoggedValue(kind: ValueKind, input: ValueInput, now: number): LoggedValueInput {
  const label = kind === 'param' ? 'parameter' : 'other';
  rules.entryName(label, input.name);
  const base = {
    name: input.name,
    step: rules.optionalInteger('step', input.step),
    timestamp: rules.timestamp(input.timestamp, now),
    context: rules.context(input.context),
  };
  const value = input.value;
  if (value === null || value === undefined) return { ...base, type: 'string', text: '' };
  if (typeof value === 'boolean') return { ...base, type: 'boolean', text: String(value) };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidArgumentError(`${label} "${input.name}" has a non-finite value`);
    return { ...base, type: 'number', text: String(value) };
  }
  if (typeof value !== 'string') {
    throw new InvalidArgumentError(`${label} "${input.name}" must be a number, string or boolean`);
  }
  return { ...base, type: 'string', text: value };
}
