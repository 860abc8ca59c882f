import type { Clock } from './clock.port.js';
import type {
  RegistryModel,
  RegistryVersion,
  WebhookConfig,
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhookEventType,
  WebhookTarget,
  Workspace,
} from './entities.js';
import { InvalidArgumentError, NotFoundError, SdkErrorCode } from './errors.js';
import { newHexId } from './ids.js';
import { isMember, type Principal, requireScope } from './principal.js';
import { DEFAULT_WEBHOOK_TRIGGERS, properRegistryModelName, WEBHOOK_EVENT_TYPES } from './registry-rules.js';
import type { Repositories, Store } from './store.port.js';
import type { WebhookDispatcher } from './webhook-dispatcher.js';

/** URLs per configuration: enough for any fan-out, small enough that one event stays cheap. */
export const MAX_WEBHOOK_TARGETS = 20;
export const MAX_WEBHOOK_HEADERS = 50;
const MAX_URL_LENGTH = 2048;
const MAX_HEADER_VALUE_LENGTH = 8192;
/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
/** Header values: visible ASCII/Latin-1, spaces and tabs; never CR, LF or NUL (header injection). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
export const MAX_DELIVERY_LIST = 1000;

/** A webhook URL as a caller sends it. */
export interface WebhookTargetInput {
  url: string;
  headers?: Record<string, string> | null;
  name?: string | null;
  triggers?: readonly string[] | null;
}

/** The configuration of one model, or of every model in the workspace when `modelName` is null. */
export interface WebhookConfigInput {
  workspaceName: string;
  modelName: string | null;
  targets: readonly WebhookTargetInput[];
}

export interface WebhookConfigView {
  workspace: Workspace;
  /** The model's proper name, or null for the workspace-wide configuration. */
  modelName: string | null;
  targets: WebhookTarget[];
}

/** Something that happened to a registry version, to be POSTed to the URLs configured for it. */
export interface RegistryEvent {
  type: WebhookEventType;
  workspace: Workspace;
  model: RegistryModel;
  /** The version as it is after the change (as it was, for a deletion). */
  version: RegistryVersion;
  /** The stage added or removed; null for version events. */
  stage: string | null;
  userName: string;
  timestamp: number;
}

/**
 * The JSON POSTed for an event. It starts with the fields Comet documents (workspaceName,
 * registryModelName, version, stages); the rest is Cairn's.
 */
export interface WebhookPayload {
  workspaceName: string;
  registryModelName: string;
  version: string;
  stages: string[];
  event: WebhookEventType;
  stage: string | null;
  registryModelId: string;
  registryModelItemId: string;
  userName: string;
  timestamp: number;
}

/** Webhook configuration, event fan-out into the delivery log, and the log's read side. */
export class WebhooksService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  /** Members only: the configuration holds header values, often secrets. */
  async getConfig(principal: Principal, workspaceName: string, modelName: string | null): Promise<WebhookConfigView> {
    requireScope(principal, 'read');
    const workspace = await memberWorkspace(this.store, principal, workspaceName);
    const model = await this.scopeModel(this.store, workspace, modelName);
    const config = await this.store.webhooks.getConfig(workspace.id, model?.id ?? null);
    return { workspace, modelName: model?.name ?? null, targets: config?.targets ?? [] };
  }

  /** Replaces the configuration of each (workspace, model) given, all or nothing. */
  async setConfigs(principal: Principal, configs: readonly WebhookConfigInput[]): Promise<void> {
    requireScope(principal, 'write');
    const checked = configs.map((config) => ({ ...config, targets: webhookTargets(config.targets) }));
    await this.store.transaction(async (tx) => {
      for (const config of checked) {
        const workspace = await memberWorkspace(tx, principal, config.workspaceName);
        const model = await this.scopeModel(tx, workspace, config.modelName);
        await tx.webhooks.putConfig({
          workspaceId: workspace.id,
          registryModelId: model?.id ?? null,
          targets: config.targets,
          updatedAt: this.clock.now(),
        });
      }
    });
  }

  /** The delivery log of a workspace, newest first: for its members and for administrators. */
  async listDeliveries(
    principal: Principal,
    workspaceName: string,
    filter: { status?: WebhookDeliveryStatus; limit?: number },
  ): Promise<WebhookDelivery[]> {
    requireScope(principal, 'read');
    const workspace = await this.store.tenancy.getWorkspaceByName(workspaceName);
    if (!workspace || !(principal.isAdmin || isMember(principal, workspace.id))) {
      throw new NotFoundError(`workspace "${workspaceName}" not found`, SdkErrorCode.nonExistingTeam);
    }
    const limit = Math.min(filter.limit ?? 100, MAX_DELIVERY_LIST);
    return this.store.webhooks.listDeliveries(workspace.id, {
      limit,
      ...(filter.status ? { status: filter.status } : {}),
    });
  }

  /**
   * Records one delivery per (event, URL) in the caller's transaction, so an event is logged if
   * and only if the change that caused it commits. A URL configured both for the model and
   * workspace-wide gets the event once, with the model's headers. Returns the number recorded;
   * call `notify` after the commit when it is not zero.
   */
  async enqueue(tx: Repositories, events: readonly RegistryEvent[]): Promise<number> {
    const deliveries: WebhookDelivery[] = [];
    const configsByModel = new Map<string, WebhookConfig[]>();
    for (const event of events) {
      let configs = configsByModel.get(event.model.id);
      if (!configs) {
        configs = await tx.webhooks.listConfigsFor(event.model.workspaceId, event.model.id);
        configsByModel.set(event.model.id, configs);
      }
      const payload = JSON.stringify(webhookPayload(event));
      const urls = new Set<string>();
      for (const target of configs.flatMap((config) => config.targets)) {
        const triggers = target.triggers.length > 0 ? target.triggers : DEFAULT_WEBHOOK_TRIGGERS;
        if (!triggers.includes(event.type) || urls.has(target.url)) continue;
        urls.add(target.url);
        deliveries.push({
          id: deliveryId(event.timestamp),
          workspaceId: event.model.workspaceId,
          eventType: event.type,
          payload,
          url: target.url,
          headers: target.headers,
          status: 'pending',
          attempts: 0,
          lastStatus: null,
          lastError: null,
          nextAttemptAt: event.timestamp,
          deliveredAt: null,
          createdAt: event.timestamp,
        });
      }
    }
    if (deliveries.length > 0) await tx.webhooks.insertDeliveries(deliveries);
    return deliveries.length;
  }

  /** Tells the dispatcher that deliveries are waiting (a no-op when it is not running). */
  notify(): void {
    this.dispatcher.wake();
  }

  /** The model a configuration is for: null (workspace-wide) for an absent or empty name. */
  private async scopeModel(
    repos: Repositories,
    workspace: Workspace,
    modelName: string | null,
  ): Promise<RegistryModel | null> {
    if (modelName === null || modelName === '') return null;
    const model = await repos.registry.getModelByName(workspace.id, properRegistryModelName(modelName));
    if (!model) {
      throw new NotFoundError(
        `registry model "${modelName}" not found in workspace "${workspace.name}"`,
        SdkErrorCode.registryModelNotFound,
      );
    }
    return model;
  }
}

