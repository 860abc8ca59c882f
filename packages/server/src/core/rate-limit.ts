import type { Clock } from './clock.port.js';
import { ResourceExhaustedError } from './errors.js';
import type { Principal } from './principal.js';

/** A rate: `perSecond` units refill a bucket that holds at most `burst`. */
export interface RateLimitSettings {
  perSecond: number;
  burst: number;
}

/**
 * What a client is told about a limit, in the terms of draft-ietf-httpapi-ratelimit-headers
 * (`RateLimit-Policy` and `RateLimit`): the policy's quota and window, the units left and when
 * the bucket is full again.
 */
export interface RateLimitState {
  /** Names the policy in both headers ("requests", "points"). */
  policy: string;
  /** Units the bucket holds when full. */
  quota: number;
  /** Seconds an empty bucket takes to fill: the policy's window. */
  windowSeconds: number;
  /** Whole units left now (0 when the caller is in debt). */
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
}

/** A refusal by a rate limit: 429 with Retry-After and the limit's state. */
export class RateLimitedError extends ResourceExhaustedError {
  constructor(
    message: string,
    retryAfterSeconds: number,
    readonly rateLimit: RateLimitState,
  ) {
    super(message, retryAfterSeconds);
  }
}

interface Bucket {
  tokens: number;
  at: number;
}

export type TakeResult =
  | { allowed: true; state: RateLimitState }
  | { allowed: false; retryAfterSeconds: number; state: RateLimitState };

/** Buckets beyond this many are swept of full ones (a full bucket is the same as none). */
const SWEEP_ABOVE = 10_000;

/**
 * Token buckets by key, in memory (so per server process). A bucket refills continuously at
 * `perSecond` up to `burst`; taking `cost` units needs that many tokens. A cost larger than the
 * whole bucket (a bulk upload of more points than the burst) is let through when the bucket is
 * full and leaves it in debt, so it is slowed down to the rate but never refused forever.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly policy: string,
    readonly settings: RateLimitSettings,
    private readonly clock: Clock,
  ) {
    if (!(settings.perSecond > 0) || !(settings.burst >= 1)) {
      throw new Error(`rate limit "${policy}" needs a positive rate and a burst of at least 1`);
    }
  }

  take(key: string, cost = 1): TakeResult {
    const now = this.clock.now();
    const { perSecond, burst } = this.settings;
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    const needed = Math.min(cost, burst);
    if (bucket.tokens < needed) {
      this.buckets.set(key, bucket);
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil((needed - bucket.tokens) / perSecond)),
        state: this.state(bucket.tokens),
      };
    }
    bucket.tokens -= cost;
    if (this.buckets.size >= SWEEP_ABOVE) this.sweep(now);
    this.buckets.set(key, bucket);
    return { allowed: true, state: this.state(bucket.tokens) };
  }

  /** How many keys have a bucket that is not full (for tests of the sweep). */
  get size(): number {
    return this.buckets.size;
  }

  private state(tokens: number): RateLimitState {
    const { perSecond, burst } = this.settings;
    return {
      policy: this.policy,
      quota: burst,
      windowSeconds: Math.max(1, Math.ceil(burst / perSecond)),
      remaining: Math.max(0, Math.floor(tokens)),
      resetSeconds: Math.max(0, Math.ceil((burst - tokens) / perSecond)),
    };
  }

  private sweep(now: number): void {
    const { perSecond, burst } = this.settings;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * perSecond >= burst) this.buckets.delete(key);
    }
  }
}

/**
 * The ingest-points limit of each credential (API key or browser session), checked by the core
 * wherever it knows how many metric points a write carries, before it stores them.
 */
export class PointsRateLimit {
  private readonly buckets: TokenBuckets | undefined;

  constructor(settings: RateLimitSettings | undefined, clock: Clock) {
    this.buckets = settings ? new TokenBuckets('points', settings, clock) : undefined;
  }

  /** Takes `points` from the caller's bucket, or throws RateLimitedError (nothing is stored then). */
  take(principal: Principal, points: number): void {
    if (!this.buckets || points <= 0) return;
    const result = this.buckets.take(principal.credentialId, points);
    if (result.allowed) return;
    throw new RateLimitedError(
      `this API key may log ${this.buckets.settings.perSecond} metric points per second (bursts of ${this.buckets.settings.burst}); retry after ${result.retryAfterSeconds} s`,
      result.retryAfterSeconds,
      result.state,
    );
  }
}
