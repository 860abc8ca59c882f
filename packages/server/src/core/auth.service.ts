import { createHash } from 'node:crypto';
import { type AuditActor, apiActor, operatorActor, recordAudit, SERVER_ACTOR } from './audit.service.js';
import type { Clock } from './clock.port.js';
import { ALL_SCOPES, type ApiKey, type Scope, type User } from './entities.js';
import {
  AlreadyExistsError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
} from './errors.js';
import { newApiKeySecret, newHexId, newUuid } from './ids.js';
import { type Principal, requireScope } from './principal.js';
import type { PrincipalCache } from './principal-cache.js';
import * as rules from './rules.js';
import type { Repositories, Store, TenancyRepository } from './store.port.js';

/** SHA-256 of a secret (API key, session, sign-in token), hex: what the store keeps instead. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A user acting with `scopes` (an API key's or a session's): their workspaces come from the store. */
export async function resolvePrincipal(
  tenancy: TenancyRepository,
  user: User,
  scopes: readonly Scope[],
  credentialId: string,
  apiKeyId?: string,
): Promise<Principal> {
  const workspaces = await tenancy.listWorkspacesOfUser(user.id);
  return {
    userId: user.id,
    userName: user.name,
    isAdmin: user.isAdmin,
    scopes: new Set(scopes),
    workspaceIds: new Set(workspaces.map((w) => w.id)),
    defaultWorkspaceId: user.defaultWorkspaceId ?? workspaces[0]?.id ?? null,
    credentialId,
    ...(apiKeyId === undefined ? {} : { apiKeyId }),
  };
}

/** Why a key that exists and is not revoked no longer authenticates, when it has expired by `now`. */
export function expiredKeyError(key: Pick<ApiKey, 'expiresAt'>, now: number): UnauthenticatedError | undefined {
  if (key.expiresAt === null || key.expiresAt > now) return undefined;
  return new UnauthenticatedError(`this API key expired at ${new Date(key.expiresAt).toISOString()}`, 90212);
}

/** The operator of one-shot `cairn` commands when the CLI names nobody. */
const OPERATOR = operatorActor('operator');

/** Longest label of an API key. */
export const MAX_KEY_NAME_LENGTH = 200;

export interface BootstrapResult {
  /** True when the store was empty and the admin user, workspace and key were just created. */
  created: boolean;
  /** The admin key's secret, only when Cairn generated it (so the caller can print it once). */
  generatedSecret?: string;
}

export const DEFAULT_WORKSPACE = 'default';
export const ADMIN_USER = 'admin';

/** Options of a new key. */
export interface NewKeyOptions {
  /** Epoch ms after which the key no longer authenticates; it never expires when null or absent. */
  expiresAt?: number | null;
}

