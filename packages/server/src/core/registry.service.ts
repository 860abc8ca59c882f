import { MODEL_ELEMENT_TYPE } from './assets.service.js';
import type { Clock } from './clock.port.js';
import type { Asset, ExperimentModel, RegistryModel, RegistryVersion, Workspace } from './entities.js';
import { AlreadyExistsError, DomainError, InvalidArgumentError, NotFoundError, SdkErrorCode } from './errors.js';
import type { ExperimentsService } from './experiments.service.js';
import { newHexId } from './ids.js';
import { hidden, isMember, type Principal, requireScope } from './principal.js';
import type { Registration } from './registry.port.js';
import {
  compareVersions,
  DEFAULT_VERSION,
  type LatestFilter,
  latestVersion,
  properRegistryModelName,
  registryModelName,
  registryVersion,
  stageList,
  stageName,
} from './registry-rules.js';
import type { Repositories, Store } from './store.port.js';
import type { RegistryEvent, WebhooksService } from './webhooks.service.js';

/** A version with what readers see next to it. */
export interface RegistryVersionView {
  version: RegistryVersion;
  userName: string;
  /** The experiment model's files (its model-element assets); empty once the experiment is gone. */
  assets: Asset[];
}

/** A registry model as listed: its newest version only. */
export interface RegistryModelSummary {
  model: RegistryModel;
  workspace: Workspace;
  userName: string;
  versionCount: number;
  /** The highest version by semver precedence; null when the model has none left. */
  latest: RegistryVersionView | null;
}

/** A registry model with versions in ascending semver precedence (all, or the ones asked for). */
export interface RegistryModelDetails {
  model: RegistryModel;
  workspace: Workspace;
  userName: string;
  versionCount: number;
  versions: RegistryVersionView[];
}

export interface RegisterInput {
  experimentModelId: string;
  registryModelName: string;
  /** Absent: 1.0.0. */
  version?: string | null;
  isPublic?: boolean | null;
  description?: string | null;
  comment?: string | null;
  stages?: readonly string[] | null;
}

/** One version named by its version string or by a stage (the highest carrying it); neither = latest. */
export interface VersionChoice {
  version?: string | null;
  stage?: string | null;
}

type ModelRef = { workspaceName: string; modelName: string };

/**
 * The model registry: experiment models registered under a workspace-wide name, as semver
 * versions with stages. A registry model lives in the workspace of the experiment it was first
 * registered from. Members read and write; anyone may read a public model. Stage changes (and,
 * for URLs that ask, version creation and deletion) are recorded as webhook deliveries in the
 * same transaction.
 */
export class RegistryService {
  constructor(
    private readonly store: Store,
    private readonly experiments: ExperimentsService,
    private readonly webhooks: WebhooksService,
    private readonly clock: Clock,
  ) {}

  /** Models of a workspace by name: every model for members, the public ones for others. */
  async listModels(principal: Principal, workspaceName: string): Promise<RegistryModelSummary[]> {
    return (await this.pageModels(principal, workspaceName, {})).summaries;
  }

  /**
   * `listModels` a page at a time: `search` keeps the models whose name contains it (ignoring
   * case), `offset` and `limit` cut the page, `total` counts the models matching. Versions are
   * read for the models of the page only.
   */
  async pageModels(
    principal: Principal,
    workspaceName: string,
    page: { search?: string; offset?: number; limit?: number },
  ): Promise<{ summaries: RegistryModelSummary[]; total: number }> {
    requireScope(principal, 'read');
    const workspace = await workspaceByName(this.store, workspaceName);
    const models = await this.store.registry.listModels(workspace.id, !isMember(principal, workspace.id));
    const needle = page.search?.toLowerCase();
    const matching = needle ? models.filter((model) => model.name.toLowerCase().includes(needle)) : models;
    const offset = page.offset ?? 0;
    const shown = matching.slice(offset, page.limit === undefined ? undefined : offset + page.limit);
    const names = this.userNames();
    const summaries: RegistryModelSummary[] = [];
    for (const model of shown) {
      const versions = await this.store.registry.listVersions(model.id);
      const latest = latestVersion(versions);
      summaries.push({
        model,
        workspace,
        userName: await names(model.createdBy),
        versionCount: versions.length,
        latest: latest ? await this.versionView(latest, names) : null,
      });
    }
    return { summaries, total: matching.length };
  }

