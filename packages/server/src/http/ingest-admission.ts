import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ResourceExhaustedError } from '../core/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route streams its body to the blob store instead of holding it (asset and git patch
     * uploads): its bytes are bounded by stream buffers, so ingest admission leaves it alone.
     */
    streamedBody?: boolean;
  }
}

/** How long a refused writer is asked to wait: bodies in flight drain within about a second. */
export const INGEST_RETRY_AFTER_SECONDS = 1;

/**
 * Admission control for write bodies: at most `maxBytes` of request bodies are held (being
 * received, parsed, or stored) at once. A request that would go over is refused with 429 before
 * its body is read, so a burst of large batches cannot exhaust the server's memory; clients back
 * off and retry. A request is always admitted when nothing else is in flight, so a body larger
 * than the limit (up to the body limit) is slowed down, never refused forever.
 */
export class IngestAdmission {
  private inFlight = 0;
  private requests = 0;

  constructor(readonly maxBytes: number) {}

  /** Reserves `bytes`; returns the release function, or undefined when they do not fit now. */
  tryReserve(bytes: number): (() => void) | undefined {
    if (this.requests > 0 && this.inFlight + bytes > this.maxBytes) return undefined;
    this.inFlight += bytes;
    this.requests += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= bytes;
      this.requests -= 1;
    };
  }

  /** Bytes currently reserved. */
  get bytesInFlight(): number {
    return this.inFlight;
  }
}

const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Adds the admission check to every write route of `app` (its encapsulation context) whose body
 * is buffered. Bytes are counted as declared by Content-Length, as they travel (gzip bodies by
 * their compressed size); a chunked body of unknown length is counted at the body limit, the most
 * it may grow to. The reservation lasts until the response is done or the connection is gone.
 */
export function admitIngest(app: FastifyInstance, admission: IngestAdmission, bodyLimitBytes: number): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (BODYLESS_METHODS.has(request.method) || request.routeOptions.config.streamedBody) return;
    const bytes = declaredBodyBytes(request, bodyLimitBytes);
    if (bytes === 0) return;
    const release = admission.tryReserve(bytes);
    if (!release) {
      // The body stays unread: closing the connection after the answer spares the client sending
      // the rest (and the server reading it) just to keep the connection alive.
      reply.header('connection', 'close');
      throw new ResourceExhaustedError(
        `the server is receiving ${admission.bytesInFlight} bytes of write requests (limit ${admission.maxBytes}); retry later`,
        INGEST_RETRY_AFTER_SECONDS,
      );
    }
    reply.raw.once('close', release);
  });
}

function declaredBodyBytes(request: FastifyRequest, bodyLimitBytes: number): number {
  const length = request.headers['content-length'];
  if (length !== undefined) {
    const bytes = Number(length);
    return Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : bodyLimitBytes;
  }
  return request.headers['transfer-encoding'] === undefined ? 0 : bodyLimitBytes;
}
