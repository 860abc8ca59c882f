import type { Kysely, Selectable } from 'kysely';
import type { Scope } from '../../core/entities.js';
import type { SessionRecord, SessionRepository, SignInTokenRecord } from '../../core/store.port.js';
import { atomically } from './atomic.js';
import type { Database } from './database.js';
import { bumpSecurityEpoch } from './tenancy.repository.js';

export class SqlSessionRepository implements SessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(session: SessionRecord): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        id: session.id,
        secret_hash: session.hash,
        user_id: session.userId,
        api_key_id: session.apiKeyId,
        scopes: JSON.stringify(session.scopes),
        created_at: session.createdAt,
        expires_at: session.expiresAt,
        revoked_at: session.revokedAt,
      })
      .execute();
  }

  async getByHash(hash: string): Promise<SessionRecord | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('secret_hash', '=', hash).executeTakeFirst();
    return row && toSession(row);
  }

  async revoke(id: string, at: number): Promise<boolean> {
    return atomically(this.db, async (db) => {
      const result = await db
        .updateTable('sessions')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      const revoked = Number(result.numUpdatedRows) > 0;
      if (revoked) await bumpSecurityEpoch(db);
      return revoked;
    });
  }

  async revokeOfApiKey(apiKeyId: string, at: number): Promise<number> {
    return atomically(this.db, async (db) => {
      const result = await db
        .updateTable('sessions')
        .set({ revoked_at: at })
        .where('api_key_id', '=', apiKeyId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      const revoked = Number(result.numUpdatedRows);
      if (revoked > 0) await bumpSecurityEpoch(db);
      return revoked;
    });
  }

  async insertSignInToken(token: SignInTokenRecord): Promise<void> {
    await this.db
      .insertInto('sign_in_tokens')
      .values({
        id: token.id,
        token_hash: token.hash,
        user_id: token.userId,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
        used_at: token.usedAt,
      })
      .execute();
  }

  async useSignInToken(hash: string, at: number): Promise<SignInTokenRecord | undefined> {
    // One conditional UPDATE … RETURNING: the database serialises concurrent uses of a row, so a
    // second use finds used_at set and updates nothing.
    const row = await this.db
      .updateTable('sign_in_tokens')
      .set({ used_at: at })
      .where('token_hash', '=', hash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', at)
      .returningAll()
      .executeTakeFirst();
    return row && toSignInToken(row);
  }

  async deleteExpired(before: number): Promise<number> {
    const sessions = await this.db.deleteFrom('sessions').where('expires_at', '<=', before).executeTakeFirst();
    const tokens = await this.db.deleteFrom('sign_in_tokens').where('expires_at', '<=', before).executeTakeFirst();
    return Number(sessions.numDeletedRows) + Number(tokens.numDeletedRows);
  }
}

function toSession(row: Selectable<Database['sessions']>): SessionRecord {
  return {
    id: row.id,
    hash: row.secret_hash,
    userId: row.user_id,
    scopes: JSON.parse(row.scopes) as Scope[],
    apiKeyId: row.api_key_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

function toSignInToken(row: Selectable<Database['sign_in_tokens']>): SignInTokenRecord {
  return {
    id: row.id,
    hash: row.token_hash,
    userId: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    usedAt: row.used_at,
  };
}
