import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Core } from '../../../core/core.js';
import { presentedApiKey } from '../../api-key.js';
import { multipartLimits } from '../../multipart-reader.js';
import type { TypeBoxApp } from '../../typed-app.js';
import { cometErrorHandler, sendCometError } from './comet-errors.js';
import { exactJsonContentType } from './comet-reply.js';
import { acceptNonFiniteJson } from './lenient-json.js';
import { registerArtifactsRoutes } from './routes/artifacts.route.js';
import { registerAssetsRoutes } from './routes/assets.route.js';
import { registerChartRoutes } from './routes/charts.route.js';
import { registerDashboardRoutes } from './routes/dashboards.route.js';
import { registerExperimentDataRoutes } from './routes/experiment-data.route.js';
import { registerExperimentsRoutes } from './routes/experiments.route.js';
import { registerOptimizerRoutes } from './routes/optimizer.route.js';
import { registerPanelRoutes } from './routes/panels.route.js';
import { registerProjectQueryRoutes } from './routes/project-query.route.js';
import { registerProjectRoutes } from './routes/projects.route.js';
import { registerRegistryRoutes } from './routes/registry.route.js';
import { registerWebhookRoutes } from './routes/webhooks.route.js';

export interface CometPluginOptions {
  core: Core;
  /** Base URL for links handed to clients (asset links, experiment links). */
  publicUrl: string;
}

/** Everything a Comet route module gets: the typed instance and the core. */
export interface CometRouteContext {
  app: CometApp;
  core: Core;
  publicUrl: string;
}

export type CometApp = TypeBoxApp;

/**
 * Comet REST v2, mounted at /api/rest/v2 and at /clientlib/rest/v2 (comet_ml posts some writes
 * to the latter). Encapsulated: its auth, error format and content type apply to it alone.
 */
export const cometRestPlugin: FastifyPluginAsync<CometPluginOptions> = async (instance, { core, publicUrl }) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler(cometErrorHandler);
  acceptNonFiniteJson(app);
  // Multipart bodies (asset and git patch uploads) are consumed as streams, never buffered whole;
  // the core enforces the size limit while storing (limits: see multipartLimits).
  await app.register(multipart, { limits: multipartLimits(core.limits.maxAssetBytes) });
  app.setNotFoundHandler((request, reply) =>
    sendCometError(reply, 404, `no Comet REST endpoint ${request.method} ${request.url.split('?')[0]}`),
  );

  app.addHook('onRequest', async (request) => {
    request.principal = await core.auth.authenticate(presentedApiKey(request.headers));
  });

  app.addHook('onSend', exactJsonContentType);

  const context: CometRouteContext = { app, core, publicUrl };
  registerProjectRoutes(context);
  registerProjectQueryRoutes(context);
  registerExperimentsRoutes(context);
  registerExperimentDataRoutes(context);
  registerAssetsRoutes(context);
  registerChartRoutes(context);
  registerArtifactsRoutes(context);
  registerRegistryRoutes(context);
  registerWebhookRoutes(context);
  registerPanelRoutes(context);
  registerDashboardRoutes(context);
  registerOptimizerRoutes(context);
};

/** GET /clientlib/isAlive/ver — unauthenticated version probe (spec §1.1, §3.8 #52). */
export const cometClientlibProbe: FastifyPluginAsync = async (app) => {
  app.addHook('onSend', exactJsonContentType);
  app.get('/clientlib/isAlive/ver', async (_request, reply) =>
    // A version in [1.2.78, 3.3.11): new enough for comet_ml, below the endpoints we do not serve.
    reply.type('application/json').send({ version: '3.0.0' }),
  );
};
