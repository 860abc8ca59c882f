import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Core } from '../../../core/core.js';
import type { Scope } from '../../../core/entities.js';
import { requireScope } from '../../../core/principal.js';
import { presentedApiKey } from '../../api-key.js';
import type { TypeBoxApp } from '../../typed-app.js';
import { FoundryApiError, foundryErrorHandler, sendFoundryError } from './foundry-errors.js';
import { registerExperimentRoutes } from './routes/experiments.route.js';

const FOUNDRY_SCOPES: ReadonlySet<Scope> = new Set<Scope>(['read']);

export interface FoundryPluginOptions {
  core: Core;
  /** Foundry rejects calls without `preview=true` on preview endpoints; off only for lenient setups. */
  requirePreview: boolean;
}

export interface FoundryRouteContext {
  app: TypeBoxApp;
  core: Core;
}

/**
 * Palantir Foundry Models v2 experiments (preview) at /api/v2/models (registered at /api/v2): a second face over the same
 * projects (models) and experiments. Bearer API keys with the api:models-read scope.
 */
export const foundryModelsPlugin: FastifyPluginAsync<FoundryPluginOptions> = async (instance, options) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { core } = options;
  app.setErrorHandler(foundryErrorHandler);
  // Request bodies are JSON only (spec §2): Fastify's default text/plain parser would let a text
  // body through to schema validation instead of the 415 other media types get.
  app.removeContentTypeParser('text/plain');
  // Known routes always answer JSON errors; an empty 404 would read as "API not available" (spec §7).
  app.setNotFoundHandler((request, reply) =>
    sendFoundryError(
      reply,
      new FoundryApiError('NOT_FOUND', 'Default:NotFound', { path: request.url.split('?')[0] ?? '' }),
    ),
  );
  app.addHook('onRequest', async (request) => {
    // Only Foundry's own routes: an unknown path goes straight to the not-found answer above.
    if (request.routeOptions.url === undefined) return;
    const principal = await core.auth.authenticate(presentedApiKey(request.headers));
    const preview = (request.query as { preview?: unknown }).preview;
    if (options.requirePreview && !(typeof preview === 'string' && preview.toLowerCase() === 'true')) {
      throw new FoundryApiError('INVALID_ARGUMENT', 'ApiFeaturePreviewUsageOnly');
    }
    requireScope(principal, 'api:models-read');
    // Every endpoint here only reads: the Foundry scope grants the core's read permission (a key
    // with api:models-read alone must work) and nothing beyond it, whatever else the key holds.
    request.principal = { ...principal, scopes: FOUNDRY_SCOPES };
  });
  registerExperimentRoutes({ app, core });
};
