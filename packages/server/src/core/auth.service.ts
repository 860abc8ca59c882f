import { createHash } from 'node:crypto';
import type { Clock } from './clock.port.js';
import { ALL_SCOPES, type ApiKey, type Scope } from './entities.js';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, UnauthenticatedError } from './errors.js';
import { newApiKeySecret, newHexId, newUuid } from './ids.js';
import type { Principal } from './principal.js';
import type { PrincipalCache } from './principal-cache.js';
import * as rules from './rules.js';
import type { Store } from './store.port.js';

export function hashApiKey(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

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
    const hash = hashApiKey(secret);
    const cached = this.principals.get(hash);
    if (cached) return cached;
    const key = await this.store.tenancy.getApiKeyByHash(hash);
    if (!key || key.revokedAt !== null) throw new UnauthenticatedError('invalid API key', 90212);
    const user = await this.store.tenancy.getUser(key.userId);
    if (!user) throw new UnauthenticatedError('invalid API key', 90212);
    const workspaces = await this.store.tenancy.listWorkspacesOfUser(user.id);
    const principal: Principal = {
      userId: user.id,
      userName: user.name,
      isAdmin: user.isAdmin,
      scopes: new Set(key.scopes),
      workspaceIds: new Set(workspaces.map((w) => w.id)),
      defaultWorkspaceId: user.defaultWorkspaceId ?? workspaces[0]?.id ?? null,
    };
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
    const unknown = scopes.filter((s) => !ALL_SCOPES.includes(s));
    if (unknown.length > 0) throw new InvalidArgumentError(`unknown scopes: ${unknown.join(', ')}`);
    if (scopes.length === 0) throw new InvalidArgumentError('a key needs at least one scope');
    const user = await this.store.tenancy.getUserByName(userName);
    if (!user) throw new NotFoundError(`user "${userName}" not found`);
    const secret = newApiKeySecret();
    const record = this.newKeyRecord(user.id, name, scopes, secret);
    await this.store.tenancy.insertApiKey(record);
    const { hash: _hash, ...key } = record;
    return { key, secret };
  }

  async listKeys(userName?: string): Promise<ApiKey[]> {
    if (userName === undefined) return this.store.tenancy.listApiKeys();
    const user = await this.store.tenancy.getUserByName(userName);
    if (!user) throw new NotFoundError(`user "${userName}" not found`);
    return this.store.tenancy.listApiKeys(user.id);
  }

  async revokeKey(id: string): Promise<void> {
    if (!(await this.store.tenancy.revokeApiKey(id, this.clock.now()))) {
      throw new NotFoundError(`no active API key with id "${id}"`);
    }
    this.principals.clear();
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
      hash: hashApiKey(secret),
    };
  }
}