let lastIdMillis = 0;
let idCounter = 0;

/**
 * Delivery ids sort in the order they were made (within a process): 12 hex digits of time, 4 of
 * a per-millisecond counter, 16 random. The log is read in (due time, id) order, so events of
 * one millisecond keep their order on the way out.
 */
function deliveryId(now: number): string {
  if (now === lastIdMillis) idCounter = (idCounter + 1) & 0xffff;
  else {
    lastIdMillis = now;
    idCounter = 0;
  }
  const time = Math.max(0, now).toString(16).padStart(12, '0').slice(-12);
  return `${time}${idCounter.toString(16).padStart(4, '0')}${newHexId().slice(0, 16)}`;
}

export function webhookPayload(event: RegistryEvent): WebhookPayload {
  return {
    workspaceName: event.workspace.name,
    registryModelName: event.model.name,
    version: event.version.version,
    stages: event.version.stages,
    event: event.type,
    stage: event.stage,
    registryModelId: event.model.id,
    registryModelItemId: event.version.id,
    userName: event.userName,
    timestamp: event.timestamp,
  };
}

async function memberWorkspace(repos: Repositories, principal: Principal, name: string): Promise<Workspace> {
  const workspace = await repos.tenancy.getWorkspaceByName(name);
  if (!workspace || !isMember(principal, workspace.id)) {
    throw new NotFoundError(`workspace "${name}" not found`, SdkErrorCode.nonExistingTeam);
  }
  return workspace;
}

function webhookTargets(inputs: readonly WebhookTargetInput[]): WebhookTarget[] {
  if (inputs.length > MAX_WEBHOOK_TARGETS) {
    throw new InvalidArgumentError(`a webhook configuration has at most ${MAX_WEBHOOK_TARGETS} URLs`);
  }
  return inputs.map((input) => ({
    url: webhookUrl(input.url),
    headers: webhookHeaders(input.headers ?? {}),
    name: input.name ? input.name : null,
    triggers: webhookTriggers(input.triggers ?? []),
  }));
}

function webhookUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(`invalid webhook URL "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`invalid webhook URL "${text}": http or https expected`);
  }
  if (text.length > MAX_URL_LENGTH) {
    throw new InvalidArgumentError(`a webhook URL must be at most ${MAX_URL_LENGTH} characters`);
  }
  return text;
}

function webhookHeaders(headers: Record<string, string>): Record<string, string> {
  const entries = Object.entries(headers);
  if (entries.length > MAX_WEBHOOK_HEADERS) {
    throw new InvalidArgumentError(`a webhook has at most ${MAX_WEBHOOK_HEADERS} headers`);
  }
  const names = new Set<string>();
  for (const [name, value] of entries) {
    if (!HEADER_NAME.test(name)) throw new InvalidArgumentError(`invalid webhook header name "${name}"`);
    if (names.has(name.toLowerCase())) throw new InvalidArgumentError(`webhook header "${name}" is given twice`);
    names.add(name.toLowerCase());
    if (typeof value !== 'string' || !HEADER_VALUE.test(value) || value.length > MAX_HEADER_VALUE_LENGTH) {
      throw new InvalidArgumentError(`invalid value for webhook header "${name}"`);
    }
  }
  return Object.fromEntries(entries);
}

/** Trigger names, case-insensitively; unknown ones are refused rather than silently never firing. */
function webhookTriggers(triggers: readonly string[]): WebhookEventType[] {
  const out: WebhookEventType[] = [];
  for (const trigger of triggers) {
    const type = WEBHOOK_EVENT_TYPES.find((known) => known === trigger.toUpperCase());
    if (!type) {
      throw new InvalidArgumentError(
        `unknown webhook trigger "${trigger}": use ${WEBHOOK_EVENT_TYPES.join(', ')} (none means the stage events)`,
      );
    }
    if (!out.includes(type)) out.push(type);
  }
  return out;
}
