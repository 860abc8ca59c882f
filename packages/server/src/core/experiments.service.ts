import type { Readable } from 'node:stream';
import type { BlobStore } from './blob.port.js';
import type { Clock } from './clock.port.js';
import type {
  DocumentKind,
  Experiment,
  ExperimentStatus,
  LoggedValue,
  LoggedValueInput,
  OutputLine,
  OutputLineInput,
  Project,
  ValueKind,
  Workspace,
} from './entities.js';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, SdkErrorCode } from './errors.js';
import { newHexId } from './ids.js';
import { canRead, hidden, isMember, type Principal, requireScope } from './principal.js';
import { gitPatchBlobKey, type ProjectRef, type ProjectsService } from './projects.service.js';
import * as rules from './rules.js';
import type { Repositories, Store } from './store.port.js';

export interface ExperimentView {
  experiment: Experiment;
  project: Project;
  workspace: Workspace;
  creatorName: string;
}

/** A logged value as a caller sends it: typed from its JSON form. */
export interface ValueInput {
  name: string;
  value: string | number | boolean | null;
  step?: number | null;
  timestamp?: number | null;
  context?: string | null;
}

/** min/max/current of one parameter or other, each the logged value that supplied it. */
export interface ValueSummary {
  name: string;
  min: LoggedValue;
  max: LoggedValue;
  current: LoggedValue;
}

/** Log-other keys with a meaning of their own (spec §2: `Name` renames, `optimizer_id` links). */
const OTHER_NAME = 'Name';
const OTHER_OPTIMIZER_ID = 'optimizer_id';

