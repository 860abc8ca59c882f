import type {
  ExperimentModel,
  RegistryModel,
  RegistryVersion,
  WebhookConfig,
  WebhookDelivery,
  WebhookDeliveryStatus,
} from './entities.js';

/**
 * Persistence of the model registry and its webhooks; part of `Repositories` (store.port.ts) and
 * covered by `test/registry.store.contract.test.ts`. Like every repository: no permission checks,
 * `undefined` for a missing row.
 */

export type RegistryModelPatch = Partial<
  Pick<RegistryModel, 'name' | 'description' | 'isPublic' | 'notes' | 'tags' | 'updatedAt'>
>;
/** `tags` replaces the version's whole tag map. */
export type RegistryVersionPatch = Partial<Pick<RegistryVersion, 'comment' | 'tags' | 'updatedAt'>>;

/** An MLflow alias: a name for one version of a model. */
export interface RegistryAlias {
  registryModelId: string;
  alias: string;
  versionId: string;
}

/** A registry version together with the model it belongs to. */
export interface Registration {
  model: RegistryModel;
  version: RegistryVersion;
}

export interface RegistryRepository {
  /** Fails on a second model with the same (workspace, name). */
  insertModel(model: RegistryModel): Promise<void>;
  getModel(id: string): Promise<RegistryModel | undefined>;
  getModelByName(workspaceId: string, name: string): Promise<RegistryModel | undefined>;
  /** Models of a workspace ordered by name (bytewise); `publicOnly` keeps the public ones. */
  listModels(workspaceId: string, publicOnly: boolean): Promise<RegistryModel[]>;
  countModels(workspaceId: string, publicOnly: boolean): Promise<number>;
  /** On PostgreSQL this takes the model's row lock until the transaction ends. */
  updateModel(id: string, patch: RegistryModelPatch): Promise<void>;
  /**
   * Deletes the model with its tags, versions (their stages and tags), aliases and the model's
   * webhook configuration.
   */
  deleteModel(id: string): Promise<void>;

  /** Inserts a version with its stages; fails on a second (model, version) or (model, number). */
  insertVersion(version: RegistryVersion): Promise<void>;
  /**
   * The number for a new version of the model: one more than the highest it has, 1 when it has
   * none (a deleted highest version's number is given again). Callers hold the model's row lock
   * (`updateModel` in the same transaction), so concurrent creations on PostgreSQL queue up and
   * get different numbers instead of one failing on the unique (model, number).
   */
  nextVersionNumber(registryModelId: string): Promise<number>;
  getVersion(id: string): Promise<RegistryVersion | undefined>;
  /** The version of a model with this number. */
  getVersionByNumber(registryModelId: string, number: number): Promise<RegistryVersion | undefined>;
  /** Versions of a model with their stages, oldest first (creation time, then id). */
  listVersions(registryModelId: string): Promise<RegistryVersion[]>;
  /**
   * Versions of every model of a workspace with their stages, by model id, then number; with
   * `publicOnly` only versions of public models.
   */
  listWorkspaceVersions(workspaceId: string, publicOnly: boolean): Promise<RegistryVersion[]>;
  /** On PostgreSQL this takes the version's row lock until the transaction ends. */
  updateVersion(id: string, patch: RegistryVersionPatch): Promise<void>;
  /** Replaces the stages of a version; `getVersion` returns them in this order. */
  setStages(versionId: string, stages: readonly string[]): Promise<void>;
  /** Deletes a version with its stages, tags and the aliases naming it. */
  deleteVersion(id: string): Promise<void>;

  /** Points the alias at the version: inserts it, or moves it when the model already has it. */
  setAlias(alias: RegistryAlias): Promise<void>;
  /** Removes an alias of a model; false when the model had no such alias. */
  deleteAlias(registryModelId: string, alias: string): Promise<boolean>;
  /** The aliases of these models, by model id, then alias (bytewise). */
  listAliases(registryModelIds: readonly string[]): Promise<RegistryAlias[]>;

  /**
   * Versions registered from any of these experiment models, oldest first, each with its model.
   * Versions whose experiment model is gone (null) are never returned.
   */
  listRegistrations(experimentModelIds: readonly string[]): Promise<Registration[]>;
  /**
   * An experiment model by its id alone (registration names it so). Lives here rather than in
   * AssetRepository because only the registry looks experiment models up by id.
   */
  getExperimentModel(id: string): Promise<ExperimentModel | undefined>;
  /** The newest registry version registered from each experiment that has one, by experiment id. */
  latestVersionOfExperiments(experimentIds: readonly string[]): Promise<Map<string, string>>;
}

export interface DeliveryListFilter {
  status?: WebhookDeliveryStatus;
  /** At most this many, newest first. */
  limit: number;
}

/** The outcome of one delivery attempt. */
export interface DeliveryAttempt {
  attempts: number;
  status: WebhookDeliveryStatus;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
}

export interface WebhookRepository {
  /** The configuration of one model, or the workspace-wide one when `registryModelId` is null. */
  getConfig(workspaceId: string, registryModelId: string | null): Promise<WebhookConfig | undefined>;
  /** Inserts or replaces the configuration of (workspace, model). */
  putConfig(config: WebhookConfig): Promise<void>;
  /** The configurations an event of this model reaches: the model's own, then the workspace-wide one. */
  listConfigsFor(workspaceId: string, registryModelId: string): Promise<WebhookConfig[]>;

  insertDeliveries(deliveries: readonly WebhookDelivery[]): Promise<void>;
  /** Pending deliveries whose next attempt is due at `now`, earliest due first (ties in recording order). */
  listDue(now: number, limit: number): Promise<WebhookDelivery[]>;
  /** The earliest next attempt of any pending delivery; undefined when none is pending. */
  nextDueAt(): Promise<number | undefined>;
  /**
   * Reserves a delivery for one sender: moves its next attempt to `until` when it is still pending
   * with its next attempt at `expectedNextAttemptAt`. True when this call won it; false when
   * another dispatcher (another pass, another server process) claimed or finished it first, or
   * when it is not the head of its URL's queue: a delivery to the same URL recorded before it is
   * still pending and either claimed or due no later than `expectedNextAttemptAt`. So deliveries
   * to one URL go out one at a time, in recording order, whichever dispatchers share the log
   * (a failed one rescheduled past later ones no longer holds them back).
   */
  claim(id: string, expectedNextAttemptAt: number, until: number): Promise<boolean>;
  recordAttempt(id: string, attempt: DeliveryAttempt): Promise<void>;
  /** Gives a claimed delivery back without counting an attempt (the sender was stopped). */
  release(id: string, nextAttemptAt: number): Promise<void>;
  getDelivery(id: string): Promise<WebhookDelivery | undefined>;
  /** Deliveries of a workspace, newest first (creation time, then id). */
  listDeliveries(workspaceId: string, filter: DeliveryListFilter): Promise<WebhookDelivery[]>;
}
