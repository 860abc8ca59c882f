import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type AuditActor, operatorActor, recordAudit } from './audit.service.js';
import { AuthService, expiredKeyError, hashSecret, resolvePrincipal } from './auth.service.js';
import type { Clock } from './clock.port.js';
import { ALL_SCOPES, type Scope, type User } from './entities.js';
import { NotFoundError, UnauthenticatedError } from './errors.js';
import { newHexId } from './ids.js';
import type { Principal } from './principal.js';
import type { PrincipalCache } from './principal-cache.js';
import type { SessionRecord, Store } from './store.port.js';

/** A week: how long a browser stays signed in unless configured otherwise (CAIRN_SESSION_TTL_HOURS). */
export const DEFAULT_SESSION_TTL_MILLIS = 168 * 60 * 60 * 1000;
/** How long a sign-in link can be used (once). */
export const SIGN_IN_TOKEN_TTL_MILLIS = 24 * 60 * 60 * 1000;

/**
 * The web UI's sign-in address for a token. The token rides in the fragment, which browsers never
 * send: it stays out of access logs, proxies and the Referer header.
 */
export function signInLink(publicUrl: string, token: string): string {
  return `${publicUrl}/sign-in#token=${token}`;
}

/** What a session tells the web UI about itself. */
export interface SessionView {
  user: User;
  scopes: Scope[];
  /** To send as X-CSRF-Token with every write made with the session's cookie. */
  csrfToken: string;
  expiresAt: number;
}

/** How a session is opened: with an API key, or with a sign-in link's token. */
export type SessionCredentials = { apiKey: string } | { signInToken: string };

/**
 * Browser sessions of the web UI (docs/api/cairn.md, "Browser sessions"). A session's secret
 * travels in an HttpOnly cookie and is stored only as its SHA-256. Its CSRF token is derived
 * from the secret (HMAC), so it needs no storage of its own and is worthless without the secret.
 */
