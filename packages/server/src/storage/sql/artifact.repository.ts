import { type Kysely, type Selectable, sql } from 'kysely';
import type { Artifact, ArtifactVersion, ArtifactVersionState, Asset } from '../../core/entities.js';
import type {
  ArtifactPatch,
  ArtifactRecord,
  ArtifactRepository,
  ArtifactVersionPatch,
  ArtifactVersionRecord,
} from '../../core/store.port.js';
import { toAsset } from './asset.repository.js';
import { atomically } from './atomic.js';
import type { Database } from './database.js';

type ArtifactRow = Selectable<Database['artifacts']> & {
  versions_count: number | string;
  size_in_bytes: number | string;
};
type VersionRow = Selectable<Database['artifact_versions']> & { size_in_bytes: number | string };

export class SqlArtifactRepository implements ArtifactRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(a: Artifact): Promise<void> {
    await this.db
      .insertInto('artifacts')
      .values({
        id: a.id,
        workspace_id: a.workspaceId,
        project_id: a.projectId,
        name: a.name,
        type: a.type,
        description: a.description,
        metadata: a.metadata,
        tags: JSON.stringify(a.tags),
        is_public: a.isPublic ? 1 : 0,
        emoji: a.emoji,
        created_by: a.createdBy,
        experiment_key: a.experimentKey,
        created_at: a.createdAt,
        updated_at: a.updatedAt,
      })
      .execute();
  }

  async get(id: string): Promise<ArtifactRecord | undefined> {
    const row = await this.selectArtifacts().where('artifacts.id', '=', id).executeTakeFirst();
    return row && toArtifact(row);
  }

  async getByName(workspaceId: string, name: string): Promise<ArtifactRecord | undefined> {
    const row = await this.selectArtifacts()
      .where('artifacts.workspace_id', '=', workspaceId)
      .where('artifacts.name', '=', name)
      .executeTakeFirst();
    return row && toArtifact(row);
  }

  async list(workspaceId: string, type?: string): Promise<ArtifactRecord[]> {
    let query = this.selectArtifacts().where('artifacts.workspace_id', '=', workspaceId).orderBy('artifacts.name');
    if (type !== undefined) query = query.where('artifacts.type', '=', type);
    return (await query.execute()).map(toArtifact);
  }

  async update(id: string, patch: ArtifactPatch): Promise<void> {
    const set: Partial<Database['artifacts']> = {};
    if (patch.type !== undefined) set.type = patch.type;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.metadata !== undefined) set.metadata = patch.metadata;
    if (patch.tags !== undefined) set.tags = JSON.stringify(patch.tags);
    if (patch.isPublic !== undefined) set.is_public = patch.isPublic ? 1 : 0;
    if (patch.emoji !== undefined) set.emoji = patch.emoji;
    if (patch.updatedAt !== undefined) set.updated_at = patch.updatedAt;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('artifacts').set(set).where('id', '=', id).execute();
  }

  async touch(id: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('artifacts')
      .set({ updated_at: at })
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async insertVersion(v: ArtifactVersion): Promise<void> {
    await this.db
      .insertInto('artifact_versions')
      .values({
        id: v.id,
        artifact_id: v.artifactId,
        version: v.version,
        state: v.state,
        metadata: v.metadata,
        tags: JSON.stringify(v.tags),
        note: v.note,
        owner_user_id: v.ownerUserId,
        experiment_key: v.experimentKey,
        created_at: v.createdAt,
        updated_at: v.updatedAt,
      })
      .execute();
  }

  async getVersion(id: string): Promise<ArtifactVersionRecord | undefined> {
    const row = await this.selectVersions().where('artifact_versions.id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const aliases = await this.db
      .selectFrom('artifact_aliases')
      .select('alias')
      .where('version_id', '=', id)
      .orderBy('alias')
      .execute();
    return toVersion(
      row,
      aliases.map((a) => a.alias),
    );
  }

  async listVersions(artifactId: string): Promise<ArtifactVersionRecord[]> {
    const rows = await this.selectVersions()
      .where('artifact_versions.artifact_id', '=', artifactId)
      .orderBy('artifact_versions.created_at')
      .orderBy('artifact_versions.id')
      .execute();
    const aliases = await this.db
      .selectFrom('artifact_aliases')
      .select(['alias', 'version_id'])
      .where('artifact_id', '=', artifactId)
      .orderBy('alias')
      .execute();
    const byVersion = new Map<string, string[]>();
    for (const { alias, version_id } of aliases) {
      const list = byVersion.get(version_id) ?? [];
      list.push(alias);
      byVersion.set(version_id, list);
    }
    return rows.map((row) => toVersion(row, byVersion.get(row.id) ?? []));
  }

  async updateVersion(id: string, patch: ArtifactVersionPatch): Promise<void> {
    const set: Partial<Database['artifact_versions']> = {};
    if (patch.metadata !== undefined) set.metadata = patch.metadata;
    if (patch.tags !== undefined) set.tags = JSON.stringify(patch.tags);
    if (patch.updatedAt !== undefined) set.updated_at = patch.updatedAt;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('artifact_versions').set(set).where('id', '=', id).execute();
  }

  async closeVersion(id: string, state: 'CLOSED' | 'ERROR', at: number): Promise<boolean> {
    // The state condition is part of the UPDATE, so the check and the change are one atomic step.
    const result = await this.db
      .updateTable('artifact_versions')
      .set({ state, updated_at: at })
      .where('id', '=', id)
      .where('state', '=', 'OPEN')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async lockOpenVersion(id: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('artifact_versions')
      .set({ updated_at: at })
      .where('id', '=', id)
      .where('state', '=', 'OPEN')
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setAliases(artifactId: string, versionId: string, aliases: readonly string[]): Promise<void> {
    await atomically(this.db, async (db) => {
      await db.deleteFrom('artifact_aliases').where('version_id', '=', versionId).execute();
      if (aliases.length === 0) return;
      await db
        .deleteFrom('artifact_aliases')
        .where('artifact_id', '=', artifactId)
        .where('alias', 'in', [...aliases])
        .execute();
      await db
        .insertInto('artifact_aliases')
        .values(aliases.map((alias) => ({ artifact_id: artifactId, alias, version_id: versionId })))
        .execute();
    });
  }

  async listFiles(versionId: string): Promise<Asset[]> {
    const rows = await this.db
      .selectFrom('assets')
      .selectAll()
      .where('artifact_version_id', '=', versionId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toAsset);
  }

  private selectArtifacts() {
    return this.db
      .selectFrom('artifacts')
      .selectAll('artifacts')
      .select([
        sql<number>`(select count(*) from artifact_versions v where v.artifact_id = artifacts.id)`.as('versions_count'),
        sql<number>`(select coalesce(sum(a.file_size), 0) from assets a
          join artifact_versions v on v.id = a.artifact_version_id where v.artifact_id = artifacts.id)`.as(
          'size_in_bytes',
        ),
      ]);
  }

  private selectVersions() {
    return this.db
      .selectFrom('artifact_versions')
      .selectAll('artifact_versions')
      .select(
        sql<number>`(select coalesce(sum(a.file_size), 0) from assets a
          where a.artifact_version_id = artifact_versions.id)`.as('size_in_bytes'),
      );
  }
}

function toArtifact(row: ArtifactRow): ArtifactRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    projectId: row.project_id,
    name: row.name,
    type: row.type,
    description: row.description,
    metadata: row.metadata,
    tags: JSON.parse(row.tags) as string[],
    isPublic: row.is_public === 1,
    emoji: row.emoji,
    createdBy: row.created_by,
    experimentKey: row.experiment_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    // PostgreSQL sums bigints as numeric, which its driver hands over as text.
    versionsCount: Number(row.versions_count),
    sizeInBytes: Number(row.size_in_bytes),
  };
}

function toVersion(row: VersionRow, aliases: string[]): ArtifactVersionRecord {
  return {
    id: row.id,
    artifactId: row.artifact_id,
    version: row.version,
    state: row.state as ArtifactVersionState,
    metadata: row.metadata,
    tags: JSON.parse(row.tags) as string[],
    note: row.note,
    ownerUserId: row.owner_user_id,
    experimentKey: row.experiment_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    aliases,
    sizeInBytes: Number(row.size_in_bytes),
  };
}
