import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { type Config, DEFAULT_INGEST_MAX_INFLIGHT_BYTES, DEFAULT_WEB_DIR } from '../config.js';
import { systemClock } from '../core/clock.port.js';
import type { Core } from '../core/core.js';
import { TokenBuckets } from '../core/rate-limit.js';
import { bodyWithoutCoercion } from './body-validation.js';
import { cairnApiPlugin } from './facades/cairn/cairn.plugin.js';
import { cometClientlibPlugin } from './facades/comet/clientlib.plugin.js';
import { cometClientlibProbe, cometRestPlugin } from './facades/comet/comet.plugin.js';
import { foundryModelsPlugin } from './facades/foundry/foundry.plugin.js';
import { mlflowTrackingPlugin } from './facades/mlflow/mlflow.plugin.js';
import { mlflowArtifactsPlugin, mlflowV3Plugin } from './facades/mlflow/mlflow-artifacts.plugin.js';
import { gunzipRequestBody } from './gzip-body.js';
import { IngestAdmission } from './ingest-admission.js';
import { rootErrorHandler } from './internal-error.js';
import { answerUndeclaredMethods } from './method-not-allowed.js';
import { collectRoutes } from './openapi/openapi.builder.js';
import './request-context.js';
import { limitRequests } from './rate-limit.js';
import { ensureRetryAfter, refuseWhileDraining } from './retry-later.js';
import { registerCors, registerSecurityHeaders } from './security-headers.js';
import { connectionsCheckingInterval, cutOffIdleBodies } from './slow-clients.js';
import type { SseOptions } from './sse-stream.js';
import { limitUploads, UploadSlots } from './upload-slots.js';
import { registerWebApp } from './web-app.js';

export interface AppOptions {
  core: Core;
  config: Pick<Config, 'bodyLimitBytes' | 'publicUrl'> &
    Partial<
      Pick<
        Config,
        | 'foundryRequirePreview'
        | 'ingestMaxInflightBytes'
        | 'webDir'
        | 'rateLimitRequestsPerSecond'
        | 'rateLimitRequestsBurst'
        | 'headersTimeoutMillis'
        | 'requestTimeoutMillis'
        | 'bodyIdleTimeoutMillis'
        | 'maxConcurrentUploads'
        | 'maxConcurrentUploadsPerKey'
        | 'corsOrigins'
      >
    >;
  logger?: FastifyServerOptions['logger'];
  /** Live event streams: keepalive period, how far a client may fall behind (defaults in sse-stream.ts). */
  live?: Partial<SseOptions>;
}

/** Builds the HTTP application without listening: tests drive it with inject(). */
export async function buildApp({ core, config, logger = false, live }: AppOptions): Promise<FastifyInstance> {
  const headersTimeout = config.headersTimeoutMillis ?? 60_000;
  const requestTimeout = config.requestTimeoutMillis ?? 0;
  const app = Fastify({
    logger: withRedactedKeys(logger),
    bodyLimit: config.bodyLimitBytes,
    // Slow clients: the headers must arrive within headersTimeout (Node answers 408 and closes);
    // a total request timeout is off unless set, since it would cut off large uploads over slow
    // links, whose stalls cutOffIdleBodies catches instead.
    requestTimeout,
    http: { headersTimeout, connectionsCheckingInterval: connectionsCheckingInterval(headersTimeout, requestTimeout) },
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
  app.setErrorHandler(rootErrorHandler);
  answerUndeclaredMethods(app);
  closeUnusedConnectionsOnClose(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  await registerSecurityHeaders(app, config.publicUrl);
  await registerCors(app, config.corsOrigins ?? []);
  app.addHook('preParsing', gunzipRequestBody);
  app.addHook('onSend', ensureRetryAfter);
  refuseWhileDraining(app);
  if (config.rateLimitRequestsPerSecond) {
    const perSecond = config.rateLimitRequestsPerSecond;
    const burst = config.rateLimitRequestsBurst || Math.max(1, 2 * perSecond);
    limitRequests(app, new TokenBuckets('requests', { perSecond, burst }, systemClock));
  }
  if (config.maxConcurrentUploads || config.maxConcurrentUploadsPerKey) {
    limitUploads(
      app,
      new UploadSlots({ total: config.maxConcurrentUploads ?? 0, perKey: config.maxConcurrentUploadsPerKey ?? 0 }),
    );
  }
  cutOffIdleBodies(app, config.bodyIdleTimeoutMillis ?? 60_000);

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

/** Request headers that carry credentials: API keys (Comet's Java SDK uses its own header) and the session cookie. */
const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'comet-sdk-api', 'x-api-key'];
/** Body fields that carry API keys: comet_ml sends `apiKey` (handshakes, status) or `api_key` (notifications). */
const SECRET_FIELDS = ['apiKey', 'api_key'];

/**
 * Paths of log objects that pino replaces by "[redacted]": headers and bodies wherever a log call
 * puts them (alone, or under req/request/res), so that nobody logging a request's headers or body
 * while debugging writes a key to the log.
 */
export const REDACTED_LOG_PATHS = [
  ...['headers', 'req.headers', 'request.headers', 'res.headers'].flatMap((at) =>
    SECRET_HEADERS.map((name) => `${at}["${name}"]`),
  ),
  ...['body', 'req.body', 'request.body', 'payload'].flatMap((at) => SECRET_FIELDS.map((name) => `${at}.${name}`)),
  ...SECRET_FIELDS,
];

/**
 * Keys never reach the log. comet_ml puts its API key in the query of uploads, symlinks and RPC
 * calls: request log lines show the URL without it. Headers and bodies are not part of request
 * lines; where a log call includes them, their credentials are redacted.
 */
function withRedactedKeys(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (!logger) return logger;
  const options = typeof logger === 'object' ? logger : {};
  return {
    ...options,
    redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
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