  async countModels(principal: Principal, workspaceName: string): Promise<number> {
    requireScope(principal, 'read');
    const workspace = await workspaceByName(this.store, workspaceName);
    return this.store.registry.countModels(workspace.id, !isMember(principal, workspace.id));
  }

  async details(principal: Principal, ref: ModelRef): Promise<RegistryModelDetails> {
    requireScope(principal, 'read');
    const { workspace, model } = await this.readableModel(this.store, principal, ref);
    const versions = (await this.store.registry.listVersions(model.id)).sort(compareVersions);
    return this.detailsOf(workspace, model, versions, versions);
  }

  /** The details with one version: the highest (semver) passing the filter; 404 when none does. */
  async latest(principal: Principal, ref: ModelRef, filter: LatestFilter): Promise<RegistryModelDetails> {
    requireScope(principal, 'read');
    const { workspace, model } = await this.readableModel(this.store, principal, ref);
    const versions = await this.store.registry.listVersions(model.id);
    const chosen = latestVersion(versions, filter);
    if (!chosen)
      throw new NotFoundError(`no version of registry model "${model.name}" matches ${describeFilter(filter)}`);
    return this.detailsOf(workspace, model, versions, [chosen]);
  }

  /** The details with the one version chosen by version string or stage (download, download instructions). */
  async choose(principal: Principal, ref: ModelRef, choice: VersionChoice): Promise<RegistryModelDetails> {
    if (choice.version && choice.stage) throw new InvalidArgumentError('give version or stage, not both');
    if (choice.stage) return this.latest(principal, ref, { stage: choice.stage });
    if (!choice.version) return this.latest(principal, ref, {});
    requireScope(principal, 'read');
    const { workspace, model } = await this.readableModel(this.store, principal, ref);
    const versions = await this.store.registry.listVersions(model.id);
    const chosen = versions.find((v) => v.version === choice.version);
    if (!chosen) throw new NotFoundError(`registry model "${model.name}" has no version ${choice.version}`);
    return this.detailsOf(workspace, model, versions, [chosen]);
  }

  async notes(principal: Principal, ref: ModelRef): Promise<string> {
    requireScope(principal, 'read');
    return (await this.readableModel(this.store, principal, ref)).model.notes;
  }

  /** Registrations of these (already readable) experiment models that the principal may see. */
  async registrations(principal: Principal, models: readonly ExperimentModel[]): Promise<Map<string, Registration[]>> {
    requireScope(principal, 'read');
    const found = await this.store.registry.listRegistrations(models.map((m) => m.id));
    const byExperimentModel = new Map<string, Registration[]>();
    for (const registration of found) {
      const { model, version } = registration;
      if (version.experimentModelId === null) continue;
      if (!model.isPublic && !isMember(principal, model.workspaceId)) continue;
      const list = byExperimentModel.get(version.experimentModelId) ?? [];
      list.push(registration);
      byExperimentModel.set(version.experimentModelId, list);
    }
    return byExperimentModel;
  }

