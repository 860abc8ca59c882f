import { type Kysely, type Selectable, sql } from 'kysely';
import type { KeyValue, Project } from '../../core/entities.js';
import type { ProjectPatch, ProjectRepository, ProjectWithCount } from '../../core/store.port.js';
import type { Database } from './database.js';

export class SqlProjectRepository implements ProjectRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(project: Project): Promise<void> {
    await this.db.insertInto('projects').values(toRow(project)).execute();
  }

  async get(id: string): Promise<Project | undefined> {
    const row = await this.db.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toProject(row);
  }

  async getByName(workspaceId: string, name: string): Promise<Project | undefined> {
    const row = await this.db
      .selectFrom('projects')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toProject(row);
  }

  async list(workspaceId: string, publicOnly: boolean): Promise<ProjectWithCount[]> {
    let query = this.db
      .selectFrom('projects')
      .selectAll()
      .select(
        // The same set as ExperimentRepository.listInProject: an experiment moved into a project
        // it was already symlinked into is counted once.
        sql<number>`(select count(*) from experiments e where e.project_id = projects.id
          or e.id in (select s.experiment_id from experiment_symlinks s where s.project_id = projects.id))`.as(
          'experiment_count',
        ),
      )
      .where('workspace_id', '=', workspaceId)
      .where('deleted_at', 'is', null)
      .orderBy('name');
    if (publicOnly) query = query.where('is_public', '=', 1);
    const rows = await query.execute();
    return rows.map((row) => ({ ...toProject(row), experimentCount: Number(row.experiment_count) }));
  }

  async listWithTrash(workspaceId: string): Promise<Project[]> {
    const rows = await this.db
      .selectFrom('projects')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .orderBy('name')
      .execute();
    return rows.map(toProject);
  }

  async setDeletedAt(id: string, at: number | null): Promise<void> {
    await this.db.updateTable('projects').set({ deleted_at: at }).where('id', '=', id).execute();
  }

  async listTags(projectId: string): Promise<KeyValue[]> {
    return (await this.listTagsOf([projectId])).get(projectId) ?? [];
  }

  async listTagsOf(projectIds: readonly string[]): Promise<Map<string, KeyValue[]>> {
    const byProject = new Map<string, KeyValue[]>(projectIds.map((id) => [id, []]));
    if (projectIds.length === 0) return byProject;
    const rows = await this.db
      .selectFrom('project_tags')
      .selectAll()
      .where('project_id', 'in', [...projectIds])
      .orderBy('project_id')
      .orderBy('key')
      .execute();
    for (const row of rows) byProject.get(row.project_id)?.push({ key: row.key, value: row.value });
    return byProject;
  }

  async setTag(projectId: string, key: string, value: string): Promise<void> {
    await this.db
      .insertInto('project_tags')
      .values({ project_id: projectId, key, value })
      .onConflict((oc) => oc.columns(['project_id', 'key']).doUpdateSet({ value }))
      .execute();
  }

  async deleteTag(projectId: string, key: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('project_tags')
      .where('project_id', '=', projectId)
      .where('key', '=', key)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async update(id: string, patch: ProjectPatch): Promise<void> {
    const set: Partial<Database['projects']> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.isPublic !== undefined) set.is_public = patch.isPublic ? 1 : 0;
    if (patch.notes !== undefined) set.notes = patch.notes;
    if (patch.updatedAt !== undefined) set.updated_at = patch.updatedAt;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('projects').set(set).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('projects').where('id', '=', id).execute();
  }

  async addShareCode(projectId: string, shareCode: string, createdBy: string, at: number): Promise<void> {
    await this.db
      .insertInto('project_share_links')
      .values({ project_id: projectId, share_code: shareCode, created_by: createdBy, created_at: at })
      .execute();
  }

  async listShareCodes(projectId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('project_share_links')
      .select('share_code')
      .where('project_id', '=', projectId)
      .orderBy('created_at')
      .orderBy('share_code')
      .execute();
    return rows.map((r) => r.share_code);
  }

  async deleteShareCode(projectId: string, shareCode: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('project_share_links')
      .where('project_id', '=', projectId)
      .where('share_code', '=', shareCode)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function toRow(p: Project): Database['projects'] {
  return {
    id: p.id,
    workspace_id: p.workspaceId,
    name: p.name,
    description: p.description,
    is_public: p.isPublic ? 1 : 0,
    notes: p.notes,
    owner_user_id: p.ownerUserId,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    deleted_at: p.deletedAt,
    artifact_location: p.artifactLocation,
  };
}

function toProject(row: Selectable<Database['projects']>): Project {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    description: row.description,
    isPublic: row.is_public === 1,
    notes: row.notes,
    ownerUserId: row.owner_user_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
    artifactLocation: row.artifact_location,
  };
}
