import type { Kysely, Selectable } from 'kysely';
import type { ArtifactTable, ArtifactTableInfo, TableColumn } from '../../core/entities.js';
import type { ArtifactTableRepository } from '../../core/store.port.js';
import type { Database } from './database.js';

type Row = Selectable<Database['artifact_tables']>;

/** Every column but the row index, which only row reads need. */
const INFO_COLUMNS = [
  'experiment_id',
  'name',
  'description',
  'columns',
  'row_count',
  'size_bytes',
  'created_at',
  'updated_at',
  'blob_key',
] as const;

export class SqlArtifactTableRepository implements ArtifactTableRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(experimentId: string, name: string): Promise<ArtifactTable | undefined> {
    const row = await this.db
      .selectFrom('artifact_tables')
      .selectAll()
      .where('experiment_id', '=', experimentId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && { ...toInfo(row), rowIndex: JSON.parse(row.row_index) as number[] };
  }

  async list(experimentId: string): Promise<ArtifactTableInfo[]> {
    const rows = await this.db
      .selectFrom('artifact_tables')
      .select(INFO_COLUMNS)
      .where('experiment_id', '=', experimentId)
      .orderBy('name')
      .execute();
    return rows.map(toInfo);
  }

  async listOf(experimentIds: readonly string[]): Promise<Map<string, ArtifactTableInfo[]>> {
    const byExperiment = new Map<string, ArtifactTableInfo[]>(experimentIds.map((id) => [id, []]));
    if (experimentIds.length === 0) return byExperiment;
    const rows = await this.db
      .selectFrom('artifact_tables')
      .select(INFO_COLUMNS)
      .where('experiment_id', 'in', [...experimentIds])
      .orderBy('experiment_id')
      .orderBy('name')
      .execute();
    for (const row of rows) byExperiment.get(row.experiment_id)?.push(toInfo(row));
    return byExperiment;
  }

  async put(table: ArtifactTable): Promise<void> {
    const replaced = {
      description: table.description,
      columns: JSON.stringify(table.columns),
      row_count: table.rowCount,
      size_bytes: table.sizeBytes,
      blob_key: table.blobKey,
      row_index: JSON.stringify(table.rowIndex),
      updated_at: table.updatedAt,
    };
    await this.db
      .insertInto('artifact_tables')
      .values({ experiment_id: table.experimentId, name: table.name, created_at: table.createdAt, ...replaced })
      .onConflict((oc) => oc.columns(['experiment_id', 'name']).doUpdateSet(replaced))
      .execute();
  }

  async delete(experimentId: string, name: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('artifact_tables')
      .where('experiment_id', '=', experimentId)
      .where('name', '=', name)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

function toInfo(row: Omit<Row, 'row_index'>): ArtifactTableInfo {
  return {
    experimentId: row.experiment_id,
    name: row.name,
    description: row.description,
    columns: JSON.parse(row.columns) as TableColumn[],
    rowCount: row.row_count,
    sizeBytes: row.size_bytes,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    blobKey: row.blob_key,
  };
}
