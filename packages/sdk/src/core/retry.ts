import { APIConnectionError, APIError, APIUserAbortError } from './errors.js';

/** How long to wait between attempts. */
export interface BackoffOptions {
  /** First delay's upper bound, ms. */
  baseDelayMs: number;
  /** Upper bound of any computed delay, ms. */
  maxDelayMs: number;
  /** Longest server-requested wait (Retry-After) obeyed as is; longer requests wait this long. */
  maxRetryAfterMs: number;
}

/**
 * Statuses worth another attempt: the request may succeed later unchanged. Not 507 (a workspace
 * over its storage quota): nothing frees the space by itself, so retrying would only resend the
 * upload until the retry budget is gone.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || (status >= 500 && status !== 507);
}

/** Connection failures, timeouts and retryable statuses; never the caller's abort. */
export function isRetryableError(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (error instanceof APIConnectionError) return true;
  return error instanceof APIError && error.status !== undefined && isRetryableStatus(error.status);
}

/**
 * The wait the server asked for, in ms: `retry-after-ms`, else `Retry-After` in seconds or as an
 * HTTP date. Undefined when absent or unreadable.
 */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms !== null) {
    const value = Number.parseFloat(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers.get('retry-after');
  if (after === null) return undefined;
  const trimmed = after.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number.parseFloat(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Delay before retry number `retry` (0 for the first retry): the server's Retry-After when given
 * (capped at `maxRetryAfterMs`), else full-jitter exponential backoff — uniform in
 * [0, min(max, base·2^retry)] — so that clients that failed together do not retry together.
 */
export function retryDelayMs(retry: number, error: unknown, options: BackoffOptions, random = Math.random): number {
  const asked = error instanceof APIError ? retryAfterMs(error.headers) : undefined;
  if (asked !== undefined) return Math.min(asked, options.maxRetryAfterMs);
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.min(retry, 30));
  return random() * ceiling;
}

/**
 * A client-wide retry budget (the AWS SDK's retry quota): every retry spends tokens, every
 * success earns some back. When a server is down for everyone, the first callers' retries drain
 * the bucket and later calls fail at once (or, for background batches, wait the longest backoff)
 * instead of multiplying the load by the retry count: no retry storm.
 */
export class RetryQuota {
  private tokens: number;

  constructor(
    readonly capacity = 500,
    private readonly retryCost = 5,
    private readonly timeoutCost = 10,
    private readonly successIncrement = 1,
  ) {
    this.tokens = capacity;
  }

  get available(): number {
    return this.tokens;
  }

  /** Takes the cost of retrying after `error`; returns it, or 0 when the budget is spent. */
  acquire(error: unknown): number {
    const cost = error instanceof APIConnectionError ? this.timeoutCost : this.retryCost;
    if (this.tokens < cost) return 0;
    this.tokens -= cost;
    return cost;
  }

  /** A call succeeded: it gives back what its retries took, or a little when it needed none. */
  release(spent: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + (spent > 0 ? spent : this.successIncrement));
  }
}

/** A timer that does not keep the process alive unless asked to (browsers have no unref). */
export function startTimer(fn: () => void, ms: number, keepAlive = false): ReturnType<typeof setTimeout> {
  const timer = setTimeout(fn, ms);
  if (!keepAlive) (timer as { unref?: () => void }).unref?.();
  return timer;
}

/**
 * Waits `ms`, or rejects with the signal's reason when it fires first. The timer is unref'd unless
 * `keepAlive`: a background retry must never be what keeps a finished script running.
 */
export function sleep(ms: number, signal?: AbortSignal, keepAlive = false): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = startTimer(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      ms,
      keepAlive,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
