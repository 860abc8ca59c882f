import type { Kysely, Selectable } from 'kysely';
import type {
  WebhookConfig,
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhookEventType,
  WebhookTarget,
} from '../../core/entities.js';
import type { DeliveryAttempt, DeliveryListFilter, WebhookRepository } from '../../core/registry.port.js';
import type { Database } from './database.js';

/** The scope key of the workspace-wide configuration (a model id is never empty). */
const WORKSPACE_SCOPE = '';

/** Columns per delivery row, for the multi-row insert's bind-parameter budget. */
const DELIVERY_COLUMNS = 13;
/** Far below both backends' bind-parameter limits; an event rarely reaches more than a few URLs. */
const DELIVERY_ROWS_PER_INSERT = Math.floor(30_000 / DELIVERY_COLUMNS);

export class SqlWebhookRepository implements WebhookRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async getConfig(workspaceId: string, registryModelId: string | null): Promise<WebhookConfig | undefined> {
    const row = await this.db
      .selectFrom('webhook_configs')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('scope', '=', registryModelId ?? WORKSPACE_SCOPE)
      .executeTakeFirst();
    return row && toConfig(row);
  }

  async putConfig(config: WebhookConfig): Promise<void> {
    const targets = JSON.stringify(config.targets);
    await this.db
      .insertInto('webhook_configs')
      .values({
        workspace_id: config.workspaceId,
        scope: config.registryModelId ?? WORKSPACE_SCOPE,
        registry_model_id: config.registryModelId,
        targets,
        updated_at: config.updatedAt,
      })
      .onConflict((oc) => oc.columns(['workspace_id', 'scope']).doUpdateSet({ targets, updated_at: config.updatedAt }))
      .execute();
  }

  async listConfigsFor(workspaceId: string, registryModelId: string): Promise<WebhookConfig[]> {
    const rows = await this.db
      .selectFrom('webhook_configs')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('scope', 'in', [registryModelId, WORKSPACE_SCOPE])
      .execute();
    // The model's own configuration first: its headers win when both name the same URL.
    return rows
      .map(toConfig)
      .sort((a, b) => (a.registryModelId === null ? 1 : 0) - (b.registryModelId === null ? 1 : 0));
  }

  async insertDeliveries(deliveries: readonly WebhookDelivery[]): Promise<void> {
    for (let i = 0; i < deliveries.length; i += DELIVERY_ROWS_PER_INSERT) {
      const chunk = deliveries.slice(i, i + DELIVERY_ROWS_PER_INSERT);
      await this.db
        .insertInto('webhook_deliveries')
        .values(
          chunk.map((d) => ({
            id: d.id,
            workspace_id: d.workspaceId,
            event_type: d.eventType,
            payload: d.payload,
            url: d.url,
            headers: JSON.stringify(d.headers),
            status: d.status,
            attempts: d.attempts,
            last_status: d.lastStatus,
            last_error: d.lastError,
            next_attempt_at: d.nextAttemptAt,
            delivered_at: d.deliveredAt,
            created_at: d.createdAt,
          })),
        )
        .execute();
    }
  }

  async listDue(now: number, limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }

  async nextDueAt(): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .select((eb) => eb.fn.min('next_attempt_at').as('due'))
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return row?.due == null ? undefined : Number(row.due);
  }

  async claim(id: string, expectedNextAttemptAt: number, until: number): Promise<boolean> {
    // Compare-and-set on the due time: of several dispatchers that read the same due row, the
    // first update wins and the others match no row. Only the head of the URL's queue can be
    // won: no earlier-recorded pending delivery to the URL may be in flight or due no later than
    // this one, or a dispatcher on another node could send this one while that one is still
    // going out. Each state either condition sees blocks until the earlier delivery is recorded
    // (delivered, failed, or rescheduled past this one), so the check needs no lock.
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: until, claimed: 1 })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '=', expectedNextAttemptAt)
      .where(({ not, exists, selectFrom, or, eb }) =>
        not(
          exists(
            selectFrom('webhook_deliveries as p')
              .select(eb.lit(1).as('one'))
              .whereRef('p.url', '=', 'webhook_deliveries.url')
              .where('p.status', '=', 'pending')
              .whereRef('p.seq', '<', 'webhook_deliveries.seq')
              .where((p) => or([p('p.claimed', '=', 1), p('p.next_attempt_at', '<=', expectedNextAttemptAt)])),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async recordAttempt(id: string, attempt: DeliveryAttempt): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({
        attempts: attempt.attempts,
        status: attempt.status,
        last_status: attempt.lastStatus,
        last_error: attempt.lastError,
        next_attempt_at: attempt.nextAttemptAt,
        delivered_at: attempt.deliveredAt,
        claimed: 0,
      })
      .where('id', '=', id)
      .execute();
  }

  async release(id: string, nextAttemptAt: number): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_at: nextAttemptAt, claimed: 0 })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  }

  async getDelivery(id: string): Promise<WebhookDelivery | undefined> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toDelivery(row);
  }

  async listDeliveries(workspaceId: string, filter: DeliveryListFilter): Promise<WebhookDelivery[]> {
    let query = this.db.selectFrom('webhook_deliveries').selectAll().where('workspace_id', '=', workspaceId);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(toDelivery);
  }
}

function toConfig(row: Selectable<Database['webhook_configs']>): WebhookConfig {
  return {
    workspaceId: row.workspace_id,
    registryModelId: row.registry_model_id,
    targets: JSON.parse(row.targets) as WebhookTarget[],
    updatedAt: row.updated_at,
  };
}

function toDelivery(row: Selectable<Database['webhook_deliveries']>): WebhookDelivery {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    eventType: row.event_type as WebhookEventType,
    payload: row.payload,
    url: row.url,
    headers: JSON.parse(row.headers) as Record<string, string>,
    status: row.status as WebhookDeliveryStatus,
    attempts: row.attempts,
    lastStatus: row.last_status,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}
