import type { Kysely, Selectable } from 'kysely';
import type { Asset, ExperimentModel, LoggedModelStatus } from '../../core/entities.js';
import type { AssetListFilter, AssetRepository } from '../../core/store.port.js';
import { atomically } from './atomic.js';
import type { Database } from './database.js';
import { addExperimentBytes, workspaceBytes } from './workspace-usage.js';

export class SqlAssetRepository implements AssetRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(a: Asset): Promise<void> {
    await atomically(this.db, async (db) => {
      await this.insertRow(db, a);
      await addExperimentBytes(db, a.experimentId, a.fileSize);
    });
  }

  async workspaceBytes(workspaceId: string): Promise<number> {
    return workspaceBytes(this.db, workspaceId);
  }

  private async insertRow(db: Kysely<Database>, a: Asset): Promise<void> {
    await db
      .insertInto('assets')
      .values({
        id: a.id,
        experiment_id: a.experimentId,
        file_name: a.fileName,
        file_size: a.fileSize,
        type: a.type,
        step: a.step,
        epoch: a.epoch,
        context: a.context,
        dir: a.dir,
        metadata: a.metadata,
        tags: JSON.stringify(a.tags),
        remote: a.remote ? 1 : 0,
        link: a.link,
        grouping_name: a.groupingName,
        artifact_version_id: a.artifactVersionId,
        blob_key: a.blobKey,
        created_at: a.createdAt,
      })
      .execute();
  }

  async get(experimentId: string, assetId: string): Promise<Asset | undefined> {
    const row = await this.db
      .selectFrom('assets')
      .selectAll()
      .where('experiment_id', '=', experimentId)
      .where('id', '=', assetId)
      .executeTakeFirst();
    return row && toAsset(row);
  }

  async getById(assetId: string): Promise<Asset | undefined> {
    const row = await this.db.selectFrom('assets').selectAll().where('id', '=', assetId).executeTakeFirst();
    return row && toAsset(row);
  }

  async list(experimentId: string, filter: AssetListFilter = {}): Promise<Asset[]> {
    let query = this.db
      .selectFrom('assets')
      .selectAll()
      .where('experiment_id', '=', experimentId)
      .orderBy('created_at')
      .orderBy('id');
    if (filter.type !== undefined) query = query.where('type', '=', filter.type);
    if (filter.groupingName !== undefined) query = query.where('grouping_name', '=', filter.groupingName);
    return (await query.execute()).map(toAsset);
  }

  async listSameName(
    experimentId: string,
    fileName: string,
    groupingName: string | null,
    artifactVersionId: string | null,
  ): Promise<Asset[]> {
    const rows = await this.db
      .selectFrom('assets')
      .selectAll()
      .where('experiment_id', '=', experimentId)
      .where('file_name', '=', fileName)
      .where('grouping_name', groupingName === null ? 'is' : '=', groupingName)
      .where('artifact_version_id', artifactVersionId === null ? 'is' : '=', artifactVersionId)
      .execute();
    return rows.map(toAsset);
  }

  async delete(experimentId: string, assetId: string): Promise<void> {
    await atomically(this.db, async (db) => {
      const gone = await db
        .deleteFrom('assets')
        .where('experiment_id', '=', experimentId)
        .where('id', '=', assetId)
        .returning('file_size')
        .executeTakeFirst();
      if (gone) await addExperimentBytes(db, experimentId, -Number(gone.file_size));
    });
  }

  async ensureModel(model: ExperimentModel): Promise<ExperimentModel> {
    await this.db
      .insertInto('experiment_models')
      .values({ id: model.id, experiment_id: model.experimentId, name: model.name, created_at: model.createdAt })
      .onConflict((oc) => oc.columns(['experiment_id', 'name']).doNothing())
      .execute();
    return (await this.getModel(model.experimentId, model.name)) as ExperimentModel;
  }

  async getModel(experimentId: string, name: string): Promise<ExperimentModel | undefined> {
    const row = await this.db
      .selectFrom('experiment_models')
      .selectAll()
      .where('experiment_id', '=', experimentId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && toModel(row);
  }

  async listModels(experimentId: string): Promise<ExperimentModel[]> {
    const rows = await this.db
      .selectFrom('experiment_models')
      .selectAll()
      .where('experiment_id', '=', experimentId)
      .orderBy('created_at')
      .orderBy('name')
      .execute();
    return rows.map(toModel);
  }

  async getModelByLoggedId(loggedModelId: string): Promise<ExperimentModel | undefined> {
    const row = await this.db
      .selectFrom('experiment_models')
      .selectAll()
      .where('logged_model_id', '=', loggedModelId)
      .executeTakeFirst();
    return row && toModel(row);
  }

  async updateModel(model: ExperimentModel): Promise<void> {
    await this.db
      .updateTable('experiment_models')
      .set({
        logged_model_id: model.loggedModelId ?? null,
        status: model.status ?? null,
        model_type: model.modelType ?? null,
        tags: model.tags ? JSON.stringify(Object.entries(model.tags)) : null,
        params: model.params ? JSON.stringify(Object.entries(model.params)) : null,
        step: model.step ?? null,
        updated_at: model.updatedAt ?? null,
      })
      .where('id', '=', model.id)
      .execute();
  }

  async deleteModel(experimentId: string, name: string): Promise<void> {
    await this.db
      .deleteFrom('experiment_models')
      .where('experiment_id', '=', experimentId)
      .where('name', '=', name)
      .execute();
  }

  async listLoggedModels(
    projectIds: readonly string[],
    options: { name?: string; offset: number; limit: number },
  ): Promise<ExperimentModel[]> {
    if (projectIds.length === 0 || options.limit <= 0) return [];
    let query = this.db
      .selectFrom('experiment_models')
      .innerJoin('experiments', 'experiments.id', 'experiment_models.experiment_id')
      .selectAll('experiment_models')
      .where('experiments.project_id', 'in', [...projectIds])
      .where('experiment_models.logged_model_id', 'is not', null)
      .orderBy('experiment_models.created_at', 'desc')
      .orderBy('experiment_models.id')
      .offset(options.offset)
      .limit(options.limit);
    if (options.name !== undefined) query = query.where('experiment_models.name', '=', options.name);
    return (await query.execute()).map(toModel);
  }

  async regroupUnder(experimentId: string, prefix: string, groupingName: string): Promise<number> {
    // Prefixes may hold LIKE wildcards, so the match is made here rather than in SQL.
    const rows = await this.db
      .selectFrom('assets')
      .select(['id', 'file_name'])
      .where('experiment_id', '=', experimentId)
      .where('grouping_name', 'is', null)
      .where('artifact_version_id', 'is', null)
      .execute();
    const folder = `${prefix}/`;
    const moved = rows.filter((row) => row.file_name.startsWith(folder) && row.file_name.length > folder.length);
    for (const row of moved) {
      await this.db
        .updateTable('assets')
        .set({
          // The type and folder of model files (assets.service.ts MODEL_ELEMENT_TYPE).
          type: 'model-element',
          dir: 'model-element',
          grouping_name: groupingName,
          file_name: row.file_name.slice(folder.length),
        })
        .where('id', '=', row.id)
        .execute();
    }
    return moved.length;
  }
}

