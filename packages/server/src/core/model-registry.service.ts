import { MODEL_ELEMENT_TYPE } from './assets.service.js';
import type { Clock } from './clock.port.js';
import type { Asset, ExperimentModel, Project, RegistryModel, RegistryVersion, Workspace } from './entities.js';
import { AlreadyExistsError, DomainError, InvalidArgumentError, NotFoundError } from './errors.js';
import { newHexId } from './ids.js';
import { isMember, type Principal, requireScope } from './principal.js';
import * as rules from './rules.js';
import type { Repositories, Store } from './store.port.js';
import type { RegistryEvent, WebhooksService } from './webhooks.service.js';

/**
 * The model registry as MLflow clients address it (docs/api/mlflow.md, "Model registry"): models
 * by their exact names within one workspace, versions by integer number, one current stage per
 * version, aliases and tags. It is the same registry Comet's RegistryService serves: a version
 * created here is Comet version `n.0.0`, and stage changes fire Comet's stage webhooks.
 */

export const MLFLOW_STAGES = ['None', 'Staging', 'Production', 'Archived'] as const;
export type MlflowStage = (typeof MLFLOW_STAGES)[number];
/** The stages `archive_existing_versions` may be used with (MLflow's "active" stages). */
const ACTIVE_STAGES: readonly MlflowStage[] = ['Staging', 'Production'];
/** MLflow's column width for registered model names. */
export const MAX_MODEL_NAME_LENGTH = 256;
export const MAX_ALIAS_LENGTH = 255;
export const MAX_TAG_KEY_LENGTH = 250;
export const MAX_TAG_VALUE_LENGTH = 100_000;

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const ALIAS = /^[\w-]*$/u;
const VERSION_ALIAS = /^[vV]\d+$/;
const TAG_KEY = /^[/\w.\- :]*$/u;

/** Where a new version's files are: a run's files under a path, an MLflow logged model, or outside Cairn. */
export type VersionOrigin =
  | { kind: 'run-path'; runId: string; path: string }
  | { kind: 'logged-model'; loggedModelId: string }
  | { kind: 'external' };

export interface CreateVersionInput {
  modelName: string;
  /** The URI the client registered from, kept as given. */
  source: string;
  origin: VersionOrigin;
  /** The run an external source came from, if the client named one. */
  runId?: string | null;
  runLink?: string | null;
  description?: string | null;
  tags?: readonly { key: string; value: string }[];
}

/** A version with what MLflow shows beside it. */
export interface ModelVersionView {
  model: RegistryModel;
  version: RegistryVersion;
  /** MLflow's `current_stage` of the version's Comet stages. */
  stage: MlflowStage;
  aliases: string[];
  userName: string;
  /** The project of the run whose files the version serves; null when there is none (left). */
  project: Project | null;
}

export interface RegisteredModelView {
  model: RegistryModel;
  userName: string;
  /** The highest-numbered version of each current stage, in MLFLOW_STAGES order. */
  latestVersions: ModelVersionView[];
  /** Alias → version number, by alias. */
  aliases: { alias: string; number: number }[];
}

/** MLflow's `current_stage`: the first of the version's stages that is Staging, Production or Archived (any case). */
export function currentStage(stages: readonly string[]): MlflowStage {
  for (const stage of stages) {
    const known = knownStage(stage);
    if (known && known !== 'None') return known;
  }
  return 'None';
}

function knownStage(stage: string): MlflowStage | undefined {
  return MLFLOW_STAGES.find((s) => s.toLowerCase() === stage.toLowerCase());
}

/** A stage as a client wrote it, in MLflow's spelling; anything else is MLflow's invalid-stage error. */
export function canonicalStage(stage: string): MlflowStage {
  const known = knownStage(stage);
  if (!known) {
    throw new InvalidArgumentError(
      `Invalid Model Version stage: ${stage}. Value must be one of ${MLFLOW_STAGES.join(', ')}.`,
    );
  }
  return known;
}

/** The Comet stages after moving to `stage`: MLflow's three replaced by it, other stages kept. */
function stagesAfterTransition(stages: readonly string[], stage: MlflowStage): string[] {
  const kept = stages.filter((s) => {
    const known = knownStage(s);
    return !known || known === 'None';
  });
  return stage === 'None' ? kept : [...kept, stage];
}

