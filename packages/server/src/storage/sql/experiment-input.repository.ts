import type { Kysely, Selectable } from 'kysely';
import type { ExperimentInput, KeyValue } from '../../core/entities.js';
import type { ExperimentInputRepository } from '../../core/store.port.js';
import type { Database } from './database.js';
import type { SqlDialect } from './dialect.js';

/** Dataset inputs (0013's `experiment_inputs`): the primary key keeps the first of each (name, digest). */
export class SqlExperimentInputRepository implements ExperimentInputRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialect,
  ) {}

  async put(inputs: readonly ExperimentInput[]): Promise<void> {
    if (inputs.length === 0) return;
    const chunk = Math.floor(this.dialect.maxBindParameters / 9);
    for (let start = 0; start < inputs.length; start += chunk) {
      await this.db
        .insertInto('experiment_inputs')
        .values(
          inputs.slice(start, start + chunk).map((input) => ({
            experiment_id: input.experimentId,
            name: input.name,
            digest: input.digest,
            source_type: input.sourceType,
            source: input.source,
            schema: input.schema,
            profile: input.profile,
            tags: JSON.stringify(input.tags),
            created_at: input.createdAt,
          })),
        )
        // Repeats within one statement are skipped too: the first row of a key lands first.
        .onConflict((oc) => oc.columns(['experiment_id', 'name', 'digest']).doNothing())
        .execute();
    }
  }

  async list(experimentId: string): Promise<ExperimentInput[]> {
    return (await this.listOf([experimentId])).get(experimentId) ?? [];
  }

  async listOf(experimentIds: readonly string[]): Promise<Map<string, ExperimentInput[]>> {
    const byExperiment = new Map<string, ExperimentInput[]>(experimentIds.map((id) => [id, []]));
    if (experimentIds.length === 0) return byExperiment;
    const rows = await this.db
      .selectFrom('experiment_inputs')
      .selectAll()
      .where('experiment_id', 'in', [...experimentIds])
      .orderBy('experiment_id')
      .orderBy('created_at')
      .orderBy('name')
      .orderBy('digest')
      .execute();
    for (const row of rows) byExperiment.get(row.experiment_id)?.push(toInput(row));
    return byExperiment;
  }
}

function toInput(row: Selectable<Database['experiment_inputs']>): ExperimentInput {
  return {
    experimentId: row.experiment_id,
    name: row.name,
    digest: row.digest,
    sourceType: row.source_type,
    source: row.source,
    schema: row.schema,
    profile: row.profile,
    tags: JSON.parse(row.tags) as KeyValue[],
    createdAt: Number(row.created_at),
  };
}