/** Experiment lifecycle and everything logged to an experiment except metrics and assets. */
export class ExperimentsService {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly projects: ProjectsService,
    private readonly clock: Clock,
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
    const key = input.experimentKey ? rules.experimentKey(input.experimentKey) : newHexId();
    const id = await this.store.transaction(async (tx) => {
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
        name: input.experimentName ?? null,
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
        createdAt: now,
        updatedAt: now,
      });
      await tx.projects.update(project.id, { updatedAt: now });
      return key;
    });
    return this.get(principal, id);
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
    for (const experiment of experiments) views.push(await this.view(experiment));
    return views;
  }

  /** Ends the run: not running any more, with an end time if it had none. */
  async stop(principal: Principal, key: string): Promise<void> {
    await this.mutate(principal, key, (e, now) => ({
      status: e.status === 'RUNNING' ? 'SUCCEEDED' : e.status,
      endTime: e.endTime ?? now,
    }));
  }

  async setArchived(principal: Principal, key: string, archived: boolean): Promise<void> {
    await this.mutate(principal, key, () => ({ archived }));
  }

  async delete(principal: Principal, key: string): Promise<void> {
    requireScope(principal, 'write');
    const blobKeys = await this.store.transaction(async (tx) => {
      const experiment = await this.writable(tx, principal, key);
      const keys = (await tx.assets.list(experiment.id)).flatMap((a) => (a.blobKey ? [a.blobKey] : []));
      await tx.experiments.delete(experiment.id);
      return [...keys, gitPatchBlobKey(experiment.id)];
    });
    for (const blobKey of blobKeys) await this.blobs.delete(blobKey);
  }

  /** A heartbeat: the run is alive now. */
  async heartbeat(principal: Principal, key: string): Promise<void> {
    await this.mutate(principal, key, (_e, now) => ({ lastHeartbeat: now }));
  }

  /**
   * Sets start and/or end. A start given alone, with no end yet, puts the end one second later
   * (the comet_ml documented behaviour), so the duration is never negative or undefined.
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
      // Every experiment has a start (creation time), so only a missing end needs placing.
      if (start !== null && end === null && e.endTime === null) patch.endTime = start + 1000;
      const finalStart = patch.startTime ?? e.startTime;
      const finalEnd = patch.endTime ?? e.endTime;
      if (finalEnd !== null && finalEnd < finalStart) {
        throw new InvalidArgumentError('endTimeMillis must not be before startTimeMillis');
      }
      return patch;
    });
  }

  /** The client's own status report: alive, or ended (crashed or with an error). */
  async updateStatus(
    principal: Principal,
    key: string,
    report: { isAlive: boolean; hasCrashed?: boolean; error?: string | null },
  ): Promise<void> {
    await this.mutate(principal, key, (e, now) => {
      const failed = Boolean(report.hasCrashed) || Boolean(report.error);
      const status: ExperimentStatus = report.isAlive ? 'RUNNING' : failed ? 'FAILED' : 'SUCCEEDED';
      return {
        status,
        hasCrashed: Boolean(report.hasCrashed),
        error: report.error ?? null,
        lastHeartbeat: report.isAlive ? now : e.lastHeartbeat,
        endTime: report.isAlive ? e.endTime : (e.endTime ?? now),
      };
    });
  }

  async setFilePath(principal: Principal, key: string, filePath: string): Promise<void> {
    const fileName = filePath.split(/[\\/]/).pop() ?? filePath;
    await this.mutate(principal, key, () => ({ filePath, fileName }));
  }

  /** Moves experiments to another project, or symlinks them into it when `symlink`. */
  async move(
    principal: Principal,
    input: { targetWorkspaceName: string; targetProjectName: string; experimentKeys: string[]; symlink: boolean },
  ): Promise<void> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const { project, workspace } = await this.projects.ensureProject(
        tx,
        principal,
        input.targetWorkspaceName,
        input.targetProjectName,
      );
      for (const key of input.experimentKeys) {
        const experiment = await this.writable(tx, principal, key);
        if (input.symlink) {
          if (experiment.projectId !== project.id) await tx.experiments.addSymlink(experiment.id, project.id);
        } else {
          await tx.experiments.update(experiment.id, {
            projectId: project.id,
            workspaceId: workspace.id,
            updatedAt: this.clock.now(),
          });
        }
      }
    });
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

  async logValues(principal: Principal, key: string, kind: ValueKind, inputs: ValueInput[]): Promise<void> {
    requireScope(principal, 'write');
    const now = this.clock.now();
    const values = inputs.map((input) => toLoggedValue(kind, input, now));
    await this.store.transaction(async (tx) => {
      const experiment = await this.writable(tx, principal, key);
      await tx.values.append(experiment.id, kind, values);
      const patch: Partial<Experiment> = { updatedAt: now };
      if (kind === 'other') {
        for (const v of values) {
          if (v.name === OTHER_NAME) patch.name = v.text;
          if (v.name === OTHER_OPTIMIZER_ID) patch.optimizationId = v.text;
        }
      }
      await tx.experiments.update(experiment.id, patch);
    });
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

  async addTags(principal: Principal, key: string, tags: string[]): Promise<void> {
    for (const tag of tags) rules.entryName('tag', tag);
    await this.withWritable(principal, key, (tx, e) => tx.experiments.addTags(e.id, tags));
  }

  async getTags(principal: Principal, key: string): Promise<string[]> {
    requireScope(principal, 'read');
    const experiment = await this.readable(this.store, principal, key);
    return this.store.experiments.listTags(experiment.id);
  }

  /** Replaces a document (code, graph, git metadata, cloud details, dependencies). */
  async setDocument(principal: Principal, key: string, kind: DocumentKind, body: string): Promise<void> {
    await this.withWritable(principal, key, (tx, e) => tx.experiments.putDocument(e.id, kind, body, this.clock.now()));
  }

  /** HTML is replaced when `override`, otherwise appended. */
  async logHtml(principal: Principal, key: string, html: string, override: boolean): Promise<void> {
    await this.withWritable(principal, key, async (tx, e) => {
      const previous = override ? '' : ((await tx.experiments.getDocument(e.id, 'html')) ?? '');
      await tx.experiments.putDocument(e.id, 'html', previous + html, this.clock.now());
    });
  }

  /** Merges system details: only the keys given change. */
  async mergeSystemDetails(principal: Principal, key: string, details: Record<string, unknown>): Promise<void> {
    await this.withWritable(principal, key, async (tx, e) => {
      const current = JSON.parse((await tx.experiments.getDocument(e.id, 'system-details')) ?? '{}') as Record<
        string,
        unknown
      >;
      const merged = { ...current, ...details };
      await tx.experiments.putDocument(e.id, 'system-details', JSON.stringify(merged), this.clock.now());
    });
  }

  async getDocument(principal: Principal, key: string, kind: DocumentKind): Promise<string | null> {
    requireScope(principal, 'read');
    const experiment = await this.readable(this.store, principal, key);
    return (await this.store.experiments.getDocument(experiment.id, kind)) ?? null;
  }

  async appendOutput(principal: Principal, key: string, lines: OutputLineInput[]): Promise<void> {
    await this.withWritable(principal, key, (tx, e) => tx.experiments.appendOutput(e.id, lines));
  }

  async getOutput(principal: Principal, key: string): Promise<OutputLine[]> {
    requireScope(principal, 'read');
    const experiment = await this.readable(this.store, principal, key);
    return this.store.experiments.listOutput(experiment.id);
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
    await this.store.transaction(async (tx) => {
      const experiment = await this.writable(tx, principal, key);
      const now = this.clock.now();
      await tx.experiments.update(experiment.id, { ...change(experiment, now), updatedAt: now });
    });
  }

  private async view(experiment: Experiment): Promise<ExperimentView> {
    const project = await this.store.projects.get(experiment.projectId);
    const workspace = await this.store.tenancy.getWorkspace(experiment.workspaceId);
    if (!project || !workspace) throw hidden('experiment');
    const creator = await this.store.tenancy.getUser(experiment.createdBy);
    return { experiment, project, workspace, creatorName: creator?.name ?? '' };
  }
}

function toLoggedValue(kind: ValueKind, input: ValueInput, now: number): LoggedValueInput {
  const label = kind === 'param' ? 'parameter' : 'other';
  rules.entryName(label, input.name);
  const base = {
    name: input.name,
    step: rules.optionalInteger('step', input.step),
    timestamp: rules.timestamp(input.timestamp, now),
    context: input.context ?? null,
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
