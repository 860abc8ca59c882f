import type { Kysely } from 'kysely';
import type { LoggedValue, LoggedValueInput, LoggedValueType, ValueKind } from '../../core/entities.js';
import { parseIsoDateTime } from '../../core/experiment-query.js';
import type { CurrentValue, LoggedValueRepository } from '../../core/store.port.js';
import { atomically } from './atomic.js';
import type { Database } from './database.js';
import type { SqlDialect } from './dialect.js';
import { countKeyChanges, type KeyDelta, keyDelta } from './key-catalogue.js';
import { allocateSequence } from './sequence.js';

/** Parameters and "others": every logged value is kept, so summaries are exact. */
export class SqlLoggedValueRepository implements LoggedValueRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialect,
  ) {}

  async append(experimentId: string, kind: ValueKind, values: LoggedValueInput[]): Promise<void> {
    if (values.length === 0) return;
    // Several INSERTs when the batch exceeds the bind-parameter limit: all or none must land.
    await atomically(this.db, async (db) => {
      const first = await allocateSequence(db, experimentId, values.length);
      const chunk = Math.floor(this.dialect.maxBindParameters / 9);
      for (let start = 0; start < values.length; start += chunk) {
        await db
          .insertInto('experiment_values')
          .values(
            values.slice(start, start + chunk).map((v, i) => ({
              experiment_id: experimentId,
              kind,
              name: v.name,
              seq: first + start + i,
              value_type: v.type,
              value_text: v.text,
              step: v.step,
              timestamp: v.timestamp,
              context: v.context,
            })),
          )
          .execute();
      }
      await this.keepCurrent(db, experimentId, kind, values, first);
    });
  }

  /** Upserts the last value of each name in the batch into `experiment_value_current` (search reads it). */
  private async keepCurrent(
    db: Kysely<Database>,
    experimentId: string,
    kind: ValueKind,
    values: LoggedValueInput[],
    firstSeq: number,
  ): Promise<void> {
    const lastByName = new Map<string, number>();
    for (const [i, v] of values.entries()) lastByName.set(v.name, i);
    await this.countKeys(db, experimentId, kind, values, lastByName);
    const rows = [...lastByName.values()].map((i) => {
      const v = values[i] as LoggedValueInput;
      // The number a text denotes: the number itself, or the epoch ms of an ISO-8601 datetime.
      const number = v.type === 'number' ? Number(v.text) : v.type === 'string' ? parseIsoDateTime(v.text) : undefined;
      return {
        experiment_id: experimentId,
        kind,
        name: v.name,
        seq: firstSeq + i,
        value_type: v.type,
        value_text: v.text,
        value_number: number !== undefined && Number.isFinite(number) ? number : null,
      };
    });
    const chunk = Math.floor(this.dialect.maxBindParameters / 7);
    for (let start = 0; start < rows.length; start += chunk) {
      await db
        .insertInto('experiment_value_current')
        .values(rows.slice(start, start + chunk))
        .onConflict((oc) =>
          oc.columns(['experiment_id', 'kind', 'name']).doUpdateSet((eb) => ({
            seq: eb.ref('excluded.seq'),
            value_type: eb.ref('excluded.value_type'),
            value_text: eb.ref('excluded.value_text'),
            value_number: eb.ref('excluded.value_number'),
          })),
        )
        .execute();
    }
  }

  /** New names and changed types of current values move the project key catalogue. */
  private async countKeys(
    db: Kysely<Database>,
    experimentId: string,
    kind: ValueKind,
    values: LoggedValueInput[],
    lastByName: Map<string, number>,
  ): Promise<void> {
    const names = [...lastByName.keys()];
    const before = new Map<string, string>();
    const chunk = this.dialect.maxBindParameters - 2;
    for (let start = 0; start < names.length; start += chunk) {
      const rows = await db
        .selectFrom('experiment_value_current')
        .select(['name', 'value_type'])
        .where('experiment_id', '=', experimentId)
        .where('kind', '=', kind)
        .where('name', 'in', names.slice(start, start + chunk))
        .execute();
      for (const r of rows) before.set(r.name, r.value_type);
    }
    const deltas: KeyDelta[] = [];
    for (const [name, i] of lastByName) {
      const type = (values[i] as LoggedValueInput).type;
      const previous = before.get(name);
      if (previous === type) continue;
      if (previous === undefined) deltas.push(keyDelta(kind, name, 1, type));
      else {
        deltas.push({ ...keyDelta(kind, name, -1, previous as LoggedValueType), experiments: 0 });
        deltas.push({ ...keyDelta(kind, name, 1, type), experiments: 0 });
      }
    }
    await countKeyChanges(db, this.dialect, experimentId, deltas);
  }

  async listCurrent(experimentId: string, kind: ValueKind): Promise<CurrentValue[]> {
    const rows = await this.db
      .selectFrom('experiment_value_current')
      .select(['name', 'value_type', 'value_text', 'value_number'])
      .where('experiment_id', '=', experimentId)
      .where('kind', '=', kind)
      .orderBy('name')
      .execute();
    return rows.map((r) => ({
      name: r.name,
      type: r.value_type as LoggedValueType,
      text: r.value_text,
      number: r.value_number,
    }));
  }

  async listCurrentOf(
    experimentIds: string[],
    kind: ValueKind,
    names?: readonly string[],
  ): Promise<Map<string, CurrentValue[]>> {
    const byExperiment = new Map<string, CurrentValue[]>(experimentIds.map((id) => [id, []]));
    if (experimentIds.length === 0 || names?.length === 0) return byExperiment;
    let query = this.db
      .selectFrom('experiment_value_current')
      .select(['experiment_id', 'name', 'value_type', 'value_text', 'value_number'])
      .where('experiment_id', 'in', experimentIds)
      .where('kind', '=', kind);
    if (names) query = query.where('name', 'in', [...names]);
    const rows = await query.orderBy('experiment_id').orderBy('name').execute();
    for (const r of rows) {
      byExperiment
        .get(r.experiment_id)
        ?.push({ name: r.name, type: r.value_type as LoggedValueType, text: r.value_text, number: r.value_number });
    }
    return byExperiment;
  }

  async remove(experimentId: string, kind: ValueKind, name: string): Promise<boolean> {
    return atomically(this.db, async (db) => {
      const current = await db
        .selectFrom('experiment_value_current')
        .select('value_type')
        .where('experiment_id', '=', experimentId)
        .where('kind', '=', kind)
        .where('name', '=', name)
        .executeTakeFirst();
      if (!current) return false;
      await db
        .deleteFrom('experiment_values')
        .where('experiment_id', '=', experimentId)
        .where('kind', '=', kind)
        .where('name', '=', name)
        .execute();
      await db
        .deleteFrom('experiment_value_current')
        .where('experiment_id', '=', experimentId)
        .where('kind', '=', kind)
        .where('name', '=', name)
        .execute();
      await countKeyChanges(db, this.dialect, experimentId, [
        keyDelta(kind, name, -1, current.value_type as LoggedValueType),
      ]);
      return true;
    });
  }

  async list(experimentId: string, kind: ValueKind): Promise<LoggedValue[]> {
    const rows = await this.db
      .selectFrom('experiment_values')
      .selectAll()
      .where('experiment_id', '=', experimentId)
      .where('kind', '=', kind)
      .orderBy('name')
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({
      seq: r.seq,
      name: r.name,
      type: r.value_type as LoggedValueType,
      text: r.value_text,
      step: r.step,
      timestamp: r.timestamp,
      context: r.context,
    }));
  }
}
