import type { Clock } from './clock.port.js';
import {
  AUDIT_ACTIONS,
  type AuditAction,
  type AuditEvent,
  type AuditSource,
  type AuditTargetType,
  type Workspace,
} from './entities.js';
import { InvalidArgumentError, PermissionDeniedError } from './errors.js';
import { type Principal, requireScope } from './principal.js';
import type { Repositories, Store } from './store.port.js';

/** Who performs an audited action, and through what. */
export interface AuditActor {
  userId: string | null;
  name: string;
  source: AuditSource;
  requestId: string | null;
}

/** A caller of an HTTP API; `requestId` is the request's id (the `x-request-id` answered). */
export function apiActor(principal: Principal, requestId?: string): AuditActor {
  return { userId: principal.userId, name: principal.userName, source: 'api', requestId: requestId ?? null };
}

/**
 * An operator running `cairn` on the store. They act with the store's credentials, not as a
 * Cairn user, so the name is the operating-system user's (the CLI passes it).
 */
export function operatorActor(name: string): AuditActor {
  return { userId: null, name, source: 'cli', requestId: null };
}

/** The server itself (the first start's bootstrap). */
export const SERVER_ACTOR: AuditActor = { userId: null, name: 'cairn', source: 'server', requestId: null };

/** What an action did, for its audit event. */
export interface AuditRecord {
  action: AuditAction;
  targetType: AuditTargetType;
  targetId: string;
  targetName?: string | null;
  workspace?: Pick<Workspace, 'id' | 'name'> | null;
  details?: Record<string, unknown>;
}

/**
 * Appends the audit event of an action. Services call it with the repositories of the action's
 * own transaction, so the event commits with the action or not at all.
 */
export async function recordAudit(tx: Repositories, clock: Clock, actor: AuditActor, record: AuditRecord) {
  await tx.audit.insert({
    at: clock.now(),
    actorUserId: actor.userId,
    actorName: actor.name,
    action: record.action,
    targetType: record.targetType,
    targetId: record.targetId,
    targetName: record.targetName ?? null,
    workspaceId: record.workspace?.id ?? null,
    workspaceName: record.workspace?.name ?? null,
    details: record.details ?? {},
    source: actor.source,
    requestId: actor.requestId,
  });
}

/** Events per page when none is asked for, and the most a page holds. */
export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

export interface AuditQuery {
  /** Epoch ms: events at or after it. */
  since?: number;
  /** An actor's name (a user's, or the operator's for `cli` events). */
  actor?: string;
  action?: string;
  /** Continue after the event with this id (the previous page's last). */
  beforeId?: number;
  limit?: number;
}

export interface AuditPage {
  events: AuditEvent[];
  /** The `beforeId` of the next page; null when this one is the last. */
  nextBeforeId: number | null;
}

/** Reading the audit log (writing it is every administrative service's job, through recordAudit). */
export class AuditService {
  constructor(private readonly store: Store) {}

  /**
   * The log through an API: administrators only, with a key or session holding the `admin`
   * scope, since it names every tenant's users, keys and projects.
   */
  async list(principal: Principal, query: AuditQuery): Promise<AuditPage> {
    if (!principal.isAdmin) throw new PermissionDeniedError('the audit log is open to administrators only');
    requireScope(principal, 'admin');
    return this.listAsOperator(query);
  }

  /** The log for the operator's `cairn audit`: access to the store is the authority. */
  async listAsOperator(query: AuditQuery): Promise<AuditPage> {
    const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_LIMIT) {
      throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_AUDIT_LIMIT}`);
    }
    if (query.action !== undefined && !(AUDIT_ACTIONS as readonly string[]).includes(query.action)) {
      throw new InvalidArgumentError(`unknown action "${query.action}"; actions: ${AUDIT_ACTIONS.join(', ')}`);
    }
    // One more than asked tells whether another page follows without a count.
    const events = await this.store.audit.list({
      limit: limit + 1,
      ...(query.since === undefined ? {} : { since: query.since }),
      ...(query.actor === undefined ? {} : { actorName: query.actor }),
      ...(query.action === undefined ? {} : { action: query.action as AuditAction }),
      ...(query.beforeId === undefined ? {} : { beforeId: query.beforeId }),
    });
    const page = events.slice(0, limit);
    return { events: page, nextBeforeId: events.length > limit ? (page.at(-1)?.id ?? null) : null };
  }
}
