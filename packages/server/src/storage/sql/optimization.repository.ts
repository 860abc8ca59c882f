import { type Kysely, sql } from 'kysely';
import type { OptimizationGoal, OptimizationRanking, OptimizationRepository } from '../../core/store.port.js';
import type { Database } from './database.js';

export class SqlOptimizationRepository implements OptimizationRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async rank(
    optimizationId: string,
    workspaceIds: readonly string[],
    metricName: string,
    goal: OptimizationGoal,
  ): Promise<OptimizationRanking> {
    if (workspaceIds.length === 0) return { experimentCount: 0 };
    const counted = await this.db
      .selectFrom('experiments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('optimization_id', '=', optimizationId)
      .where('workspace_id', 'in', workspaceIds)
      .executeTakeFirst();
    const experimentCount = Number(counted?.n ?? 0);
    if (experimentCount === 0) return { experimentCount };

    // The series row holds the exact extremes, so the ranking is one join on two indexes
    // (experiments by optimization_id, series by experiment and name); no point is read.
    const column = goal === 'MIN' ? 'series.min_value' : 'series.max_value';
    const best = await this.db
      .selectFrom('experiments')
      .innerJoin('series', 'series.experiment_id', 'experiments.id')
      .select(['experiments.id as id', `${column} as value`])
      .where('experiments.optimization_id', '=', optimizationId)
      .where('experiments.workspace_id', 'in', workspaceIds)
      .where('series.name', '=', metricName)
      // NULL stands for NaN (an all-NaN series). Infinities (possible through the bulk path) are
      // left out too: they are not a result, and JSON cannot carry them.
      .where(column, 'is not', null)
      .where(sql`abs(${sql.ref(column)})`, '<=', Number.MAX_VALUE)
      .orderBy(column, goal === 'MIN' ? 'asc' : 'desc')
      .orderBy('experiments.created_at')
      .orderBy('experiments.id')
      .limit(1)
      .executeTakeFirst();
    if (!best || best.value === null) return { experimentCount };
    return { experimentCount, best: { experimentId: best.id, value: Number(best.value) } };
  }
}
