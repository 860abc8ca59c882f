import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hashSecret } from '../core/auth.service.js';
import { RateLimitedError, type RateLimitState, type TokenBuckets } from '../core/rate-limit.js';
import { presentedApiKey } from './api-key.js';
import { SESSION_COOKIE } from './facades/cairn/session-auth.js';

/**
 * The rate-limit header fields of draft-ietf-httpapi-ratelimit-headers-10 (the draft current
 * since September 2025, unchanged in form since -08): structured-field lists naming the policy,
 * `RateLimit-Policy: "requests";q=<quota>;w=<window s>` and
 * `RateLimit: "requests";r=<remaining>;t=<seconds until full>`. Earlier drafts' separate
 * RateLimit-Limit/-Remaining/-Reset fields are not sent.
 */
export function setRateLimitHeaders(reply: FastifyReply, state: RateLimitState): void {
  const name = `"${state.policy}"`;
  reply.header('ratelimit-policy', `${name};q=${state.quota};w=${state.windowSeconds}`);
  reply.header('ratelimit', `${name};r=${state.remaining};t=${state.resetSeconds}`);
}

/** Where the request limit applies: every API, not the health check or the web UI's files. */
const API_PREFIXES = ['/api/', '/ajax-api/', '/clientlib'];

/**
 * Per-credential request rate (token bucket with burst, in memory: per server process). Checked
 * in onRequest, before authentication and before the body is read, so a refused request costs
 * neither a key lookup nor its body. It is answered by the route's facade (429 in its error
 * format, Retry-After, RateLimit headers); admitted API requests carry the RateLimit headers too,
 * so clients can pace themselves.
 */
export function limitRequests(app: FastifyInstance, buckets: TokenBuckets): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!API_PREFIXES.some((prefix) => request.url.startsWith(prefix))) return;
    const result = buckets.take(requestIdentity(request));
    if (result.allowed) {
      setRateLimitHeaders(reply, result.state);
      return;
    }
    // The body stays unread: closing the connection spares sending and reading it just to keep
    // the connection alive (as ingest admission does).
    if (request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined) {
      reply.header('connection', 'close');
    }
    throw new RateLimitedError(
      `this API key may make ${buckets.settings.perSecond} requests per second (bursts of ${buckets.settings.burst}); retry after ${result.retryAfterSeconds} s`,
      result.retryAfterSeconds,
      result.state,
    );
  });
}

/**
 * Whom a request counts against, known before authentication: the presented API key (header, or
 * the query where comet_ml puts it on uploads), else the web UI's session cookie, else the client
 * address. Secrets are hashed so the buckets hold none. An unknown key gets a bucket of its own
 * too (and then a 401).
 */
export function requestIdentity(request: FastifyRequest): string {
  const key = presentedApiKey(request.headers) ?? queryApiKey(request);
  if (key) return `key:${hashSecret(key)}`;
  const session = sessionCookie(request.headers.cookie);
  if (session) return `session:${hashSecret(session)}`;
  return `ip:${request.ip}`;
}

function queryApiKey(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const value = query?.apiKey ?? query?.api_key;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function sessionCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === SESSION_COOKIE) return part.slice(at + 1).trim() || undefined;
  }
  return undefined;
}
