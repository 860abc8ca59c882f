import { createHash } from 'node:crypto';
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
import type { Store, TenancyRepository } from './store.port.js';

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
  };
}

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

/** Users, workspaces and API keys: authentication and the operator commands of the CLI. */
export class AuthService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly principals: PrincipalCache,
  ) {}

  /** Resolves a presented secret to a principal; unknown or revoked keys are unauthenticated. */
  async authenticate(secret: string | undefined): Promise<Principal> {
    if (!secret) throw new UnauthenticatedError('missing API key');
    const hash = hashSecret(secret);
    const cached = this.principals.get(hash);
    if (cached) return cached;
    const key = await this.store.tenancy.getApiKeyByHash(hash);
    if (!key || key.revokedAt !== null) throw new UnauthenticatedError('invalid API key', 90212);
    const user = await this.store.tenancy.getUser(key.userId);
    if (!user) throw new UnauthenticatedError('invalid API key', 90212);
    const principal = await resolvePrincipal(this.store.tenancy, user, key.scopes, `key:${key.id}`);
    this.principals.set(hash, principal);
    return principal;
  }

  /**
   * On an empty store creates the admin user, the default workspace and an admin key: `secret`
   * when given (CAIRN_ADMIN_API_KEY), otherwise a generated one returned to the caller.
   */
  async bootstrap(secret?: string): Promise<BootstrapResult> {
    return this.store.transaction(async (tx) => {
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
      await tx.tenancy.insertApiKey({
        ...this.newKeyRecord(userId, 'bootstrap admin key', [...ALL_SCOPES], key),
      });
      return secret ? { created: true } : { created: true, generatedSecret: key };
    });
  }

  /** Creates a user with a personal workspace named after them, which becomes their default. */
  async createUser(name: string, email: string | null = null, isAdmin = false): Promise<{ userId: string }> {
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
        return { userId };
      })
      .finally(() => this.principals.clear());
  }

  /** Creates a workspace owned by `ownerName`. */
  async createWorkspace(name: string, ownerName: string): Promise<{ workspaceId: string }> {
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
        return { workspaceId };
      })
      .finally(() => this.principals.clear());
  }

  async addMember(workspaceName: string, userName: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const workspace = await tx.tenancy.getWorkspaceByName(workspaceName);
      if (!workspace) throw new NotFoundError(`workspace "${workspaceName}" not found`);
      const user = await tx.tenancy.getUserByName(userName);
      if (!user) throw new NotFoundError(`user "${userName}" not found`);
      await tx.tenancy.putMember(workspace.id, user.id, 'member');
    });
    this.principals.clear();
  }

  /** Creates a key for a user; the secret is returned once and only its hash is stored. */
  async createKey(userName: string, name: string, scopes: Scope[]): Promise<{ key: ApiKey; secret: string }> {
    knownScopes(scopes);
    const user = await this.store.tenancy.getUserByName(userName);
    if (!user) throw new NotFoundError(`user "${userName}" not found`);
    return this.insertKey(user.id, name, scopes);
  }

  async listKeys(userName?: string): Promise<ApiKey[]> {
    if (userName === undefined) return this.store.tenancy.listApiKeys();
    const user = await this.store.tenancy.getUserByName(userName);
    if (!user) throw new NotFoundError(`user "${userName}" not found`);
    return this.store.tenancy.listApiKeys(user.id);
  }

  /** Revokes a key and ends the sessions opened with it. */
  async revokeKey(id: string): Promise<void> {
    if (!(await this.revokeWithSessions(id))) throw new NotFoundError(`no active API key with id "${id}"`);
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
    return this.insertKey(principal.userId, name, [...new Set(wanted)]);
  }

  /**
   * Revokes one of the caller's keys and the sessions opened with it. Another user's key is
   * reported absent; revoking a revoked key again changes nothing.
   */
  async revokeOwnKey(principal: Principal, id: string): Promise<void> {
    requireScope(principal, 'write');
    const key = await this.store.tenancy.getApiKey(id);
    if (!key || key.userId !== principal.userId) throw new NotFoundError(`API key ${id} not found`);
    if (key.revokedAt === null) await this.revokeWithSessions(id);
  }

  private async revokeWithSessions(id: string): Promise<boolean> {
    const now = this.clock.now();
    const revoked = await this.store.transaction(async (tx) => {
      if (!(await tx.tenancy.revokeApiKey(id, now))) return false;
      await tx.sessions.revokeOfApiKey(id, now);
      return true;
    });
    // Cached principals of the key and of its sessions go at once.
    if (revoked) this.principals.clear();
    return revoked;
  }

  private async insertKey(userId: string, name: string, scopes: Scope[]): Promise<{ key: ApiKey; secret: string }> {
    const secret = newApiKeySecret();
    const record = this.newKeyRecord(userId, name, scopes, secret);
    await this.store.tenancy.insertApiKey(record);
    const { hash: _hash, ...key } = record;
    return { key, secret };
  }

  private newKeyRecord(userId: string, name: string, scopes: Scope[], secret: string) {
    return {
      id: newHexId(),
      userId,
      name,
      prefix: secret.slice(0, 6),
      scopes,
      createdAt: this.clock.now(),
      lastUsedAt: null,
      revokedAt: null,
      hash: hashSecret(secret),
    };
  }
}

/** Checks scope names against ALL_SCOPES; a key needs at least one. */
function knownScopes(scopes: readonly string[]): Scope[] {
  const unknown = scopes.filter((s) => !(ALL_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown scopes: ${unknown.join(', ')}`);
  if (scopes.length === 0) throw new InvalidArgumentError('a key needs at least one scope');
  return scopes as Scope[];
}
