import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { type Config, DEFAULT_INGEST_MAX_INFLIGHT_BYTES, DEFAULT_WEB_DIR } from '../config.js';
import type { Core } from '../core/core.js';
import { bodyWithoutCoercion } from './body-validation.js';
import { cairnApiPlugin } from './facades/cairn/cairn.plugin.js';
import { cometClientlibPlugin } from './facades/comet/clientlib.plugin.js';
import { cometClientlibProbe, cometRestPlugin } from './facades/comet/comet.plugin.js';
import { foundryModelsPlugin } from './facades/foundry/foundry.plugin.js';
import { mlflowTrackingPlugin } from './facades/mlflow/mlflow.plugin.js';
import { mlflowArtifactsPlugin, mlflowV3Plugin } from './facades/mlflow/mlflow-artifacts.plugin.js';
import { gunzipRequestBody } from './gzip-body.js';
import { IngestAdmission } from './ingest-admission.js';
import { answerUndeclaredMethods } from './method-not-allowed.js';
import { collectRoutes } from './openapi/openapi.builder.js';
import './request-context.js';
import { ensureRetryAfter, refuseWhileDraining } from './retry-later.js';
import type { SseOptions } from './sse-stream.js';
import { registerWebApp } from './web-app.js';

export interface AppOptions {
  core: Core;
  config: Pick<Config, 'bodyLimitBytes' | 'publicUrl'> &
    Partial<Pick<Config, 'foundryRequirePreview' | 'ingestMaxInflightBytes' | 'webDir'>>;
  logger?: FastifyServerOptions['logger'];
  /** Live event streams: keepalive period, how far a client may fall behind (defaults in sse-stream.ts). */
  live?: Partial<SseOptions>;
}

/** Builds the HTTP application without listening: tests drive it with inject(). */
export async function buildApp({ core, config, logger = false, live }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: withRedactedKeys(logger),
    bodyLimit: config.bodyLimitBytes,
    // Request ids tie log lines together; a caller's X-Request-Id is kept for tracing across hops.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && given.length <= 128 ? given : randomUUID();
    },
    requestIdHeader: false,
    // Requests arriving while the server drains are refused by refuseWhileDraining, in each
    // facade's error format and with Retry-After, which Fastify's built-in 503 lacks.
    return503OnClosing: false,
    // find-my-way's default (100 characters) answered a longer path parameter with a bare 414
    // before any route ran; the request line is bounded by Node's 16 KiB header limit anyway, and
    // within it each route's schema refuses an overlong parameter in its facade's format (400).
    routerOptions: { maxParamLength: 16_384 },
    // Type lists (`Nullable`) are intended: they are how nullable fields survive coercion.
    // Querystring, params and headers are coerced; JSON bodies are not (body-validation.ts).
    ...bodyWithoutCoercion({
      customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false, allowUnionTypes: true },
    }),
  }).withTypeProvider<TypeBoxTypeProvider>();

  collectRoutes(app);
  answerUndeclaredMethods(app);
  closeUnusedConnectionsOnClose(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('preParsing', gunzipRequestBody);
  app.addHook('onSend', ensureRetryAfter);
  refuseWhileDraining(app);

  app.get('/healthz', async (_request, reply) => {
    try {
      await core.store.ping();
      return reply.code(200).send({ status: 'ok' });
    } catch {
      return reply.code(503).send({ status: 'unavailable' });
    }
  });

  await app.register(cairnApiPlugin, {
    prefix: '/api/cairn/v1',
    core,
    ingest: new IngestAdmission(config.ingestMaxInflightBytes ?? DEFAULT_INGEST_MAX_INFLIGHT_BYTES),
    bodyLimitBytes: config.bodyLimitBytes,
    publicUrl: config.publicUrl,
    ...(live ? { live } : {}),
  });
  // At /api/v2, not /api: its hooks and its not-found answer cover its own paths only.
  await app.register(foundryModelsPlugin, {
    prefix: '/api/v2',
    core,
    requirePreview: config.foundryRequirePreview ?? true,
  });
  for (const prefix of ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow']) {
    await app.register(mlflowTrackingPlugin, { prefix, core, publicUrl: config.publicUrl });
  }
  for (const prefix of ['/api/2.0/mlflow-artifacts', '/ajax-api/2.0/mlflow-artifacts']) {
    await app.register(mlflowArtifactsPlugin, { prefix, core });
  }
  for (const prefix of ['/api/3.0/mlflow', '/ajax-api/3.0/mlflow']) {
    await app.register(mlflowV3Plugin, { prefix });
  }
  await app.register(cometClientlibProbe);
  await app.register(cometClientlibPlugin, { prefix: '/clientlib', core, publicUrl: config.publicUrl });
  for (const prefix of ['/api/rest/v2', '/clientlib/rest/v2']) {
    await app.register(cometRestPlugin, { prefix, core, publicUrl: config.publicUrl });
  }
  // Last: it answers what no API route does.
  await registerWebApp(app, config.webDir ?? DEFAULT_WEB_DIR);
  return app;
}

/**
 * Node's server.close() waits for every connection, and closes idle keep-alive ones, but not one
 * that was opened and never carried a request: fetch clients open such spares (undici does when a
 * streaming response such as a live event stream is cancelled), and they would hold a shutdown
 * until the client or the headers timeout gave up. They have nothing in flight, so closing drops them.
 */
function closeUnusedConnectionsOnClose(app: FastifyInstance): void {
  const unused = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  app.server.on('request', (request: IncomingMessage) => {
    unused.delete(request.socket);
  });
  app.addHook('preClose', async () => {
    for (const socket of unused) socket.destroy();
  });
}

/**
 * comet_ml puts its API key in the query of uploads, symlinks and RPC calls; request log lines
 * show the URL without it.
 */
function withRedactedKeys(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return logger;
  const options = typeof logger === 'object' ? logger : {};
  return {
    ...options,
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: request.url.replace(/([?&](?:apiKey|api_key)=)[^&#]*/gi, '$1[redacted]'),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
      ...options.serializers,
    },
  };
}
