import type { Kysely, Selectable } from 'kysely';
import type { AuditAction, AuditEvent, AuditSource, AuditTargetType } from '../../core/entities.js';
import type { AuditEventInput, AuditFilter, AuditRepository } from '../../core/store.port.js';
import type { Database } from './database.js';

export class SqlAuditRepository implements AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(event: AuditEventInput): Promise<AuditEvent> {
    const row = await this.db
      .insertInto('audit_events')
      .values({
        at: event.at,
        actor_user_id: event.actorUserId,
        actor_name: event.actorName,
        action: event.action,
        target_type: event.targetType,
        target_id: event.targetId,
        target_name: event.targetName,
        workspace_id: event.workspaceId,
        workspace_name: event.workspaceName,
        details: JSON.stringify(event.details),
        source: event.source,
        request_id: event.requestId,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: Number(row.id), ...event };
  }

  async list(filter: AuditFilter): Promise<AuditEvent[]> {
    let query = this.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
    if (filter.actorName !== undefined) query = query.where('actor_name', '=', filter.actorName);
    if (filter.action !== undefined) query = query.where('action', '=', filter.action);
    if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
    return (await query.execute()).map(toEvent);
  }
}

function toEvent(row: Selectable<Database['audit_events']>): AuditEvent {
  return {
    id: Number(row.id),
    at: row.at,
    actorUserId: row.actor_user_id,
    actorName: row.actor_name,
    action: row.action as AuditAction,
    targetType: row.target_type as AuditTargetType,
    targetId: row.target_id,
    targetName: row.target_name,
    workspaceId: row.workspace_id,
    workspaceName: row.workspace_name,
    details: JSON.parse(row.details) as Record<string, unknown>,
    source: row.source as AuditSource,
    requestId: row.request_id,
  };
}
