import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ResourceExhaustedError } from '../core/errors.js';
import { requestIdentity } from './rate-limit.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route stores an uploaded file (asset, artifact or model file, git patch): it counts
     * against the concurrent-upload limits.
     */
    upload?: boolean;
  }
}

/** Uploads finish or fail within seconds for most files; a second is the polite first wait. */
export const UPLOAD_RETRY_AFTER_SECONDS = 1;

export interface UploadSlotLimits {
  /** Uploads in progress on this server at once; 0 = no limit. */
  total: number;
  /** Uploads in progress at once per API key (or session, or keyless address); 0 = no limit. */
  perKey: number;
}

/**
 * Counts uploads in progress, in total and per credential. Each holds a file descriptor, a
 * temporary blob and a stream to the blob store for as long as its client takes to send it; the
 * limits keep one client's parallel uploads (or many slow ones) from holding all of them.
 */
export class UploadSlots {
  private total = 0;
  private readonly byKey = new Map<string, number>();

  constructor(readonly limits: UploadSlotLimits) {}

  /** Takes a slot for `key`; returns its release, or undefined when a limit is reached. */
  tryAcquire(key: string): (() => void) | undefined {
    const mine = this.byKey.get(key) ?? 0;
    if (this.limits.total > 0 && this.total >= this.limits.total) return undefined;
    if (this.limits.perKey > 0 && mine >= this.limits.perKey) return undefined;
    this.total += 1;
    this.byKey.set(key, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.byKey.get(key) ?? 1) - 1;
      if (left > 0) this.byKey.set(key, left);
      else this.byKey.delete(key);
    };
  }

  get inProgress(): number {
    return this.total;
  }
}

/**
 * Refuses an upload beyond the limits with 429 and Retry-After (in its facade's format), before
 * its body is read; the slot is held until the response is done or the connection is gone.
 */
export function limitUploads(app: FastifyInstance, slots: UploadSlots): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!request.routeOptions.config.upload) return;
    const release = slots.tryAcquire(requestIdentity(request));
    if (!release) {
      reply.header('connection', 'close');
      throw new ResourceExhaustedError(
        `too many uploads in progress (at most ${slots.limits.perKey || '∞'} per API key, ${slots.limits.total || '∞'} in all); retry later`,
        UPLOAD_RETRY_AFTER_SECONDS,
      );
    }
    reply.raw.once('close', release);
  });
}
