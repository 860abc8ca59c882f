import type { Clock } from './clock.port.js';
import type { Principal } from './principal.js';

/**
 * Resolved principals by key hash (and by session hash), kept briefly: resolving one costs three
 * queries, and a training loop or a screen of charts sends many small requests with the same
 * credentials. Changes made through this process (new workspaces, memberships, revocations,
 * sign-outs) take effect at once. Changes made by another process sharing the store (another
 * server node, the CLI) move the store's security epoch, which `refresh` reads at most every
 * EPOCH_CHECK_MILLIS: they take effect within that interval plus one query.
 */
export class PrincipalCache {
  static readonly TTL_MILLIS = 5_000;
  /**
   * How stale a node's view of revocations may get: a key revoked through one node is refused by
   * every other within this plus one query (the promise is 1 s). It costs one indexed read of one
   * row per interval per node, and only while requests come.
   */
  static readonly EPOCH_CHECK_MILLIS = 250;
  /** Bounds memory when many distinct keys are presented (including invalid ones, never cached). */
  static readonly MAX_ENTRIES = 10_000;

  private readonly entries = new Map<string, { principal: Principal; expires: number }>();
  /** Moves on with every clear: a principal resolved before a clear must not be cached after it. */
  private generation = 0;
  private epoch: number | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private checking: Promise<void> | undefined;

  /** `readEpoch` reads the store's security epoch; without it only this process's changes are seen. */
  constructor(
    private readonly clock: Clock,
    private readonly readEpoch?: () => Promise<number>,
  ) {}

  /**
   * Forgets everything when the shared security epoch moved since the last look (taken at most
   * every EPOCH_CHECK_MILLIS; concurrent callers share one read). Call it before `get`, and hand
   * the generation it returns to `set` for a principal resolved after it.
   */
  async refresh(): Promise<number> {
    if (this.readEpoch && this.clock.now() - this.checkedAt >= PrincipalCache.EPOCH_CHECK_MILLIS) {
      this.checking ??= this.check(this.readEpoch).finally(() => {
        this.checking = undefined;
      });
      await this.checking;
    }
    return this.generation;
  }

  get(hash: string): Principal | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.expires <= this.clock.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.principal;
  }

  /**
   * Keeps the principal for TTL_MILLIS, or until `until` when that comes sooner (a session's
   * expiry). Nothing is kept when the cache was cleared since `generation` (from `refresh`): the
   * principal may have been read before the change that cleared it.
   */
  set(hash: string, principal: Principal, until = Number.POSITIVE_INFINITY, generation = this.generation): void {
    if (generation !== this.generation) return;
    if (this.entries.size >= PrincipalCache.MAX_ENTRIES) this.entries.clear();
    this.entries.set(hash, { principal, expires: Math.min(this.clock.now() + PrincipalCache.TTL_MILLIS, until) });
  }

  /** Forgets one entry (a session signed out). */
  delete(hash: string): void {
    this.entries.delete(hash);
  }

  /** Called after any change to users, workspaces, memberships or keys. */
  clear(): void {
    this.entries.clear();
    this.generation++;
  }

  private async check(readEpoch: () => Promise<number>): Promise<void> {
    const startedAt = this.clock.now();
    try {
      const epoch = await readEpoch();
      if (epoch !== this.epoch) this.clear();
      this.epoch = epoch;
      this.checkedAt = startedAt;
    } catch {
      // Whether anything changed is unknown, so nothing cached is trusted; the lookups that
      // follow meet the store's failure themselves. The next request reads the epoch again.
      this.clear();
    }
  }
}
