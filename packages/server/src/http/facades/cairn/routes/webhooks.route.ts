import { Problem, WebhookDeliveriesQuery, WebhookDeliveriesResponse } from '@cairn/schemas/cairn';
import type { Core } from '../../../../core/core.js';
import type { WebhookPayload } from '../../../../core/webhooks.service.js';
import { principalOf } from '../../../request-context.js';
import type { CairnApp } from '../cairn.plugin.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

export function registerWebhookRoutes(app: CairnApp, core: Core): void {
  /**
   * GET /api/cairn/v1/webhooks/deliveries?workspaceName=[&status=][&limit=] — the delivery log of
   * a workspace, newest first, read-only. Header values are left out: they often hold secrets.
   */
  app.get(
    '/webhooks/deliveries',
    { schema: { querystring: WebhookDeliveriesQuery, response: { 200: WebhookDeliveriesResponse, ...errors } } },
    async (request) => {
      const { workspaceName, status, limit } = request.query;
      const deliveries = await core.webhooks.listDeliveries(principalOf(request), workspaceName, { status, limit });
      return {
        deliveries: deliveries.map((d) => ({
          id: d.id,
          event: d.eventType,
          url: d.url,
          status: d.status,
          attempts: d.attempts,
          lastStatus: d.lastStatus,
          lastError: d.lastError,
          nextAttemptAt: d.nextAttemptAt,
          deliveredAt: d.deliveredAt,
          createdAt: d.createdAt,
          payload: JSON.parse(d.payload) as WebhookPayload,
        })),
      };
    },
  );
}
