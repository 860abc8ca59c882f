import type { Kysely, Selectable } from 'kysely';
import type { Asset, ExperimentModel } from '../../core/entities.js';
import type { AssetListFilter, AssetRepository } from '../../core/store.port.js';
import type { Database } from './database.js';

export class SqlAssetRepository implements AssetRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(a: Asset): Promise<void> {
    await this.db
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
    await this.db.deleteFrom('assets').where('experiment_id', '=', experimentId).where('id', '=', assetId).execute();
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
    return row && { id: row.id, experimentId: row.experiment_id, name: row.name, createdAt: row.created_at };
  }

  async listModels(experimentId: string): Promise<ExperimentModel[]> {
    const rows = await this.db
      .selectFrom('experiment_models')
      .selectAll()
      .where('experiment_id', '=', experimentId)
      .orderBy('created_at')
      .orderBy('name')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      experimentId: row.experiment_id,
      name: row.name,
      createdAt: row.created_at,
    }));
  }
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
