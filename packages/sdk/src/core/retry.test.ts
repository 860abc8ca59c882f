import { describe, expect, it } from 'vitest';
import { APIConnectionError, APIError, APIUserAbortError, RateLimitError } from './errors.js';
import { isRetryableError, RetryQuota, retryAfterMs, retryDelayMs } from './retry.js';

const backoff = { baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 };

describe('retry rules', () => {
  it('reads retry-after-ms, Retry-After in seconds and as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250.5' }), now)).toBe(250.5);
    expect(retryAfterMs(new Headers({ 'retry-after': '3' }), now)).toBe(3_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:10 GMT' }), now)).toBe(10_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(new Headers(), now)).toBeUndefined();
  });

  it('waits what the server asks, capped; otherwise full-jitter exponential backoff', () => {
    const limited = new RateLimitError(429, 'slow down', { headers: new Headers({ 'retry-after': '2' }) });
    expect(retryDelayMs(0, limited, backoff)).toBe(2_000);
    const tooLong = new RateLimitError(429, 'slow down', { headers: new Headers({ 'retry-after': '3600' }) });
    expect(retryDelayMs(0, tooLong, backoff)).toBe(5_000);
    const plain = new APIConnectionError();
    expect(retryDelayMs(0, plain, backoff, () => 0.999)).toBeCloseTo(99.9);
    expect(retryDelayMs(3, plain, backoff, () => 0.5)).toBe(400);
    expect(retryDelayMs(20, plain, backoff, () => 1)).toBe(1_000);
    expect(retryDelayMs(20, plain, backoff, () => 0)).toBe(0);
  });

  it('retries connection errors, 408, 409, 429 and 5xx but 507; never a caller abort or another 4xx', () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504])
      expect(isRetryableError(new APIError(status, 'x'))).toBe(true);
    for (const status of [400, 401, 403, 404, 413, 415, 422, 507])
      expect(isRetryableError(new APIError(status, 'x'))).toBe(false);
    expect(isRetryableError(new APIConnectionError())).toBe(true);
    expect(isRetryableError(new APIUserAbortError())).toBe(false);
    expect(isRetryableError(new Error('x'))).toBe(false);
  });

  it('spends the retry quota, more after timeouts, and refills it on success', () => {
    const quota = new RetryQuota(20, 5, 10, 1);
    expect(quota.acquire(new APIError(503, 'x'))).toBe(5);
    expect(quota.acquire(new APIConnectionError())).toBe(10);
    expect(quota.acquire(new APIConnectionError())).toBe(0);
    expect(quota.acquire(new APIError(503, 'x'))).toBe(5);
    expect(quota.available).toBe(0);
    quota.release(0);
    expect(quota.available).toBe(1);
    quota.release(15);
    expect(quota.available).toBe(16);
    quota.release(15);
    expect(quota.available).toBe(20);
  });
});