/** Tags and params are stored as JSON lists of [key, value] pairs, which keep their order. */
function toModel(row: Selectable<Database['experiment_models']>): ExperimentModel {
  const model: ExperimentModel = {
    id: row.id,
    experimentId: row.experiment_id,
    name: row.name,
    createdAt: row.created_at,
  };
  if (row.logged_model_id !== null) model.loggedModelId = row.logged_model_id;
  if (row.status !== null) model.status = row.status as LoggedModelStatus;
  if (row.model_type !== null) model.modelType = row.model_type;
  if (row.tags !== null) model.tags = Object.fromEntries(JSON.parse(row.tags) as [string, string][]);
  if (row.params !== null) model.params = Object.fromEntries(JSON.parse(row.params) as [string, string][]);
  if (row.step !== null) model.step = row.step;
  if (row.updated_at !== null) model.updatedAt = row.updated_at;
  return model;
}

export function toAsset(row: Selectable<Database['assets']>): Asset {
  return {
    id: row.id,
    experimentId: row.experiment_id,
    fileName: row.file_name,
    fileSize: row.file_size,
    type: row.type,
    step: row.step,
    epoch: row.epoch,
    context: row.context,
    dir: row.dir,
    metadata: row.metadata,
    tags: JSON.parse(row.tags) as string[],
    remote: row.remote === 1,
    link: row.link,
    groupingName: row.grouping_name,
    artifactVersionId: row.artifact_version_id,
    blobKey: row.blob_key,
    createdAt: row.created_at,
  };
}