/** MLflow's registered model name rules (utils/validation.py `_validate_model_name`), plus Cairn's control-character rule. */
export function mlflowModelName(name: string, parameter = 'name'): string {
  if (name.trim() === '') throw new InvalidArgumentError(`Missing value for required parameter '${parameter}'.`);
  if (name.includes('/') || name.includes(':')) {
    throw new InvalidArgumentError(`Invalid model name '${name}'. Names cannot contain '/' or ':'.`);
  }
  if (name === '.' || name === '..') {
    throw new InvalidArgumentError(
      `Invalid value ${JSON.stringify(name)} for parameter '${parameter}' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such.`,
    );
  }
  if (name.length > MAX_MODEL_NAME_LENGTH) {
    throw new InvalidArgumentError(`'${parameter}' exceeds the maximum length of ${MAX_MODEL_NAME_LENGTH} characters`);
  }
  if (CONTROL_CHARS.test(name)) {
    throw new InvalidArgumentError(`Invalid model name '${name}'. Names cannot contain control characters.`);
  }
  return name;
}

/** MLflow's alias rules (`_validate_alias_name`, `_validate_alias_name_reserved`). */
export function aliasName(alias: string): string {
  if (alias === '') throw new InvalidArgumentError('Registered model alias name cannot be empty.');
  if (!ALIAS.test(alias)) {
    throw new InvalidArgumentError(
      `Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`,
    );
  }
  if (alias.length > MAX_ALIAS_LENGTH) {
    throw new InvalidArgumentError(
      `'Registered model alias name' exceeds the maximum length of ${MAX_ALIAS_LENGTH} characters`,
    );
  }
  return alias;
}

function settableAlias(alias: string): string {
  aliasName(alias);
  if (alias.toLowerCase() === 'latest') {
    throw new InvalidArgumentError("'latest' alias name (case insensitive) is reserved.");
  }
  if (VERSION_ALIAS.test(alias)) throw new InvalidArgumentError(`Version alias name '${alias}' is reserved.`);
  return alias;
}

/** MLflow's registry tag rules (`_validate_registered_model_tag`). */
function registryTag(key: string, value: string): void {
  if (!TAG_KEY.test(key)) {
    throw new InvalidArgumentError(
      `Invalid value ${JSON.stringify(key)} for parameter 'key' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).`,
    );
  }
  if (key.length > MAX_TAG_KEY_LENGTH) {
    throw new InvalidArgumentError(`'key' exceeds the maximum length of ${MAX_TAG_KEY_LENGTH} characters`);
  }
  if (value.length > MAX_TAG_VALUE_LENGTH) {
    throw new InvalidArgumentError(`'value' exceeds the maximum length of ${MAX_TAG_VALUE_LENGTH} characters`);
  }
}

function tagMap(tags: readonly { key: string; value: string }[] | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  for (const { key, value } of tags ?? []) {
    registryTag(key, value);
    map[key] = value;
  }
  return map;
}

function modelNotFound(name: string): NotFoundError {
  return new NotFoundError(`Registered Model with name=${name} not found`);
}

function versionNotFound(name: string, number: number): NotFoundError {
  return new NotFoundError(`Model Version (name=${name}, version=${number}) not found`);
}

function runNotFound(runId: string): NotFoundError {
  return new NotFoundError(`Run with id=${runId} not found`);
}

function modelExists(name: string): AlreadyExistsError {
  return new AlreadyExistsError(`Registered Model (name=${name}) already exists.`);
}

/** The highest-numbered version in each current stage, in MLFLOW_STAGES order. */
function latestPerStage(versions: readonly ModelVersionView[], stages: readonly MlflowStage[]): ModelVersionView[] {
  const best = new Map<MlflowStage, ModelVersionView>();
  for (const view of versions) {
    const held = best.get(view.stage);
    if (!held || held.version.number < view.version.number) best.set(view.stage, view);
  }
  return stages.flatMap((stage) => {
    const view = best.get(stage);
    return view ? [view] : [];
  });
}

type Events = RegistryEvent[];

export class ModelRegistryService {
  constructor(
    private readonly store: Store,
    private readonly webhooks: WebhooksService,
    private readonly clock: Clock,
  ) {}