  /**
   * Registers an experiment model as a new version. With `createModel` the registry model is
   * created when absent (its description and visibility apply then only); without it the model
   * must exist. The experiment's workspace is the registry model's.
   */
  async register(principal: Principal, input: RegisterInput, createModel: boolean): Promise<Registration> {
    requireScope(principal, 'write');
    const name = registryModelName(input.registryModelName);
    const versionText = registryVersion(input.version ?? DEFAULT_VERSION);
    const stages = stageList(input.stages ?? []);
    const attempt = () =>
      this.withEvents(async (tx, events) => {
        const experimentModel = await tx.registry.getExperimentModel(input.experimentModelId);
        if (!experimentModel) throw new NotFoundError(`experiment model ${input.experimentModelId} not found`);
        const experiment = await this.experiments.writable(tx, principal, experimentModel.experimentId);
        const workspace = await tx.tenancy.getWorkspace(experiment.workspaceId);
        if (!workspace) throw hidden('workspace');
        const now = this.clock.now();
        let model = await modelNamed(tx, workspace.id, input.registryModelName);
        if (model) {
          // Taking the model's row lock serialises versions added concurrently.
          await tx.registry.updateModel(model.id, { updatedAt: now });
          model = { ...model, updatedAt: now };
        } else {
          if (!createModel) throw modelNotFound(name, workspace.name);
          model = {
            id: newHexId(),
            workspaceId: workspace.id,
            name,
            description: input.description ?? null,
            isPublic: input.isPublic ?? false,
            notes: '',
            tags: {},
            createdBy: principal.userId,
            createdAt: now,
            updatedAt: now,
          };
          await tx.registry.insertModel(model);
        }
        if ((await tx.registry.listVersions(model.id)).some((v) => v.version === versionText)) {
          throw new AlreadyExistsError(`registry model "${name}" already has version ${versionText}`);
        }
        const version: RegistryVersion = {
          id: newHexId(),
          registryModelId: model.id,
          version: versionText,
          number: await tx.registry.nextVersionNumber(model.id),
          experimentModelId: experimentModel.id,
          experimentId: experimentModel.experimentId,
          experimentModelName: experimentModel.name,
          comment: input.comment ?? null,
          stages,
          source: null,
          runLink: null,
          status: null,
          tags: {},
          createdBy: principal.userId,
          createdAt: now,
          updatedAt: now,
        };
        await tx.registry.insertVersion(version);
        const event = { workspace, model, version, userName: principal.userName, timestamp: now };
        events.push({ ...event, type: 'MODEL_VERSION_CREATED', stage: null });
        for (const stage of stages) events.push({ ...event, type: 'STAGE_ADDED', stage });
        return { model, version };
      });
    try {
      return await attempt();
    } catch (error) {
      // Two registrations racing for one new model or one version both pass the checks above;
      // the loser's insert then fails on a unique constraint. A lost version race is a conflict;
      // a lost model race is retried once, and then finds the model the winner created.
      if (error instanceof DomainError) throw error;
      const state = await this.raceState(input.experimentModelId, name, versionText);
      if (state === 'version-exists') {
        throw new AlreadyExistsError(`registry model "${name}" already has version ${versionText}`);
      }
      if (state === 'model-exists') return attempt();
      throw error;
    }
  }

  /** Changes a version's comment and/or replaces its stages; each stage added or removed is an event. */
  async updateVersion(
    principal: Principal,
    versionId: string,
    patch: { comment?: string | null; stages?: readonly string[] | null },
  ): Promise<void> {
    requireScope(principal, 'write');
    const stages = patch.stages == null ? undefined : stageList(patch.stages);
    await this.withEvents(async (tx, events) => {
      const { workspace, model, version, now } = await this.lockVersion(tx, principal, versionId);
      if (patch.comment !== undefined) await tx.registry.updateVersion(version.id, { comment: patch.comment });
      if (stages === undefined) return;
      await tx.registry.setStages(version.id, stages);
      const after = { ...version, stages };
      const event = { workspace, model, version: after, userName: principal.userName, timestamp: now };
      for (const stage of version.stages.filter((s) => !stages.includes(s))) {
        events.push({ ...event, type: 'STAGE_REMOVED', stage });
      }
      for (const stage of stages.filter((s) => !version.stages.includes(s))) {
        events.push({ ...event, type: 'STAGE_ADDED', stage });
      }
    });
  }

  /** Adds a stage; adding one the version already has changes nothing and fires nothing. */
  async addStage(principal: Principal, versionId: string, stage: string): Promise<void> {
    requireScope(principal, 'write');
    stageName(stage);
    await this.withEvents(async (tx, events) => {
      const { workspace, model, version, now } = await this.lockVersion(tx, principal, versionId);
      if (version.stages.includes(stage)) return;
      const stages = stageList([...version.stages, stage]);
      await tx.registry.setStages(version.id, stages);
      const after = { ...version, stages };
      events.push({
        type: 'STAGE_ADDED',
        workspace,
        model,
        version: after,
        stage,
        userName: principal.userName,
        timestamp: now,
      });
    });
  }

  /** Removes a stage; a stage the version does not have is "not found". */
  async removeStage(principal: Principal, versionId: string, stage: string): Promise<void> {
    requireScope(principal, 'write');
    await this.withEvents(async (tx, events) => {
      const { workspace, model, version, now } = await this.lockVersion(tx, principal, versionId);
      if (!version.stages.includes(stage)) {
        throw new NotFoundError(`version ${version.version} of "${model.name}" has no stage "${stage}"`);
      }
      const stages = version.stages.filter((s) => s !== stage);
      await tx.registry.setStages(version.id, stages);
      const after = { ...version, stages };
      events.push({
        type: 'STAGE_REMOVED',
        workspace,
        model,
        version: after,
        stage,
        userName: principal.userName,
        timestamp: now,
      });
    });
  }

