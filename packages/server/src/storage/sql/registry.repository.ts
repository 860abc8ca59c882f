import type { Kysely, Selectable, Updateable } from 'kysely';
import type { ExperimentModel, RegistryModel, RegistryVersion } from '../../core/entities.js';
import type {
  Registration,
  RegistryAlias,
  RegistryModelPatch,
  RegistryRepository,
  RegistryVersionPatch,
} from '../../core/registry.port.js';
import { atomically } from './atomic.js';
import type { Database } from './database.js';

type VersionRow = Selectable<Database['registry_versions']>;

export class SqlRegistryRepository implements RegistryRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insertModel(m: RegistryModel): Promise<void> {
    await this.db
      .insertInto('registry_models')
      .values({
        id: m.id,
        workspace_id: m.workspaceId,
        name: m.name,
        description: m.description,
        is_public: m.isPublic ? 1 : 0,
        notes: m.notes,
        tags: JSON.stringify(m.tags),
        created_by: m.createdBy,
        created_at: m.createdAt,
        updated_at: m.updatedAt,
      })
      .execute();
  }

  async getModel(id: string): Promise<RegistryModel | undefined> {
    const row = await this.db.selectFrom('registry_models').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toModel(row);
  }

  async getModelByName(workspaceId: string, name: string): Promise<RegistryModel | undefined> {
    const row = await this.db
      .selectFrom('registry_models')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toModel(row);
  }

  async listModels(workspaceId: string, publicOnly: boolean): Promise<RegistryModel[]> {
    let query = this.db.selectFrom('registry_models').selectAll().where('workspace_id', '=', workspaceId);
    if (publicOnly) query = query.where('is_public', '=', 1);
    return (await query.orderBy('name').execute()).map(toModel);
  }

  async countModels(workspaceId: string, publicOnly: boolean): Promise<number> {
    let query = this.db
      .selectFrom('registry_models')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('workspace_id', '=', workspaceId);
    if (publicOnly) query = query.where('is_public', '=', 1);
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async updateModel(id: string, patch: RegistryModelPatch): Promise<void> {
    const set: Updateable<Database['registry_models']> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.isPublic !== undefined) set.is_public = patch.isPublic ? 1 : 0;
    if (patch.notes !== undefined) set.notes = patch.notes;
    if (patch.tags !== undefined) set.tags = JSON.stringify(patch.tags);
    if (patch.updatedAt !== undefined) set.updated_at = patch.updatedAt;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('registry_models').set(set).where('id', '=', id).execute();
  }

  async deleteModel(id: string): Promise<void> {
    // Versions, stages, aliases and the model's webhook configuration cascade.
    await this.db.deleteFrom('registry_models').where('id', '=', id).execute();
  }

  async insertVersion(v: RegistryVersion): Promise<void> {
    await atomically(this.db, async (db) => {
      await db
        .insertInto('registry_versions')
        .values({
          id: v.id,
          registry_model_id: v.registryModelId,
          version: v.version,
          number: v.number,
          experiment_model_id: v.experimentModelId,
          experiment_id: v.experimentId,
          experiment_model_name: v.experimentModelName,
          comment: v.comment,
          source: v.source,
          run_link: v.runLink,
          status: v.status,
          tags: JSON.stringify(v.tags),
          created_by: v.createdBy,
          created_at: v.createdAt,
          updated_at: v.updatedAt,
        })
        .execute();
      await insertStages(db, v.id, v.stages);
    });
  }

  async nextVersionNumber(registryModelId: string): Promise<number> {
    const row = await this.db
      .selectFrom('registry_versions')
      .select((eb) => eb.fn.max('number').as('highest'))
      .where('registry_model_id', '=', registryModelId)
      .executeTakeFirst();
    // PostgreSQL returns bigint aggregates as text.
    return Number(row?.highest ?? 0) + 1;
  }

  async getVersion(id: string): Promise<RegistryVersion | undefined> {
    const row = await this.db.selectFrom('registry_versions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    return (await this.withStages([row]))[0];
  }

  async getVersionByNumber(registryModelId: string, number: number): Promise<RegistryVersion | undefined> {
    const row = await this.db
      .selectFrom('registry_versions')
      .selectAll()
      .where('registry_model_id', '=', registryModelId)
      .where('number', '=', number)
      .executeTakeFirst();
    if (!row) return undefined;
    return (await this.withStages([row]))[0];
  }

  async listWorkspaceVersions(workspaceId: string, publicOnly: boolean): Promise<RegistryVersion[]> {
    let query = this.db
      .selectFrom('registry_versions')
      .innerJoin('registry_models', 'registry_models.id', 'registry_versions.registry_model_id')
      .selectAll('registry_versions')
      .where('registry_models.workspace_id', '=', workspaceId);
    if (publicOnly) query = query.where('registry_models.is_public', '=', 1);
    const rows = await query
      .orderBy('registry_versions.registry_model_id')
      .orderBy('registry_versions.number')
      .execute();
    return this.withStages(rows);
  }

  async listVersions(registryModelId: string): Promise<RegistryVersion[]> {
    const rows = await this.db
      .selectFrom('registry_versions')
      .selectAll()
      .where('registry_model_id', '=', registryModelId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return this.withStages(rows);
  }

  async updateVersion(id: string, patch: RegistryVersionPatch): Promise<void> {
    const set: Updateable<Database['registry_versions']> = {};
    if (patch.comment !== undefined) set.comment = patch.comment;
    if (patch.tags !== undefined) set.tags = JSON.stringify(patch.tags);
    if (patch.updatedAt !== undefined) set.updated_at = patch.updatedAt;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('registry_versions').set(set).where('id', '=', id).execute();
  }

  async setStages(versionId: string, stages: readonly string[]): Promise<void> {
    await atomically(this.db, async (db) => {
      await db.deleteFrom('registry_version_stages').where('version_id', '=', versionId).execute();
      await insertStages(db, versionId, stages);
    });
  }

  async deleteVersion(id: string): Promise<void> {
    // Stages and aliases cascade.
    await this.db.deleteFrom('registry_versions').where('id', '=', id).execute();
  }

  async setAlias(alias: RegistryAlias): Promise<void> {
    await this.db
      .insertInto('registry_aliases')
      .values({ registry_model_id: alias.registryModelId, alias: alias.alias, version_id: alias.versionId })
      .onConflict((oc) => oc.columns(['registry_model_id', 'alias']).doUpdateSet({ version_id: alias.versionId }))
      .execute();
  }

  async deleteAlias(registryModelId: string, alias: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('registry_aliases')
      .where('registry_model_id', '=', registryModelId)
      .where('alias', '=', alias)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async listAliases(registryModelIds: readonly string[]): Promise<RegistryAlias[]> {
    if (registryModelIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('registry_aliases')
      .selectAll()
      .where('registry_model_id', 'in', [...registryModelIds])
      .orderBy('registry_model_id')
      .orderBy('alias')
      .execute();
    return rows.map((row) => ({ registryModelId: row.registry_model_id, alias: row.alias, versionId: row.version_id }));
  }

  async listRegistrations(experimentModelIds: readonly string[]): Promise<Registration[]> {
    if (experimentModelIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('registry_versions')
      .selectAll()
      .where('experiment_model_id', 'in', [...experimentModelIds])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    const versions = await this.withStages(rows);
    const modelIds = [...new Set(versions.map((v) => v.registryModelId))];
    const models = new Map<string, RegistryModel>();
    if (modelIds.length > 0) {
      const modelRows = await this.db.selectFrom('registry_models').selectAll().where('id', 'in', modelIds).execute();
      for (const row of modelRows) models.set(row.id, toModel(row));
    }
    return versions.flatMap((version) => {
      const model = models.get(version.registryModelId);
      return model ? [{ model, version }] : [];
    });
  }

  async latestVersionOfExperiments(experimentIds: readonly string[]): Promise<Map<string, string>> {
    if (experimentIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('registry_versions')
      .select(['experiment_id', 'id'])
      .where('experiment_id', 'in', [...experimentIds])
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    // Ascending order: the last row seen for an experiment is its newest version.
    return new Map(rows.map((r) => [r.experiment_id, r.id]));
  }

  async getExperimentModel(id: string): Promise<ExperimentModel | undefined> {
    const row = await this.db.selectFrom('experiment_models').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { id: row.id, experimentId: row.experiment_id, name: row.name, createdAt: row.created_at };
  }

  /** Attaches stages to version rows with one query, keeping the rows' order. */
  private async withStages(rows: VersionRow[]): Promise<RegistryVersion[]> {
    if (rows.length === 0) return [];
    const stageRows = await this.db
      .selectFrom('registry_version_stages')
      .selectAll()
      .where(
        'version_id',
        'in',
        rows.map((row) => row.id),
      )
      .orderBy('version_id')
      .orderBy('position')
      .execute();
    const stages = new Map<string, string[]>();
    for (const row of stageRows) {
      const list = stages.get(row.version_id) ?? [];
      list.push(row.stage);
      stages.set(row.version_id, list);
    }
    return rows.map((row) => toVersion(row, stages.get(row.id) ?? []));
  }
}

async function insertStages(db: Kysely<Database>, versionId: string, stages: readonly string[]): Promise<void> {
  if (stages.length === 0) return;
  await db
    .insertInto('registry_version_stages')
    .values(stages.map((stage, position) => ({ version_id: versionId, position, stage })))
    .execute();
}

function toModel(row: Selectable<Database['registry_models']>): RegistryModel {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    description: row.description,
    isPublic: row.is_public === 1,
    notes: row.notes,
    tags: tagsOf(row.tags),
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toVersion(row: VersionRow, stages: string[]): RegistryVersion {
  return {
    id: row.id,
    registryModelId: row.registry_model_id,
    version: row.version,
    // Every row is numbered: 0013 numbered the old ones, every insert since carries one.
    number: Number(row.number),
    experimentModelId: row.experiment_model_id,
    experimentId: row.experiment_id,
    experimentModelName: row.experiment_model_name,
    comment: row.comment,
    stages,
    source: row.source,
    runLink: row.run_link,
    status: row.status,
    tags: tagsOf(row.tags),
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A tag map stored as JSON object text. */
function tagsOf(text: string): Record<string, string> {
  return JSON.parse(text) as Record<string, string>;
}