  async createModel(
    principal: Principal,
    workspace: Workspace,
    input: { name: string; description?: string | null; tags?: readonly { key: string; value: string }[] },
  ): Promise<RegisteredModelView> {
    requireScope(principal, 'write');
    const name = mlflowModelName(input.name);
    const tags = tagMap(input.tags);
    requireMember(principal, workspace);
    try {
      return await this.store.transaction(async (tx) => {
        if (await tx.registry.getModelByName(workspace.id, name)) throw modelExists(name);
        const now = this.clock.now();
        const model: RegistryModel = {
          id: newHexId(),
          workspaceId: workspace.id,
          name,
          description: input.description ?? null,
          isPublic: false,
          notes: '',
          tags,
          createdBy: principal.userId,
          createdAt: now,
          updatedAt: now,
        };
        await tx.registry.insertModel(model);
        return this.modelView(tx, model, []);
      });
    } catch (error) {
      // Two creations racing both pass the check; the loser fails on the unique name.
      if (!(error instanceof DomainError) && (await this.store.registry.getModelByName(workspace.id, name))) {
        throw modelExists(name);
      }
      throw error;
    }
  }

  async getModel(principal: Principal, workspace: Workspace, name: string): Promise<RegisteredModelView> {
    requireScope(principal, 'read');
    const model = await this.readableModel(this.store, principal, workspace, name);
    return this.modelView(this.store, model, await this.versionViews(this.store, [model]));
  }

  /** Every model of the workspace the principal may read, by name, with latest versions and aliases. */
  async listModels(principal: Principal, workspace: Workspace): Promise<RegisteredModelView[]> {
    requireScope(principal, 'read');
    const publicOnly = !isMember(principal, workspace.id);
    const models = await this.store.registry.listModels(workspace.id, publicOnly);
    const views = await this.versionViews(this.store, models, publicOnly);
    const names = this.userNames(this.store);
    const aliases = await this.store.registry.listAliases(models.map((m) => m.id));
    return Promise.all(
      models.map(async (model) => {
        const own = views.filter((v) => v.model.id === model.id);
        return {
          model,
          userName: await names(model.createdBy),
          latestVersions: latestPerStage(own, MLFLOW_STAGES),
          aliases: aliases
            .filter((a) => a.registryModelId === model.id)
            .flatMap((a) => {
              const version = own.find((v) => v.version.id === a.versionId);
              return version ? [{ alias: a.alias, number: version.version.number }] : [];
            }),
        };
      }),
    );
  }

  async renameModel(principal: Principal, workspace: Workspace, name: string, newName: string) {
    requireScope(principal, 'write');
    const target = mlflowModelName(newName, 'new_name');
    return this.store.transaction(async (tx) => {
      const model = await this.lockModel(tx, principal, workspace, name);
      if (target !== model.name && (await tx.registry.getModelByName(workspace.id, target))) {
        throw modelExists(target);
      }
      await tx.registry.updateModel(model.id, { name: target });
      const renamed = { ...model, name: target };
      return this.modelView(tx, renamed, await this.versionViews(tx, [renamed]));
    });
  }

  async updateModelDescription(principal: Principal, workspace: Workspace, name: string, description: string | null) {
    requireScope(principal, 'write');
    return this.store.transaction(async (tx) => {
      const model = await this.lockModel(tx, principal, workspace, name);
      await tx.registry.updateModel(model.id, { description });
      const updated = { ...model, description };
      return this.modelView(tx, updated, await this.versionViews(tx, [updated]));
    });
  }

