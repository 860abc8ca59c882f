import type { Clock } from './clock.port.js';
import type { Principal } from './principal.js';

/**
 * Resolved principals by key hash (and by session hash), kept briefly: resolving one costs three
 * queries, and a training loop or a screen of charts sends many small requests with the same
 * credentials. Changes made through this process (new workspaces, memberships, revocations,
 * sign-outs) take effect at once; changes made by another process sharing the store (the CLI)
 * take effect within TTL_MILLIS.
 */
export class PrincipalCache {
  static readonly TTL_MILLIS = 5_000;
  /** Bounds memory when many distinct keys are presented (including invalid ones, never cached). */
  static readonly MAX_ENTRIES = 10_000;

  private readonly entries = new Map<string, { principal: Principal; expires: number }>();

  constructor(private readonly clock: Clock) {}

  get(hash: string): Principal | undefined {
    const entry = this.entries.get(hash);
    if (!entry) return undefined;
    if (entry.expires <= this.clock.now()) {
      this.entries.delete(hash);
      return undefined;
    }
    return entry.principal;
  }

  /** Keeps the principal for TTL_MILLIS, or until `until` when that comes sooner (a session's expiry). */
  set(hash: string, principal: Principal, until = Number.POSITIVE_INFINITY): void {
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
  }
}