/** Users, workspaces and API keys: authentication and the operator commands of the CLI. */
export class AuthService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly principals: PrincipalCache,
  ) {}

  /** How often at most a key's `lastUsedAt` is written: once a minute, not once a request. */
  static readonly LAST_USED_INTERVAL_MILLIS = 60_000;
  /** Bounds the memory of `lastStamped` when very many keys are in use. */
  private static readonly MAX_STAMPED_KEYS = 10_000;

  /** When this process last wrote each key's `lastUsedAt` (or tried to). */
  private readonly lastStamped = new Map<string, number>();

  /**
   * Resolves a presented secret to a principal; unknown, revoked and expired keys are
   * unauthenticated.
   *
   * The secret is never compared with a stored one, so no comparison can leak it through timing:
   * only its SHA-256 is looked up, in the index of stored hashes. How long that lookup takes
   * depends at most on how much of the presented *hash* matches a stored hash, and knowing a
   * prefix of a hash tells nothing about a secret that produces it (SHA-256 is preimage
   * resistant), so it cannot be used to guess a key byte by byte.
   */
  async authenticate(secret: string | undefined): Promise<Principal> {
    if (!secret) throw new UnauthenticatedError('missing API key');
    const hash = hashSecret(secret);
    const generation = await this.principals.refresh();
    const principal = this.principals.get(hash) ?? (await this.resolveKey(hash, generation));
    if (principal.apiKeyId !== undefined) await this.stampUse(principal.apiKeyId);
    return principal;
  }

  private async resolveKey(hash: string, generation: number): Promise<Principal> {
    const key = await this.store.tenancy.getApiKeyByHash(hash);
    if (!key || key.revokedAt !== null) throw new UnauthenticatedError('invalid API key', 90212);
    const expired = expiredKeyError(key, this.clock.now());
    if (expired) throw expired;
    const user = await this.store.tenancy.getUser(key.userId);
    if (!user) throw new UnauthenticatedError('invalid API key', 90212);
    const principal = await resolvePrincipal(this.store.tenancy, user, key.scopes, `key:${key.id}`, key.id);
    // Never cached past the key's expiry: the next request after it is refused.
    this.principals.set(hash, principal, key.expiresAt ?? Number.POSITIVE_INFINITY, generation);
    return principal;
  }

  /**
   * Records a use of the key, at most once per LAST_USED_INTERVAL_MILLIS per key and process;
   * the store's conditional update keeps processes sharing it (several servers, the CLI) to about
   * as few writes. A failed write must not fail the request it rides on: it is forgotten, and the
   * next request with the key tries again.
   */
  private async stampUse(keyId: string): Promise<void> {
    const now = this.clock.now();
    const last = this.lastStamped.get(keyId);
    if (last !== undefined && now - last < AuthService.LAST_USED_INTERVAL_MILLIS) return;
    if (this.lastStamped.size >= AuthService.MAX_STAMPED_KEYS) this.lastStamped.clear();
    this.lastStamped.set(keyId, now);
    try {
      await this.store.tenancy.touchApiKey(keyId, now, AuthService.LAST_USED_INTERVAL_MILLIS);
    } catch {
      this.lastStamped.delete(keyId);
    }
  }

  /**
   * On an empty store creates the admin user, the default workspace and an admin key: `secret`
   * when given (CAIRN_ADMIN_API_KEY), otherwise a generated one returned to the caller.
   */
  async bootstrap(secret?: string, actor: AuditActor = SERVER_ACTOR): Promise<BootstrapResult> {
    return this.store.transaction(async (tx) => {
      if ((await tx.tenancy.countUsers()) > 0) return { created: false };
      // Several nodes starting at once on an empty store all get here: the epoch's lock lets one
      // through at a time, and the count again (a fresh snapshot) sends the later ones away.
      await tx.tenancy.bumpSecurityEpoch();
      if ((await tx.tenancy.countUsers()) > 0) return { created: false };
      const now = this.clock.now();
      const userId = newUuid();
      const workspaceId = newHexId();
      await tx.tenancy.insertUser({
        id: userId,
        name: ADMIN_USER,
        email: null,
        isAdmin: true,
        defaultWorkspaceId: null,
        createdAt: now,
      });
      await tx.tenancy.insertWorkspace({ id: workspaceId, name: DEFAULT_WORKSPACE, createdBy: userId, createdAt: now });
      await tx.tenancy.putMember(workspaceId, userId, 'owner');
      await tx.tenancy.setDefaultWorkspace(userId, workspaceId);
      const key = secret ?? newApiKeySecret();
      const record = this.newKeyRecord(userId, 'bootstrap admin key', [...ALL_SCOPES], key, null);
      await tx.tenancy.insertApiKey(record);
      await recordAudit(tx, this.clock, actor, {
        action: 'store.bootstrap',
        targetType: 'user',
        targetId: userId,
        targetName: ADMIN_USER,
        workspace: { id: workspaceId, name: DEFAULT_WORKSPACE },
        details: { admin: true, keyId: record.id, keyPrefix: record.prefix, keyGenerated: secret === undefined },
      });
      return secret ? { created: true } : { created: true, generatedSecret: key };
    });
  }

  /** Creates a user with a personal workspace named after them, which becomes their default. */
  async createUser(
    name: string,
    email: string | null = null,
    isAdmin = false,
    actor: AuditActor = OPERATOR,
  ): Promise<{ userId: string }> {
    rules.userName(name);
    return this.store
      .transaction(async (tx) => {
        if (await tx.tenancy.getUserByName(name)) throw new AlreadyExistsError(`user "${name}" already exists`);
        if (await tx.tenancy.getWorkspaceByName(name)) {
          throw new AlreadyExistsError(`a workspace named "${name}" already exists`);
        }
        const now = this.clock.now();
        const userId = newUuid();
        const workspaceId = newHexId();
        await tx.tenancy.insertUser({ id: userId, name, email, isAdmin, defaultWorkspaceId: null, createdAt: now });
        await tx.tenancy.insertWorkspace({ id: workspaceId, name, createdBy: userId, createdAt: now });
        await tx.tenancy.putMember(workspaceId, userId, 'owner');
        await tx.tenancy.setDefaultWorkspace(userId, workspaceId);
        await recordAudit(tx, this.clock, actor, {
          action: 'user.create',
          targetType: 'user',
          targetId: userId,
          targetName: name,
          workspace: { id: workspaceId, name },
          details: { admin: isAdmin, email },
        });
        return { userId };
      })
      .finally(() => this.principals.clear());
  }

  /** Creates a workspace owned by `ownerName`. */
  async createWorkspace(
    name: string,
    ownerName: string,
    actor: AuditActor = OPERATOR,
  ): Promise<{ workspaceId: string }> {
    rules.workspaceName(name);
    return this.store
      .transaction(async (tx) => {
        const owner = await tx.tenancy.getUserByName(ownerName);
        if (!owner) throw new NotFoundError(`user "${ownerName}" not found`);
        if (await tx.tenancy.getWorkspaceByName(name)) {
          throw new AlreadyExistsError(`workspace "${name}" already exists`);
        }
        const workspaceId = newHexId();
        await tx.tenancy.insertWorkspace({ id: workspaceId, name, createdBy: owner.id, createdAt: this.clock.now() });
        await tx.tenancy.putMember(workspaceId, owner.id, 'owner');
        await recordAudit(tx, this.clock, actor, {
          action: 'workspace.create',
          targetType: 'workspace',
          targetId: workspaceId,
          targetName: name,
          workspace: { id: workspaceId, name },
          details: { owner: owner.name },
        });
        return { workspaceId };
      })
      .finally(() => this.principals.clear());
  }

  async addMember(workspaceName: string, userName: string, actor: AuditActor = OPERATOR): Promise<void> {
    await this.store.transaction(async (tx) => {
      const workspace = await tx.tenancy.getWorkspaceByName(workspaceName);
      if (!workspace) throw new NotFoundError(`workspace "${workspaceName}" not found`);
      const user = await tx.tenancy.getUserByName(userName);
      if (!user) throw new NotFoundError(`user "${userName}" not found`);
      await tx.tenancy.putMember(workspace.id, user.id, 'member');
      await recordAudit(tx, this.clock, actor, {
        action: 'membership.add',
        targetType: 'membership',
        targetId: user.id,
        targetName: user.name,
        workspace,
        details: { role: 'member' },
      });
    });
    this.principals.clear();
  }

  /** Creates a key for a user; the secret is returned once and only its hash is stored. */
  async createKey(
    userName: string,
    name: string,
    scopes: Scope[],
    options: NewKeyOptions = {},
    actor: AuditActor = OPERATOR,
  ): Promise<{ key: ApiKey; secret: string }> {
    knownScopes(scopes);
    const expiresAt = this.futureExpiry(options.expiresAt);
    const user = await this.store.tenancy.getUserByName(userName);
    if (!user) throw new NotFoundError(`user "${userName}" not found`);
    return this.insertKey(user, name, scopes, expiresAt, actor);
  }

  async listKeys(userName?: string): Promise<ApiKey[]> {
    if (userName === undefined) return this.store.tenancy.listApiKeys();
    const user = await this.store.tenancy.getUserByName(userName);
    if (!user) throw new NotFoundError(`user "${userName}" not found`);
    return this.store.tenancy.listApiKeys(user.id);
  }

  /** Revokes a key and ends the sessions opened with it. */
  async revokeKey(id: string, actor: AuditActor = OPERATOR): Promise<void> {
    if (!(await this.revokeWithSessions(id, actor))) throw new NotFoundError(`no active API key with id "${id}"`);
  }

  /** The caller's own keys, newest first, revoked ones included. */
  async listOwnKeys(principal: Principal): Promise<ApiKey[]> {
    requireScope(principal, 'read');
    return this.store.tenancy.listApiKeys(principal.userId);
  }

  /**
   * A key for the caller, with `scopes` or else the caller's own. A key never gets a scope its
   * creator lacks (an `admin` caller holds them all): otherwise a read-only session could mint
   * itself a write key.
   */
  async createOwnKey(
    principal: Principal,
    name: string,
    scopes?: readonly string[],
    options: NewKeyOptions = {},
    requestId?: string,
  ): Promise<{ key: ApiKey; secret: string }> {
    requireScope(principal, 'write');
    if (name.trim() === '') throw new InvalidArgumentError('a key needs a name');
    if (name.length > MAX_KEY_NAME_LENGTH) {
      throw new InvalidArgumentError(`a key name has at most ${MAX_KEY_NAME_LENGTH} characters`);
    }
    const wanted = scopes === undefined ? ALL_SCOPES.filter((s) => principal.scopes.has(s)) : knownScopes(scopes);
    const lacking = principal.scopes.has('admin') ? [] : wanted.filter((s) => !principal.scopes.has(s));
    if (lacking.length > 0) {
      throw new PermissionDeniedError(`a key cannot get scopes its creator lacks: ${lacking.join(', ')}`);
    }
    const expiresAt = this.futureExpiry(options.expiresAt);
    const owner = { id: principal.userId, name: principal.userName };
    return this.insertKey(owner, name, [...new Set(wanted)], expiresAt, apiActor(principal, requestId));
  }

  /**
   * Revokes one of the caller's keys and the sessions opened with it. Another user's key is
   * reported absent; revoking a revoked key again changes nothing.
   */
  async revokeOwnKey(principal: Principal, id: string, requestId?: string): Promise<void> {
    requireScope(principal, 'write');
    const key = await this.store.tenancy.getApiKey(id);
    if (!key || key.userId !== principal.userId) throw new NotFoundError(`API key ${id} not found`);
    if (key.revokedAt === null) await this.revokeWithSessions(id, apiActor(principal, requestId));
  }

  private async revokeWithSessions(id: string, actor: AuditActor): Promise<boolean> {
    const now = this.clock.now();
    const revoked = await this.store.transaction(async (tx) => {
      const key = await tx.tenancy.getApiKey(id);
      if (!key || !(await tx.tenancy.revokeApiKey(id, now))) return false;
      const sessionsEnded = await tx.sessions.revokeOfApiKey(id, now);
      const owner = await tx.tenancy.getUser(key.userId);
      await recordAudit(tx, this.clock, actor, {
        action: 'key.revoke',
        targetType: 'api-key',
        targetId: key.id,
        targetName: key.name,
        details: { prefix: key.prefix, owner: owner?.name ?? null, sessionsEnded },
      });
      return true;
    });
    // Cached principals of the key and of its sessions go at once.
    if (revoked) this.principals.clear();
    return revoked;
  }

  private async insertKey(
    owner: { id: string; name: string },
    name: string,
    scopes: Scope[],
    expiresAt: number | null,
    actor: AuditActor,
  ): Promise<{ key: ApiKey; secret: string }> {
    const secret = newApiKeySecret();
    const record = this.newKeyRecord(owner.id, name, scopes, secret, expiresAt);
    await this.store.transaction(async (tx) => {
      await tx.tenancy.insertApiKey(record);
      await recordKeyCreated(tx, this.clock, actor, record, owner.name);
    });
    const { hash: _hash, ...key } = record;
    return { key, secret };
  }

  /** An expiry given for a new key: a moment still to come (or none). */
  private futureExpiry(expiresAt: number | null | undefined): number | null {
    if (expiresAt === undefined || expiresAt === null) return null;
    if (!Number.isSafeInteger(expiresAt) || expiresAt <= this.clock.now()) {
      throw new InvalidArgumentError('a key must expire in the future (expiresAt is epoch milliseconds)');
    }
    return expiresAt;
  }

  private newKeyRecord(userId: string, name: string, scopes: Scope[], secret: string, expiresAt: number | null) {
    return {
      id: newHexId(),
      userId,
      name,
      prefix: secret.slice(0, 6),
      scopes,
      createdAt: this.clock.now(),
      lastUsedAt: null,
      revokedAt: null,
      expiresAt,
      hash: hashSecret(secret),
    };
  }
}

/** The audit event of a new key: its id, prefix, scopes and expiry, never its secret or hash. */
function recordKeyCreated(
  tx: Repositories,
  clock: Clock,
  actor: AuditActor,
  key: ApiKey,
  ownerName: string,
): Promise<void> {
  return recordAudit(tx, clock, actor, {
    action: 'key.create',
    targetType: 'api-key',
    targetId: key.id,
    targetName: key.name,
    details: { prefix: key.prefix, owner: ownerName, scopes: key.scopes, expiresAt: key.expiresAt },
  });
}

/** Checks scope names against ALL_SCOPES; a key needs at least one. */
function knownScopes(scopes: readonly string[]): Scope[] {
  const unknown = scopes.filter((s) => !(ALL_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown scopes: ${unknown.join(', ')}`);
  if (scopes.length === 0) throw new InvalidArgumentError('a key needs at least one scope');
  return scopes as Scope[];
}