  /** Deletes the model with its versions, tags and aliases (no webhook events, as Comet's delete). */
  async deleteModel(principal: Principal, workspace: Workspace, name: string): Promise<void> {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const model = await this.lockModel(tx, principal, workspace, name);
      await tx.registry.deleteModel(model.id);
    });
  }

  async setModelTag(principal: Principal, workspace: Workspace, name: string, key: string, value: string) {
    requireScope(principal, 'write');
    registryTag(key, value);
    await this.store.transaction(async (tx) => {
      const model = await this.lockModel(tx, principal, workspace, name);
      await tx.registry.updateModel(model.id, { tags: { ...model.tags, [key]: value } });
    });
  }

  /** Removes a model tag; a key the model does not have changes nothing, as in MLflow. */
  async deleteModelTag(principal: Principal, workspace: Workspace, name: string, key: string) {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const model = await this.lockModel(tx, principal, workspace, name);
      const { [key]: _removed, ...tags } = model.tags;
      await tx.registry.updateModel(model.id, { tags });
    });
  }

  /**
   * The highest-numbered version in each of these stages (every stage, "None" included, when
   * empty), in MLFLOW_STAGES order.
   */
  async latestVersions(
    principal: Principal,
    workspace: Workspace,
    name: string,
    stages: readonly string[],
  ): Promise<ModelVersionView[]> {
    requireScope(principal, 'read');
    const wanted = stages.length === 0 ? MLFLOW_STAGES : stages.map(canonicalStage);
    const model = await this.readableModel(this.store, principal, workspace, name);
    const views = await this.versionViews(this.store, [model]);
    return latestPerStage(
      views,
      MLFLOW_STAGES.filter((s) => wanted.includes(s)),
    );
  }

  /**
   * Creates the next version of a model, numbered one above its highest. Its files: for a run
   * path, the run's experiment model of that name (made from the run's files under `<path>/` when
   * it is not a model yet); for a logged model, its experiment model; nothing for other sources.
   * The Comet version is `<number>.0.0` (`<number>.0.0+mlflow` if a Comet client took that one).
   */
  async createVersion(
    principal: Principal,
    workspace: Workspace,
    input: CreateVersionInput,
  ): Promise<ModelVersionView> {
    requireScope(principal, 'write');
    const name = mlflowModelName(input.modelName);
    const tags = tagMap(input.tags);
    return this.withEvents(async (tx, events) => {
      const model = await this.lockModel(tx, principal, workspace, name);
      const files = await this.filesOf(tx, principal, input);
      const number = await tx.registry.nextVersionNumber(model.id);
      const taken = new Set((await tx.registry.listVersions(model.id)).map((v) => v.version));
      const cometVersion = taken.has(`${number}.0.0`) ? `${number}.0.0+mlflow` : `${number}.0.0`;
      if (taken.has(cometVersion)) {
        throw new AlreadyExistsError(`registry model "${name}" already has version ${cometVersion}`);
      }
      const now = this.clock.now();
      const version: RegistryVersion = {
        id: newHexId(),
        registryModelId: model.id,
        version: cometVersion,
        number,
        experimentModelId: files.experimentModel?.id ?? null,
        experimentId: files.experimentModel?.experimentId ?? files.runId ?? '',
        experimentModelName: files.experimentModel?.name ?? '',
        comment: input.description || null,
        stages: [],
        source: input.source,
        runLink: input.runLink || null,
        status: 'READY',
        tags,
        createdBy: principal.userId,
        createdAt: now,
        updatedAt: now,
      };
      await tx.registry.insertVersion(version);
      events.push({
        type: 'MODEL_VERSION_CREATED',
        workspace,
        model,
        version,
        stage: null,
        userName: principal.userName,
        timestamp: now,
      });
      return this.versionView(tx, model, version);
    });
  }

  async getVersion(
    principal: Principal,
    workspace: Workspace,
    name: string,
    number: number,
  ): Promise<ModelVersionView> {
    requireScope(principal, 'read');
    const model = await this.readableModel(this.store, principal, workspace, name);
    const version = await this.store.registry.getVersionByNumber(model.id, number);
    if (!version) throw versionNotFound(name, number);
    return this.versionView(this.store, model, version);
  }

  /** Every version of the workspace's readable models, by model id, then number. */
  async listVersions(principal: Principal, workspace: Workspace): Promise<ModelVersionView[]> {
    requireScope(principal, 'read');
    const publicOnly = !isMember(principal, workspace.id);
    const models = await this.store.registry.listModels(workspace.id, publicOnly);
    return this.versionViews(this.store, models, publicOnly);
  }

  /** The version's description is its Comet comment. */
  async updateVersionDescription(
    principal: Principal,
    workspace: Workspace,
    name: string,
    number: number,
    description: string | null,
  ): Promise<ModelVersionView> {
    requireScope(principal, 'write');
    return this.store.transaction(async (tx) => {
      const { model, version } = await this.lockVersion(tx, principal, workspace, name, number);
      await tx.registry.updateVersion(version.id, { comment: description });
      return this.versionView(tx, model, { ...version, comment: description });
    });
  }

  /**
   * Moves a version to an MLflow stage: its Staging/Production/Archived stages (any case) are
   * replaced by the new one, other Comet stages stay. With `archiveExisting` (Staging and
   * Production only) the model's other versions currently in that stage move to Archived. Every
   * stage added or removed is a Comet webhook event.
   */
  async transitionStage(
    principal: Principal,
    workspace: Workspace,
    name: string,
    number: number,
    stageText: string,
    archiveExisting: boolean,
  ): Promise<ModelVersionView> {
    requireScope(principal, 'write');
    const stage = canonicalStage(stageText);
    if (archiveExisting && !ACTIVE_STAGES.includes(stage)) {
      throw new InvalidArgumentError(
        `Model version transition cannot archive existing model versions because '${stageText}' is not an Active stage. Valid stages are [${ACTIVE_STAGES.map((s) => `'${s}'`).join(', ')}]`,
      );
    }
    return this.withEvents(async (tx, events) => {
      const { model, version, now } = await this.lockVersion(tx, principal, workspace, name, number);
      const change = async (target: RegistryVersion, to: MlflowStage): Promise<RegistryVersion> => {
        const stages = stagesAfterTransition(target.stages, to);
        await tx.registry.setStages(target.id, stages);
        await tx.registry.updateVersion(target.id, { updatedAt: now });
        const after = { ...target, stages, updatedAt: now };
        const event = { workspace, model, version: after, userName: principal.userName, timestamp: now };
        for (const removed of target.stages.filter((s) => !stages.includes(s))) {
          events.push({ ...event, type: 'STAGE_REMOVED', stage: removed });
        }
        for (const added of stages.filter((s) => !target.stages.includes(s))) {
          events.push({ ...event, type: 'STAGE_ADDED', stage: added });
        }
        return after;
      };
      if (archiveExisting) {
        for (const other of await tx.registry.listVersions(model.id)) {
          if (other.id !== version.id && currentStage(other.stages) === stage) await change(other, 'Archived');
        }
      }
      return this.versionView(tx, model, await change(version, stage));
    });
  }

  /** Deletes a version with its tags and aliases; Comet's MODEL_VERSION_DELETED event fires. */
  async deleteVersion(principal: Principal, workspace: Workspace, name: string, number: number): Promise<void> {
    requireScope(principal, 'write');
    await this.withEvents(async (tx, events) => {
      const { model, version, now } = await this.lockVersion(tx, principal, workspace, name, number);
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

  async setVersionTag(
    principal: Principal,
    workspace: Workspace,
    name: string,
    number: number,
    key: string,
    value: string,
  ): Promise<void> {
    requireScope(principal, 'write');
    registryTag(key, value);
    await this.store.transaction(async (tx) => {
      const { version } = await this.lockVersion(tx, principal, workspace, name, number);
      await tx.registry.updateVersion(version.id, { tags: { ...version.tags, [key]: value } });
    });
  }

  async deleteVersionTag(principal: Principal, workspace: Workspace, name: string, number: number, key: string) {
    requireScope(principal, 'write');
    await this.store.transaction(async (tx) => {
      const { version } = await this.lockVersion(tx, principal, workspace, name, number);
      const { [key]: _removed, ...tags } = version.tags;
      await tx.registry.updateVersion(version.id, { tags });
    });
  }

  /** Points an alias at a version, moving it when the model already has it. */
  async setAlias(principal: Principal, workspace: Workspace, name: string, alias: string, number: number) {
    requireScope(principal, 'write');
    settableAlias(alias);
    await this.store.transaction(async (tx) => {
      const { model, version } = await this.lockVersion(tx, principal, workspace, name, number);
      await tx.registry.setAlias({ registryModelId: model.id, alias, versionId: version.id });
    });
  }

  /** Removes an alias; an alias the model does not have changes nothing, as in MLflow. */
  async deleteAlias(principal: Principal, workspace: Workspace, name: string, alias: string): Promise<void> {
    requireScope(principal, 'write');
    aliasName(alias);
    await this.store.transaction(async (tx) => {
      const model = await this.lockModel(tx, principal, workspace, name);
      await tx.registry.deleteAlias(model.id, alias);
    });
  }

  /** The version an alias names; `latest` (any case) is the highest-numbered version. */
  async versionByAlias(principal: Principal, workspace: Workspace, name: string, alias: string) {
    requireScope(principal, 'read');
    aliasName(alias);
    const model = await this.readableModel(this.store, principal, workspace, name);
    if (alias.toLowerCase() === 'latest') {
      const versions = await this.store.registry.listVersions(model.id);
      const highest = versions.reduce<RegistryVersion | undefined>(
        (best, v) => (!best || v.number > best.number ? v : best),
        undefined,
      );
      if (!highest) throw new NotFoundError(`Latest version not found for model ${name}.`);
      return this.versionView(this.store, model, highest);
    }
    const found = (await this.store.registry.listAliases([model.id])).find((a) => a.alias === alias);
    const version = found && (await this.store.registry.getVersion(found.versionId));
    if (!version) throw new InvalidArgumentError(`Registered model alias ${alias} not found.`);
    return this.versionView(this.store, model, version);
  }

  /**
   * One file of a version's experiment model by its path within the model (`MLmodel`,
   * `data/model.pkl`); versions whose files are outside Cairn have none.
   */
  async versionFile(
    principal: Principal,
    workspace: Workspace,
    name: string,
    number: number,
    path: string,
  ): Promise<Asset> {
    requireScope(principal, 'read');
    const model = await this.readableModel(this.store, principal, workspace, name);
    const version = await this.store.registry.getVersionByNumber(model.id, number);
    if (!version) throw versionNotFound(name, number);
    const files =
      version.experimentModelId === null
        ? []
        : await this.store.assets.list(version.experimentId, {
            groupingName: version.experimentModelName,
            type: MODEL_ELEMENT_TYPE,
          });
    const file = files.find((asset) => asset.fileName === path);
    if (!file) throw new NotFoundError(`No file '${path}' in version ${number} of registered model ${name}`);
    return file;
  }

  /** The experiment model (or, for an external source, the run) a new version serves. */
  private async filesOf(
    tx: Repositories,
    principal: Principal,
    input: CreateVersionInput,
  ): Promise<{ experimentModel?: ExperimentModel; runId?: string }> {
    const { origin } = input;
    if (origin.kind === 'logged-model') {
      const experimentModel = await tx.assets.getModelByLoggedId(origin.loggedModelId);
      const experiment = experimentModel && (await tx.experiments.get(experimentModel.experimentId));
      if (!experimentModel || !experiment || !isMember(principal, experiment.workspaceId)) {
        throw new NotFoundError(`Logged model with ID '${origin.loggedModelId}' not found.`);
      }
      return { experimentModel };
    }
    if (origin.kind === 'run-path') {
      const experiment = await tx.experiments.get(origin.runId);
      if (!experiment || !isMember(principal, experiment.workspaceId)) throw runNotFound(origin.runId);
      const modelName = rules.entryName('model', origin.path);
      await tx.assets.regroupUnder(experiment.id, modelName, modelName);
      const experimentModel = await tx.assets.ensureModel({
        id: newHexId(),
        experimentId: experiment.id,
        name: modelName,
        createdAt: this.clock.now(),
      });
      return { experimentModel };
    }
    if (!input.runId) return {};
    const experiment = await tx.experiments.get(input.runId);
    if (!experiment || !isMember(principal, experiment.workspaceId)) throw runNotFound(input.runId);
    return { runId: experiment.id };
  }

  /** A model the principal may read: in this workspace, and the principal a member or the model public. */
  private async readableModel(
    repos: Repositories,
    principal: Principal,
    workspace: Workspace,
    name: string,
  ): Promise<RegistryModel> {
    mlflowModelName(name);
    const model = await repos.registry.getModelByName(workspace.id, name);
    if (!model || !(model.isPublic || isMember(principal, workspace.id))) throw modelNotFound(name);
    return model;
  }

  /**
   * A model the principal may change, read again under its row lock (taken by touching its update
   * time), so concurrent writes on PostgreSQL queue up: version numbers, tag maps and stages
   * are read and written by one writer at a time.
   */
  private async lockModel(
    tx: Repositories,
    principal: Principal,
    workspace: Workspace,
    name: string,
  ): Promise<RegistryModel> {
    mlflowModelName(name);
    const found = await tx.registry.getModelByName(workspace.id, name);
    if (!found || !isMember(principal, workspace.id)) throw modelNotFound(name);
    const now = this.clock.now();
    await tx.registry.updateModel(found.id, { updatedAt: now });
    const model = await tx.registry.getModel(found.id);
    if (!model) throw modelNotFound(name);
    return model;
  }

  private async lockVersion(
    tx: Repositories,
    principal: Principal,
    workspace: Workspace,
    name: string,
    number: number,
  ) {
    const model = await this.lockModel(tx, principal, workspace, name);
    const found = await tx.registry.getVersionByNumber(model.id, number);
    if (!found) throw versionNotFound(name, number);
    const now = model.updatedAt;
    await tx.registry.updateVersion(found.id, { updatedAt: now });
    return { model, version: { ...found, updatedAt: now }, now };
  }

  private async modelView(
    repos: Repositories,
    model: RegistryModel,
    versions: readonly ModelVersionView[],
  ): Promise<RegisteredModelView> {
    const aliases = await repos.registry.listAliases([model.id]);
    const numbers = new Map(versions.map((v) => [v.version.id, v.version.number]));
    return {
      model,
      userName: await this.userNames(repos)(model.createdBy),
      latestVersions: latestPerStage(versions, MLFLOW_STAGES),
      aliases: aliases.flatMap((a) => {
        const number = numbers.get(a.versionId);
        return number === undefined ? [] : [{ alias: a.alias, number }];
      }),
    };
  }

  private async versionView(repos: Repositories, model: RegistryModel, version: RegistryVersion) {
    return (await this.viewsOf(repos, [model], [version]))[0] as ModelVersionView;
  }

  /** The views of every version of these models (all of one workspace), by model id, then number. */
  private async versionViews(
    repos: Repositories,
    models: readonly RegistryModel[],
    publicOnly = false,
  ): Promise<ModelVersionView[]> {
    const [first] = models;
    if (!first) return [];
    const versions =
      models.length === 1
        ? (await repos.registry.listVersions(first.id)).sort((a, b) => a.number - b.number)
        : await repos.registry.listWorkspaceVersions(first.workspaceId, publicOnly);
    return this.viewsOf(repos, models, versions);
  }

  private async viewsOf(
    repos: Repositories,
    models: readonly RegistryModel[],
    versions: readonly RegistryVersion[],
  ): Promise<ModelVersionView[]> {
    const byId = new Map(models.map((m) => [m.id, m]));
    const aliases = await repos.registry.listAliases(models.map((m) => m.id));
    const names = this.userNames(repos);
    const projects = new Map<string, Promise<Project | null>>();
    const projectOf = (experimentId: string) => {
      let project = projects.get(experimentId);
      if (!project) {
        project = (async () => {
          const experiment = experimentId === '' ? undefined : await repos.experiments.get(experimentId);
          return (experiment && (await repos.projects.get(experiment.projectId))) ?? null;
        })();
        projects.set(experimentId, project);
      }
      return project;
    };
    const views: ModelVersionView[] = [];
    for (const version of versions) {
      const model = byId.get(version.registryModelId);
      if (!model) continue;
      views.push({
        model,
        version,
        stage: currentStage(version.stages),
        aliases: aliases.filter((a) => a.versionId === version.id).map((a) => a.alias),
        userName: await names(version.createdBy),
        project: await projectOf(version.experimentId),
      });
    }
    return views;
  }

  /** User names by id, each looked up once per call. */
  private userNames(repos: Repositories): (userId: string) => Promise<string> {
    const cache = new Map<string, Promise<string>>();
    return (userId) => {
      let name = cache.get(userId);
      if (!name) {
        name = repos.tenancy.getUser(userId).then((user) => user?.name ?? '');
        cache.set(userId, name);
      }
      return name;
    };
  }

  /** Runs a write that may raise events; their deliveries commit with it, then the dispatcher is woken. */
  private async withEvents<T>(work: (tx: Repositories, events: Events) => Promise<T>): Promise<T> {
    const { result, recorded } = await this.store.transaction(async (tx) => {
      const events: Events = [];
      const result = await work(tx, events);
      return { result, recorded: events.length > 0 ? await this.webhooks.enqueue(tx, events) : 0 };
    });
    if (recorded > 0) this.webhooks.notify();
    return result;
  }
}

function requireMember(principal: Principal, workspace: Workspace): void {
  if (!isMember(principal, workspace.id)) throw new NotFoundError(`workspace "${workspace.name}" not found`);
}
