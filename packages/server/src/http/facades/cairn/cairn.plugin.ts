import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Core } from '../../../core/core.js';
import { presentedApiKey } from '../../api-key.js';
import type { TypeBoxApp } from '../../typed-app.js';
import { cairnErrorHandler, sendProblem } from './cairn-errors.js';
import { registerMetricRoutes } from './routes/metrics.route.js';
import { registerSeriesRoutes } from './routes/series.route.js';
import { registerTableRoutes } from './routes/tables.route.js';
import { registerWebhookRoutes } from './routes/webhooks.route.js';

export type CairnApp = TypeBoxApp;

/** Cairn's own API at /api/cairn/v1: the bulk metric path (used by the SDK), columnar reads, table artifacts, webhook deliveries. */
export const cairnApiPlugin: FastifyPluginAsync<{ core: Core }> = async (instance, { core }) => {
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
  registerTableRoutes(app, core);
  registerWebhookRoutes(app, core);
};
