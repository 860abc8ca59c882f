import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from '../../../core/core.js';
import { DomainError, SdkErrorCode } from '../../../core/errors.js';
import { presentedApiKey } from '../../api-key.js';
import { multipartLimits } from '../../multipart-reader.js';
import { retryLaterStatus } from '../../retry-later.js';
import type { CometApp } from './comet.plugin.js';
import { cometErrorHandler, sendCometError } from './comet-errors.js';
import { exactJsonContentType } from './comet-reply.js';
import { acceptNonFiniteJson } from './lenient-json.js';
import { registerClientlibRoutes } from './routes/clientlib.route.js';
import { registerClientlibUploadRoutes } from './routes/clientlib-upload.route.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A clientlib route that needs no API key (the health ping). */
    clientlibPublic?: boolean;
    /**
     * A run handshake: comet_ml reads `sdk_error_code` (bad key, unknown workspace, key in use)
     * only from a 400, so every client error of these routes is answered with 400.
     */
    clientlibHandshake?: boolean;
  }
}

export interface ClientlibPluginOptions {
  core: Core;
  /** Base URL for links handed to clients (experiment and asset links). */
  publicUrl: string;
}

export interface ClientlibRouteContext {
  app: CometApp;
  core: Core;
  publicUrl: string;
}

/**
 * comet_ml's live-logging protocol, mounted at /clientlib (spec shared/spec/comet-clientlib.md,
 * tiers A–C of §8): run handshakes, status reports and heartbeats, gzip metric and parameter
 * batches (exactly once, see routes/clientlib.route.ts), uploads, tags and the small calls
 * around them. The REST v2 writes the client also makes are served by cometRestPlugin (at
 * /clientlib/rest/v2 as well). No WebSocket: the handshake switches the client to HTTP.
 */
export const cometClientlibPlugin: FastifyPluginAsync<ClientlibPluginOptions> = async (
  instance,
  { core, publicUrl },
) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler(clientlibErrorHandler);
  acceptNonFiniteJson(app);
  // Uploads stream to the blob store as in cometRestPlugin (limits: see multipartLimits).
  await app.register(multipart, { limits: multipartLimits(core.limits.maxAssetBytes) });
  app.setNotFoundHandler((request, reply) =>
    sendCometError(reply, 404, `no Comet clientlib endpoint ${request.method} ${request.url.split('?')[0]}`),
  );

  // After parsing (the key may be in the body), before validation (so an anonymous caller
  // learns nothing about the shapes).
  app.addHook('preValidation', async (request) => {
    if (request.routeOptions.config.clientlibPublic) return;
    request.principal = await core.auth.authenticate(clientlibApiKey(request));
  });

  app.addHook('onSend', exactJsonContentType);

  const context: ClientlibRouteContext = { app, core, publicUrl };
  registerClientlibRoutes(context);
  registerClientlibUploadRoutes(context);
};

/**
 * comet_ml 3.32.5 sends the key in a different place per call: the Authorization header (batches;
 * every call in newer clients), the body's `apiKey` (handshakes, status reports, tags) or
 * `api_key` (notifications), or the query's `apiKey` (uploads, symlinks, RPCs). Tried in that order.
 */
function clientlibApiKey(request: FastifyRequest): string | undefined {
  const fromHeader = presentedApiKey(request.headers);
  if (fromHeader) return fromHeader;
  const body = request.body;
  if (body && typeof body === 'object') {
    const { apiKey, api_key } = body as { apiKey?: unknown; api_key?: unknown };
    if (typeof apiKey === 'string' && apiKey) return apiKey;
    if (typeof api_key === 'string' && api_key) return api_key;
  }
  const { apiKey } = (request.query ?? {}) as { apiKey?: unknown };
  return typeof apiKey === 'string' && apiKey ? apiKey : undefined;
}

function clientlibErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  // Retry-later answers (429, 503) keep their status: comet_ml retries those instead of failing the run.
  if (error instanceof DomainError && request.routeOptions.config.clientlibHandshake && !retryLaterStatus(error)) {
    // comet_ml turns 90212 into "invalid API key"; a missing key is reported the same way.
    const code =
      error.sdkErrorCode || (error.kind === 'unauthenticated' ? SdkErrorCode.apiKeyNotRegistered : error.sdkErrorCode);
    const status = error.kind === 'too-large' ? 413 : 400;
    return sendCometError(reply, status, error.message, code);
  }
  return cometErrorHandler(error, request, reply);
}
