import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, UnavailableError } from '../core/errors.js';
import { RateLimitedError } from '../core/rate-limit.js';
import { setRateLimitHeaders } from './rate-limit.js';

/**
 * "Try again later" answers, shared by every facade: 429 (a capacity limit) and 503 (shutting
 * down, store unavailable, disk full). Both always carry `Retry-After` (seconds), so clients back off by the
 * server's measure instead of hammering it or giving up.
 */

/**
 * How long clients are asked to wait when the server is going away. A restart or a failover to
 * another instance takes a few seconds; asking sooner would only earn the client another 503.
 */
export const SHUTDOWN_RETRY_AFTER_SECONDS = 5;

/** For a 429 or 503 that did not say how long (Fastify's own, a proxy-like error). */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

/** The status a retry-later domain error is answered with, or undefined for any other error. */
export function retryLaterStatus(error: unknown): 429 | 503 | undefined {
  if (!(error instanceof DomainError)) return undefined;
  if (error.kind === 'unavailable' || error.kind === 'storage-full') return 503;
  if (error.kind === 'resource-exhausted') return 429;
  return undefined;
}

/**
 * For a domain error that names a wait (UnavailableError, ResourceExhaustedError): sets
 * `Retry-After` (and a rate limit's RateLimit headers), and logs the underlying cause (a driver
 * error), which the client never sees.
 */
export function noteRetryLater(reply: FastifyReply, error: unknown): void {
  if (error instanceof RateLimitedError) setRateLimitHeaders(reply, error.rateLimit);
  const { retryAfterSeconds: seconds, cause } = error as { retryAfterSeconds?: unknown; cause?: unknown };
  if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 0) return;
  reply.header('retry-after', String(seconds));
  if (cause !== undefined) reply.log.warn({ err: cause }, (error as Error).message);
}

/**
 * onSend hook: a 429 or 503 without `Retry-After` gets the default one. Error handlers set the
 * error's own wait first; this covers answers that did not come through them.
 */
export async function ensureRetryAfter(_request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  if ((reply.statusCode === 429 || reply.statusCode === 503) && !reply.hasHeader('retry-after')) {
    reply.header('retry-after', String(DEFAULT_RETRY_AFTER_SECONDS));
  }
  return payload;
}

/**
 * Graceful drain: from the moment `close()` begins, requests that still arrive (on kept-alive or
 * pipelined connections) are refused with 503 and Retry-After in their facade's error format,
 * while requests already running finish. Fastify's own 503 for this case (`return503OnClosing`)
 * has neither the header nor the facade's body, so the app turns it off and uses this instead.
 */
export function refuseWhileDraining(app: FastifyInstance): void {
  let draining = false;
  app.addHook('preClose', async () => {
    draining = true;
  });
  app.addHook('onRequest', async () => {
    if (draining) throw new UnavailableError('the server is shutting down', SHUTDOWN_RETRY_AFTER_SECONDS);
  });
}
