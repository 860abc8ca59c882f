import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Core } from '../../../core/core.js';
import { presentedApiKey } from '../../api-key.js';
import { DEFAULT_SSE_OPTIONS, type SseOptions } from '../../sse-stream.js';
import type { TypeBoxApp } from '../../typed-app.js';
import { cairnErrorHandler, sendProblem } from './cairn-errors.js';
import { registerEventRoutes } from './routes/events.route.js';
import { registerMetricRoutes } from './routes/metrics.route.js';
import { registerSeriesRoutes } from './routes/series.route.js';
import { registerTableRoutes } from './routes/tables.route.js';
import { registerWebhookRoutes } from './routes/webhooks.route.js';

export type CairnApp = TypeBoxApp;

/**
 * Cairn's own API at /api/cairn/v1: the bulk metric path (used by the SDK), columnar reads, chart
 * reads, live events, table artifacts, webhook deliveries.
 */
export const cairnApiPlugin: FastifyPluginAsync<{ core: Core; live?: Partial<SseOptions> }> = async (
  instance,
  { core, live },
) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler(cairnErrorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, 404, `no Cairn API endpoint ${request.method} ${request.url.split('?')[0]}`),
  );
  app.addHook('onRequest', async (request) => {
    request.principal = await core.auth.authenticate(presentedApiKey(request.headers));
  });
  registerMetricRoutes(app, core);
  registerSeriesRoutes(app, core);
  registerEventRoutes(app, core, { ...DEFAULT_SSE_OPTIONS, ...live });
  registerTableRoutes(app, core);
  registerWebhookRoutes(app, core);
};