  async deleteVersion(principal: Principal, versionId: string): Promise<void> {
    requireScope(principal, 'write');
    await this.withEvents(async (tx, events) => {
      const { workspace, model, version, now } = await this.lockVersion(tx, principal, versionId);
      await tx.registry.deleteVersion(version.id);
      events.push({
        type: 'MODEL_VERSION_DELETED',
        workspace,
        model,
        version,
        stage: null,
        userName: principal.userName,
        timestamp: now,
      });
    });
  }

  /** Renames (to the proper form), describes or (un)publishes a model named by id. */
  async updateModel(
    principal: Principal,
    modelId: string,
    patch: { name?: string | null; description?: string | null; isPublic?: boolean | null },
  ): Promise<RegistryModel> {
    requireScope(principal, 'write');
    const name = patch.name == null ? undefined : registryModelName(patch.name);
    return this.store.transaction(async (tx) => {
      const found = await tx.registry.getModel(modelId);
      if (!found) throw modelIdNotFound(modelId);
      const { model } = await this.writable(tx, principal, found, () => modelIdNotFound(modelId));
      if (name !== undefined && name !== model.name && (await tx.registry.getModelByName(model.workspaceId, name))) {
        throw new AlreadyExistsError(`registry model "${name}" already exists`);
      }
      const change = {
        ...(name !== undefined ? { name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.isPublic != null ? { isPublic: patch.isPublic } : {}),
        updatedAt: this.clock.now(),
      };
      await tx.registry.updateModel(model.id, change);
      return { ...model, ...change };
    });
  }

  /** Deletes a model with all its versions and its webhook configuration (no events are sent). */
  async deleteModel(principal: Principal, ref: ModelRef): Promise<void> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const { model } = await this.writableModel(tx, principal, ref);
      await tx.registry.deleteModel(model.id);
    });
  }

  async setNotes(principal: Principal, ref: ModelRef, notes: string): Promise<void> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const { model } = await this.writableModel(tx, principal, ref);
      await tx.registry.updateModel(model.id, { notes, updatedAt: this.clock.now() });
    });
  }

  /** Runs a write that may raise events; their deliveries commit with it, then the dispatcher is woken. */
  private async withEvents<T>(work: (tx: Repositories, events: RegistryEvent[]) => Promise<T>): Promise<T> {
    const { result, recorded } = await this.store.transaction(async (tx) => {
      const events: RegistryEvent[] = [];
      const result = await work(tx, events);
      return { result, recorded: events.length > 0 ? await this.webhooks.enqueue(tx, events) : 0 };
    });
    if (recorded > 0) this.webhooks.notify();
    return result;
  }

  /**
   * A version the principal may change, read again under its row lock (taken by touching it, with
   * its model), so concurrent stage changes on PostgreSQL queue up instead of losing each other.
   * The model's lock comes first, as in every registry write (ModelRegistryService too): one
   * order means two writers never wait on each other's locks.
   */
  private async lockVersion(tx: Repositories, principal: Principal, versionId: string) {
    const found = await tx.registry.getVersion(versionId);
    if (!found) throw versionNotFound(versionId);
    const model = await tx.registry.getModel(found.registryModelId);
    if (!model) throw versionNotFound(versionId);
    const { workspace } = await this.writable(tx, principal, model, () => versionNotFound(versionId));
    const now = this.clock.now();
    await tx.registry.updateModel(model.id, { updatedAt: now });
    await tx.registry.updateVersion(found.id, { updatedAt: now });
    const version = await tx.registry.getVersion(versionId);
    if (!version) throw versionNotFound(versionId);
    return { workspace, model: { ...model, updatedAt: now }, version, now };
  }

  private async readableModel(
    repos: Repositories,
    principal: Principal,
    ref: ModelRef,
  ): Promise<{ workspace: Workspace; model: RegistryModel }> {
    const workspace = await workspaceByName(repos, ref.workspaceName);
    const model = await modelNamed(repos, workspace.id, ref.modelName);
    if (!model || !(model.isPublic || isMember(principal, workspace.id))) {
      throw modelNotFound(ref.modelName, workspace.name);
    }
    return { workspace, model };
  }

  private async writableModel(
    repos: Repositories,
    principal: Principal,
    ref: ModelRef,
  ): Promise<{ workspace: Workspace; model: RegistryModel }> {
    const { model } = await this.readableModel(repos, principal, ref);
    return this.writable(repos, principal, model, () => modelNotFound(ref.modelName, ref.workspaceName));
  }

  /**
   * Members write; a reader of a public model is told it lacks write access; to anyone else the
   * model does not exist (`hiddenAs`: the error naming what they asked for, so nothing leaks).
   */
  private async writable(
    repos: Repositories,
    principal: Principal,
    model: RegistryModel,
    hiddenAs: () => NotFoundError,
  ): Promise<{ workspace: Workspace; model: RegistryModel }> {
    const workspace = await repos.tenancy.getWorkspace(model.workspaceId);
    if (!workspace) throw hiddenAs();
    if (isMember(principal, workspace.id)) return { workspace, model };
    if (model.isPublic) {
      throw new NotFoundError(
        `registry model "${model.name}" is not in a workspace you belong to`,
        SdkErrorCode.noWriteAccess,
      );
    }
    throw hiddenAs();
  }

  private async detailsOf(
    workspace: Workspace,
    model: RegistryModel,
    all: readonly RegistryVersion[],
    shown: readonly RegistryVersion[],
  ): Promise<RegistryModelDetails> {
    const names = this.userNames();
    const versions: RegistryVersionView[] = [];
    for (const version of shown) versions.push(await this.versionView(version, names));
    return { model, workspace, userName: await names(model.createdBy), versionCount: all.length, versions };
  }

  private async versionView(
    version: RegistryVersion,
    names: (userId: string) => Promise<string>,
  ): Promise<RegistryVersionView> {
    const assets =
      version.experimentModelId === null
        ? []
        : await this.store.assets.list(version.experimentId, {
            groupingName: version.experimentModelName,
            type: MODEL_ELEMENT_TYPE,
          });
    return { version, userName: await names(version.createdBy), assets };
  }

  /** User names by id, each looked up once per call. */
  private userNames(): (userId: string) => Promise<string> {
    const cache = new Map<string, Promise<string>>();
    return (userId) => {
      let name = cache.get(userId);
      if (!name) {
        name = this.store.tenancy.getUser(userId).then((user) => user?.name ?? '');
        cache.set(userId, name);
      }
      return name;
    };
  }

  /** After a failed registration: whether a racing registration made the model or the version meanwhile. */
  private async raceState(
    experimentModelId: string,
    name: string,
    version: string,
  ): Promise<'version-exists' | 'model-exists' | undefined> {
    const experimentModel = await this.store.registry.getExperimentModel(experimentModelId);
    const experiment = experimentModel && (await this.store.experiments.get(experimentModel.experimentId));
    const model = experiment && (await modelNamed(this.store, experiment.workspaceId, name));
    if (!model) return undefined;
    const versions = await this.store.registry.listVersions(model.id);
    return versions.some((v) => v.version === version) ? 'version-exists' : 'model-exists';
  }
}

