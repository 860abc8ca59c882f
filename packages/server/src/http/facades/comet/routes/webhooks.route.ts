import {
  CometError,
  PlainWriteResponse,
  SetWebhookConfigBody,
  WebhookConfigQuery,
  WebhookConfigResponse,
} from '@cairn/schemas/comet';
import { principalOf } from '../../../request-context.js';
import type { CometRouteContext } from '../comet.plugin.js';
import { writeOk } from '../comet-reply.js';

const errors = { 400: CometError, 401: CometError, 403: CometError, 404: CometError };

/**
 * Model registry webhooks (spec §3.5 #39, §4.6 #51). A configuration belongs to one registry
 * model, or, when `modelName` is absent, null or empty, to every model of the workspace.
 */
export function registerWebhookRoutes({ app, core }: CometRouteContext): void {
  /** GET /webhooks/config?workspaceName=[&modelName=] */
  app.get(
    '/webhooks/config',
    { schema: { querystring: WebhookConfigQuery, response: { 200: WebhookConfigResponse, ...errors } } },
    async (request) => {
      const { workspaceName, modelName } = request.query;
      const view = await core.webhooks.getConfig(principalOf(request), workspaceName, modelName || null);
      return {
        workspaceName: view.workspace.name,
        modelName: view.modelName,
        webhookUrls: view.targets.map((target) => ({
          url: target.url,
          header: target.headers,
          name: target.name,
          triggers: target.triggers,
        })),
      };
    },
  );

  /** POST /webhooks/config (not under /write) — replaces the configuration of each (workspace, model) given. */
  app.post(
    '/webhooks/config',
    { schema: { body: SetWebhookConfigBody, response: { 200: PlainWriteResponse, ...errors } } },
    async (request) => {
      await core.webhooks.setConfigs(
        principalOf(request),
        request.body.webhookConfigs.map((config) => ({
          workspaceName: config.workspaceName,
          modelName: config.modelName || null,
          targets: config.webhookUrls.map((url) => ({
            url: url.url,
            headers: url.header ?? null,
            name: url.name ?? null,
            triggers: url.triggers ?? null,
          })),
        })),
      );
      return writeOk('Webhook configuration saved');
    },
  );
}