export class SessionsService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly principals: PrincipalCache,
    /** How long a session lives after it is opened. */
    readonly ttlMillis: number = DEFAULT_SESSION_TTL_MILLIS,
  ) {}

  /**
   * Opens a session for the owner of a live API key (with the key's scopes) or of an unused,
   * unexpired sign-in token (with every scope; the token is spent). Anything else is
   * unauthenticated. Returns the secret, to be handed to the browser once.
   */
  async open(credentials: SessionCredentials): Promise<{ secret: string; session: SessionView }> {
    const now = this.clock.now();
    const secret = randomBytes(32).toString('base64url');
    const { record, user } = await this.store.transaction(async (tx) => {
      let userId: string;
      let scopes: Scope[];
      let apiKeyId: string | null = null;
      let expiresAt = now + this.ttlMillis;
      if ('apiKey' in credentials) {
        const key = await tx.tenancy.getApiKeyByHash(hashSecret(credentials.apiKey));
        if (!key || key.revokedAt !== null) throw new UnauthenticatedError('invalid API key');
        const expired = expiredKeyError(key, now);
        if (expired) throw expired;
        userId = key.userId;
        scopes = key.scopes;
        apiKeyId = key.id;
        // A session is no way around a key's expiry: it ends with the key at the latest.
        if (key.expiresAt !== null) expiresAt = Math.min(expiresAt, key.expiresAt);
        await tx.tenancy.touchApiKey(key.id, now, AuthService.LAST_USED_INTERVAL_MILLIS);
      } else {
        // Spent inside the transaction: if opening the session fails, the link still works.
        const token = await tx.sessions.useSignInToken(hashSecret(credentials.signInToken), now);
        if (!token) throw new UnauthenticatedError('this sign-in link is invalid, used or expired');
        userId = token.userId;
        scopes = [...ALL_SCOPES];
      }
      const user = await tx.tenancy.getUser(userId);
      if (!user) throw new UnauthenticatedError('the user of these credentials no longer exists');
      // Sign-ins are rare next to requests: the moment to drop rows that ended.
      await tx.sessions.deleteExpired(now);
      const record: SessionRecord = {
        id: newHexId(),
        hash: hashSecret(secret),
        userId,
        scopes,
        apiKeyId,
        createdAt: now,
        expiresAt,
        revokedAt: null,
      };
      await tx.sessions.insert(record);
      return { record, user };
    });
    return { secret, session: view(record, user, secret) };
  }

  /** The principal of a live session: its user with the session's scopes. */
  async authenticate(secret: string): Promise<Principal> {
    const hash = hashSecret(secret);
    const generation = await this.principals.refresh();
    const cached = this.principals.get(cacheKey(hash));
    if (cached) return cached;
    const { record, user } = await this.live(hash);
    const principal = await resolvePrincipal(this.store.tenancy, user, record.scopes, `session:${record.id}`);
    // Never cached past the session's own end.
    this.principals.set(cacheKey(hash), principal, record.expiresAt, generation);
    return principal;
  }

  /** The live session of this secret. */
  async current(secret: string): Promise<SessionView> {
    const { record, user } = await this.live(hashSecret(secret));
    return view(record, user, secret);
  }

  /** Ends the session at once, in this process's cache too. */
  async signOut(secret: string): Promise<void> {
    const hash = hashSecret(secret);
    const { record } = await this.live(hash);
    await this.store.sessions.revoke(record.id, this.clock.now());
    this.principals.delete(cacheKey(hash));
  }

  /**
   * Whether `presented` is the CSRF token of the session with this secret. Compared in constant
   * time as SHA-256 digests, which are of equal length whatever was presented: neither the
   * comparison nor a length check tells how close a guess came.
   */
  verifyCsrfToken(secret: string, presented: string | undefined): boolean {
    if (presented === undefined) return false;
    return timingSafeEqual(sha256(presented), sha256(csrfToken(secret)));
  }

  /**
   * A one-time sign-in token for the user, valid for SIGN_IN_TOKEN_TTL_MILLIS; only its hash is
   * kept. It grants every scope, so handing one out is audited like creating a key.
   */
  async createSignInToken(
    userName: string,
    actor: AuditActor = operatorActor('operator'),
  ): Promise<{ token: string; expiresAt: number }> {
    const now = this.clock.now();
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + SIGN_IN_TOKEN_TTL_MILLIS;
    await this.store.transaction(async (tx) => {
      const user = await tx.tenancy.getUserByName(userName);
      if (!user) throw new NotFoundError(`user "${userName}" not found`);
      const id = newHexId();
      await tx.sessions.insertSignInToken({
        id,
        hash: hashSecret(token),
        userId: user.id,
        createdAt: now,
        expiresAt,
        usedAt: null,
      });
      await recordAudit(tx, this.clock, actor, {
        action: 'user.sign-in-link',
        targetType: 'user',
        targetId: user.id,
        targetName: user.name,
        details: { tokenId: id, expiresAt },
      });
    });
    return { token, expiresAt };
  }

  private async live(hash: string): Promise<{ record: SessionRecord; user: User }> {
    const record = await this.store.sessions.getByHash(hash);
    if (!record || record.revokedAt !== null || record.expiresAt <= this.clock.now()) {
      throw new UnauthenticatedError('no live session: sign in again');
    }
    const user = await this.store.tenancy.getUser(record.userId);
    if (!user) throw new UnauthenticatedError('no live session: sign in again');
    return { record, user };
  }
}

/** Sessions share the principal cache with API keys; the prefix keeps their entries apart. */
function cacheKey(hash: string): string {
  return `session:${hash}`;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function csrfToken(secret: string): string {
  return createHmac('sha256', secret).update('cairn csrf token').digest('base64url');
}

function view(record: SessionRecord, user: User, secret: string): SessionView {
  return { user, scopes: record.scopes, csrfToken: csrfToken(secret), expiresAt: record.expiresAt };
}
