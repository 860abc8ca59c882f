import type { Kysely, Selectable } from 'kysely';
import type { ApiKey, Scope, User, Workspace, WorkspaceRole } from '../../core/entities.js';
import type { ApiKeyRecord, TenancyRepository } from '../../core/store.port.js';
import { atomically } from './atomic.js';
import type { Database } from './database.js';

export class SqlTenancyRepository implements TenancyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async countUsers(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async insertUser(user: User): Promise<void> {
    await this.db
      .insertInto('users')
      .values({
        id: user.id,
        name: user.name,
        email: user.email,
        is_admin: user.isAdmin ? 1 : 0,
        default_workspace_id: user.defaultWorkspaceId,
        created_at: user.createdAt,
      })
      .execute();
  }

  async getUser(id: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async getUserByName(name: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toUser(row);
  }

  async setDefaultWorkspace(userId: string, workspaceId: string): Promise<void> {
    await atomically(this.db, async (db) => {
      await db.updateTable('users').set({ default_workspace_id: workspaceId }).where('id', '=', userId).execute();
      await bumpSecurityEpoch(db);
    });
  }

  async insertWorkspace(workspace: Workspace): Promise<void> {
    await this.db
      .insertInto('workspaces')
      .values({
        id: workspace.id,
        name: workspace.name,
        created_by: workspace.createdBy,
        created_at: workspace.createdAt,
      })
      .execute();
  }

  async getWorkspace(id: string): Promise<Workspace | undefined> {
    const row = await this.db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toWorkspace(row);
  }

  async getWorkspaceByName(name: string): Promise<Workspace | undefined> {
    const row = await this.db.selectFrom('workspaces').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toWorkspace(row);
  }

  async listWorkspacesOfUser(userId: string): Promise<Workspace[]> {
    const rows = await this.db
      .selectFrom('workspaces')
      .innerJoin('workspace_members', 'workspace_members.workspace_id', 'workspaces.id')
      .selectAll('workspaces')
      .where('workspace_members.user_id', '=', userId)
      .orderBy('workspaces.name')
      .execute();
    return rows.map(toWorkspace);
  }

  async putMember(workspaceId: string, userId: string, role: WorkspaceRole): Promise<void> {
    await atomically(this.db, async (db) => {
      await db
        .insertInto('workspace_members')
        .values({ workspace_id: workspaceId, user_id: userId, role })
        .onConflict((oc) => oc.columns(['workspace_id', 'user_id']).doUpdateSet({ role }))
        .execute();
      await bumpSecurityEpoch(db);
    });
  }

  async insertApiKey(key: ApiKeyRecord): Promise<void> {
    await this.db
      .insertInto('api_keys')
      .values({
        id: key.id,
        user_id: key.userId,
        name: key.name,
        prefix: key.prefix,
        key_hash: key.hash,
        scopes: JSON.stringify(key.scopes),
        created_at: key.createdAt,
        last_used_at: key.lastUsedAt,
        revoked_at: key.revokedAt,
        expires_at: key.expiresAt,
      })
      .execute();
  }

  async getApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('key_hash', '=', hash).executeTakeFirst();
    return row && { ...toApiKey(row), hash: row.key_hash };
  }

  async getApiKey(id: string): Promise<ApiKey | undefined> {
    const row = await this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toApiKey(row);
  }

  async listApiKeys(userId?: string): Promise<ApiKey[]> {
    let query = this.db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').orderBy('id');
    if (userId !== undefined) query = query.where('user_id', '=', userId);
    return (await query.execute()).map(toApiKey);
  }

  async revokeApiKey(id: string, at: number): Promise<boolean> {
    return atomically(this.db, async (db) => {
      const result = await db
        .updateTable('api_keys')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      const revoked = Number(result.numUpdatedRows) > 0;
      if (revoked) await bumpSecurityEpoch(db);
      return revoked;
    });
  }

  async bumpSecurityEpoch(): Promise<void> {
    await bumpSecurityEpoch(this.db);
  }

  async securityEpoch(): Promise<number> {
    const row = await this.db
      .selectFrom('security_epoch')
      .select('epoch')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow();
    return Number(row.epoch);
  }

  async touchApiKey(id: string, at: number, minIntervalMillis: number): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ last_used_at: at })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at - minIntervalMillis)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}

function toUser(row: Selectable<Database['users']>): User {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    isAdmin: row.is_admin === 1,
    defaultWorkspaceId: row.default_workspace_id,
    createdAt: row.created_at,
  };
}

function toWorkspace(row: Selectable<Database['workspaces']>): Workspace {
  return { id: row.id, name: row.name, createdBy: row.created_by, createdAt: row.created_at };
}

function toApiKey(row: Selectable<Database['api_keys']>): ApiKey {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    prefix: row.prefix,
    scopes: JSON.parse(row.scopes) as Scope[],
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    expiresAt: row.expires_at,
  };
}

/**
 * Moves the security epoch on, in the caller's transaction when there is one. The row's lock is
 * held to the end of that transaction, which also serialises the transactions that bump it.
 */
export async function bumpSecurityEpoch(db: Kysely<Database>): Promise<void> {
  await db
    .updateTable('security_epoch')
    .set((eb) => ({ epoch: eb('epoch', '+', 1) }))
    .where('id', '=', 1)
    .execute();
}