/**
 * A model by the name a client gave: exactly as given (models registered through MLflow keep
 * their names), else in Comet's proper form (comet_ml's own names, and sloppy spellings of them).
 */
async function modelNamed(repos: Repositories, workspaceId: string, name: string): Promise<RegistryModel | undefined> {
  return (
    (await repos.registry.getModelByName(workspaceId, name)) ??
    (await repos.registry.getModelByName(workspaceId, properRegistryModelName(name)))
  );
}

async function workspaceByName(repos: Repositories, name: string): Promise<Workspace> {
  const workspace = await repos.tenancy.getWorkspaceByName(name);
  if (!workspace) throw new NotFoundError(`workspace "${name}" not found`, SdkErrorCode.nonExistingTeam);
  return workspace;
}

function modelNotFound(name: string, workspaceName: string): NotFoundError {
  return new NotFoundError(
    `registry model "${name}" not found in workspace "${workspaceName}"`,
    SdkErrorCode.registryModelNotFound,
  );
}

function modelIdNotFound(id: string): NotFoundError {
  return new NotFoundError(`registry model ${id} not found`, SdkErrorCode.noModelToUpdate);
}

function versionNotFound(id: string): NotFoundError {
  return new NotFoundError(`registry model version ${id} not found`, SdkErrorCode.noModelToUpdate);
}

function describeFilter(filter: LatestFilter): string {
  const parts = [
    filter.stage !== undefined ? `stage "${filter.stage}"` : '',
    filter.versionMajor !== undefined ? `major ${filter.versionMajor}` : '',
    filter.versionMinor !== undefined ? `minor ${filter.versionMinor}` : '',
  ].filter(Boolean);
  return parts.length > 0 ? parts.join(', ') : 'any version';
}
