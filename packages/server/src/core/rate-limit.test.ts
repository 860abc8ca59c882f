import { describe, expect, it } from 'vitest';
import { ResourceExhaustedError } from './errors.js';
import { PointsRateLimit, RateLimitedError, TokenBuckets } from './rate-limit.js';

function clock() {
  let now = 1_000_000;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

describe('TokenBuckets', () => {
  it('lets a burst through, then refills at the rate, per key', () => {
    const time = clock();
    const buckets = new TokenBuckets('requests', { perSecond: 2, burst: 4 }, time);
    for (let i = 3; i >= 0; i--) expect(buckets.take('a')).toMatchObject({ allowed: true, state: { remaining: i } });
    const refused = buckets.take('a');
    expect(refused).toEqual({
      allowed: false,
      retryAfterSeconds: 1,
      state: { policy: 'requests', quota: 4, windowSeconds: 2, remaining: 0, resetSeconds: 2 },
    });
    expect(buckets.take('b').allowed).toBe(true);
    time.advance(500);
    expect(buckets.take('a')).toMatchObject({ allowed: true, state: { remaining: 0 } });
    expect(buckets.take('a').allowed).toBe(false);
  });

  it('admits a cost above the burst when the bucket is full and leaves it in debt', () => {
    const time = clock();
    const buckets = new TokenBuckets('points', { perSecond: 10, burst: 20 }, time);
    expect(buckets.take('k', 50)).toMatchObject({ allowed: true, state: { remaining: 0, resetSeconds: 5 } });
    // 30 in debt: one more point needs 31 tokens' worth of time.
    expect(buckets.take('k', 1)).toMatchObject({ allowed: false, retryAfterSeconds: 4 });
    time.advance(3_000);
    expect(buckets.take('k', 1).allowed).toBe(false);
    time.advance(1_000);
    expect(buckets.take('k', 1).allowed).toBe(true);
  });

  it('forgets full buckets once many keys have one', () => {
    const time = clock();
    const buckets = new TokenBuckets('requests', { perSecond: 1, burst: 1 }, time);
    for (let i = 0; i < 10_000; i++) buckets.take(`key-${i}`);
    expect(buckets.size).toBe(10_000);
    time.advance(1_000);
    buckets.take('late');
    expect(buckets.size).toBe(1);
  });
});

describe('PointsRateLimit', () => {
  const principal = (credentialId: string) => ({
    userId: 'u',
    userName: 'u',
    isAdmin: false,
    scopes: new Set<'write'>(['write']),
    workspaceIds: new Set<string>(),
    defaultWorkspaceId: null,
    credentialId,
  });

  it('counts points per credential and refuses with a RateLimitedError (a 429 with its state)', () => {
    const limit = new PointsRateLimit({ perSecond: 100, burst: 100 }, clock());
    limit.take(principal('key:a'), 100);
    limit.take(principal('key:b'), 100);
    let error: unknown;
    try {
      limit.take(principal('key:a'), 1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toBeInstanceOf(ResourceExhaustedError);
    expect(error).toMatchObject({ retryAfterSeconds: 1, rateLimit: { policy: 'points', quota: 100, remaining: 0 } });
  });

  it('is off without settings', () => {
    const limit = new PointsRateLimit(undefined, clock());
    for (let i = 0; i < 10; i++) expect(() => limit.take(principal('key:a'), 1_000_000)).not.toThrow();
  });
});
