import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import helmet from 'helmet';

/**
 * Security headers on every answer (API, web UI, errors, 404s), set when a request arrives so
 * that error and not-found replies carry them too. The APIs answer data, never pages: their
 * policy lets nothing load (`default-src 'none'`). Routes that serve pages or user files set
 * their own policy over it: the web UI (web-app.ts), the sandboxed html document and asset bytes.
 * Framing stays same-origin (the web UI frames the sandboxed html document); HSTS only when the
 * server is reached over https, since a browser that got it over http would refuse a later http
 * visit outright.
 *
 * helmet's middleware is built once: @fastify/helmet built a new one for every request, parsing
 * the policy each time, which was ~6% of the CPU of a single-metric write.
 */
export async function registerSecurityHeaders(app: FastifyInstance, publicUrl: string): Promise<void> {
  const setHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'self'"] },
    },
    xFrameOptions: { action: 'sameorigin' },
    // Links in served documents must not hand their URLs (experiment keys, asset ids) to other sites.
    referrerPolicy: { policy: 'same-origin' },
    strictTransportSecurity: publicUrl.startsWith('https:') ? { maxAge: 31_536_000, includeSubDomains: false } : false,
  });
  app.addHook('onRequest', (request, reply, done) => {
    setHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
  });
}

/** Headers a cross-origin page may read from answers: tracing, back-off and downloads. */
const EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'content-disposition', 'content-range', 'location'];

/**
 * Cross-origin access for the listed origins only; with none listed nothing is registered and no
 * answer carries Access-Control-Allow-Origin. Callers from those origins authenticate with API
 * keys: credentials (the session cookie) are never allowed across origins, which the session's
 * own Origin check enforces too.
 */
export async function registerCors(app: FastifyInstance, origins: readonly string[]): Promise<void> {
  if (origins.length === 0) return;
  await app.register(cors, {
    origin: [...origins],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    credentials: false,
    exposedHeaders: EXPOSED_HEADERS,
    // Browsers cap it (Chromium at 2 hours); 10 minutes lets a changed setting reach them soon.
    maxAge: 600,
    // The preflight route answers for every path, with no log line per preflight.
    logLevel: 'warn',
  });
}
