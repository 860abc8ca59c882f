import { type RawBuilder, type SqlBool, sql } from 'kysely';
import { InvalidArgumentError } from '../../core/errors.js';
import {
  ATTRIBUTE_TYPES,
  type ExperimentAttribute,
  type ExperimentOrder,
  type QueryField,
  type SortPosition,
} from '../../core/experiment-query.js';
import type { KeySource } from '../../core/store.port.js';
import type { SqlDialect } from './dialect.js';
import { type ExperimentConditionCompiler, SERIES_COLUMN } from './experiment-search.js';

type Bool = RawBuilder<SqlBool>;
type Value = RawBuilder<unknown>;

/**
 * One group of an order's values, its rows ordered by `value`. An experiment is in at most one
 * segment; one lacking a value in all of them comes after them (the "missing" segment).
 */
export interface Segment {
  /** The experiment's value in this segment, NULL outside it; correlated with `experiments`. */
  value: Value;
  type: 'number' | 'text';
  /**
   * The same rows read from the table holding the values (aliased `v`, with `v.experiment_id`).
   * With `indexed`, a (…, value) index gives them in order and a page stops after its rows
   * instead of sorting every experiment of the project; without, the table is still cheaper to
   * sort than the experiments it would be probed from.
   */
  joined?: { table: Value; where: Bool; value: Value; indexed: boolean };
  /**
   * The catalogue key whose counts say whether any experiment of the project is in the segment
   * (`types`: the current value types that put one there; none: having the key does). An empty
   * segment is skipped instead of scanned.
   */
  catalogued?: { source: KeySource; name: string; types: ('numbers' | 'strings' | 'booleans')[] };
}

export interface OrderPlan {
  direction: 'asc' | 'desc';
  segments: Segment[];
  /** Experiments without a value, or undefined when every experiment has one. */
  missing?: Bool;
}

/** Attributes every experiment has a value of. */
const ALWAYS_SET = new Set<ExperimentAttribute>(['key', 'status', 'startTime', 'lastUpdated', 'duration']);

/** How an order reads its values: the segments, in output order for its direction. */
export function planOrder(
  order: ExperimentOrder,
  compiler: ExperimentConditionCompiler,
  dialect: SqlDialect,
): OrderPlan {
  const { field, direction } = order;
  const inOrder = (segments: Segment[]) => (direction === 'desc' ? segments.reverse() : segments);
  if (field === 'createdAt') {
    return { direction, segments: [{ value: sql.ref('experiments.created_at'), type: 'number' }] };
  }
  const queryField: QueryField = field === 'name' ? { source: 'attribute', name: 'name' } : field;
  const missing = compiler.compile({ kind: 'missing', field: queryField, orEmpty: false });
  switch (queryField.source) {
    case 'attribute': {
      const name = queryField.name;
      const attribute = compiler.attribute(name);
      const text = ATTRIBUTE_TYPES[name] === 'string';
      if (attribute.type === 'predicate') {
        return {
          direction,
          segments: [{ value: sql`(case when ${attribute.value} then 1 else 0 end)`, type: 'number' }],
        };
      }
      const value =
        attribute.type === 'value'
          ? attribute.value
          : sql`(select ${attribute.value} from experiment_documents where experiment_documents.experiment_id = experiments.id and kind = ${attribute.kind})`;
      return {
        direction,
        segments: [{ value: text ? dialect.bytewise(value) : value, type: text ? 'text' : 'number' }],
        ...(ALWAYS_SET.has(name) ? {} : { missing }),
      };
    }
    case 'param':
    case 'other': {
      const { source: kind, name } = queryField;
      // value_number also holds the epoch ms of datetime texts: only the type says "number".
      const numeric = (v: string) =>
        sql<SqlBool>`(${sql.ref(`${v}value_type`)} = 'number' and ${sql.ref(`${v}value_number`)} is not null)`;
      const current = (column: Value, also: Bool) =>
        sql`(select ${column} from experiment_value_current where experiment_value_current.experiment_id = experiments.id and kind = ${kind} and name = ${name} and ${also})`;
      const table = sql`experiment_value_current v`;
      const named = sql<SqlBool>`v.kind = ${kind} and v.name = ${name}`;
      return {
        direction,
        segments: inOrder([
          {
            value: current(sql.ref('value_number'), numeric('')),
            type: 'number',
            joined: {
              table,
              where: sql<SqlBool>`${named} and ${numeric('v.')}`,
              value: sql.ref('v.value_number'),
              indexed: true,
            },
            catalogued: { source: kind, name, types: ['numbers'] },
          },
          {
            value: dialect.bytewise(current(sql.ref('value_text'), sql<SqlBool>`not ${numeric('')}`)),
            type: 'text',
            joined: {
              table,
              where: sql<SqlBool>`${named} and not ${numeric('v.')}`,
              value: dialect.bytewise(sql.ref('v.value_text')),
              indexed: true,
            },
            catalogued: { source: kind, name, types: ['strings', 'booleans'] },
          },
        ]),
        missing,
      };
    }
    case 'metric': {
      const column = SERIES_COLUMN[queryField.aggregate];
      // NULL is NaN: a series whose value is NaN sorts with the experiments lacking it.
      return {
        direction,
        segments: [
          {
            value: sql`(select ${sql.ref(column)} from series where series.experiment_id = experiments.id and name = ${queryField.name})`,
            type: 'number',
            joined: {
              table: sql`series v`,
              where: sql<SqlBool>`v.name = ${queryField.name} and ${sql.ref(`v.${column}`)} is not null`,
              value: sql.ref(`v.${column}`),
              // No index on summary values: every append rewrites them (see docs/benchmarks.md).
              indexed: false,
            },
            catalogued: { source: 'metric', name: queryField.name, types: [] },
          },
        ],
        missing,
      };
    }
    case 'environment': {
      const number = compiler.environmentValue(queryField.name, true);
      const text = compiler.environmentValue(queryField.name, false);
      const details = (value: Value) =>
        sql`(select ${value} from experiment_documents where experiment_documents.experiment_id = experiments.id and kind = 'system-details')`;
      return {
        direction,
        segments: inOrder([
          { value: details(number), type: 'number' },
          {
            value: dialect.bytewise(details(sql`(case when ${number} is null then ${text} end)`)),
            type: 'text',
          },
        ]),
        missing,
      };
    }
  }
}

/**
 * Checks a position handed back by a caller against the plan it claims to come from: a forged
 * or stale cursor must be refused (400), never reach the database as a type error.
 */
export function checkPosition(plan: OrderPlan, after: SortPosition): void {
  const refuse = () => new InvalidArgumentError('the cursor does not belong to this query');
  if (!Number.isSafeInteger(after.segment) || after.segment < 0) throw refuse();
  if (typeof after.key !== 'string') throw refuse();
  if (after.segment === plan.segments.length) {
    if (!plan.missing || after.value !== null) throw refuse();
    return;
  }
  const segment = plan.segments[after.segment];
  if (!segment) throw refuse();
  const valid =
    segment.type === 'number'
      ? typeof after.value === 'number' && !Number.isNaN(after.value)
      : typeof after.value === 'string';
  if (!valid) throw refuse();
}

/**
 * Rows after the position `(value, key)` in (value direction, key ascending) order. Written as a
 * range plus a tie-break so that an index on the value can seek to the position.
 */
export function afterPosition(value: Value, key: Value, direction: 'asc' | 'desc', after: SortPosition): Bool {
  const at = typeof after.value === 'number' ? sql`cast(${after.value} as double precision)` : sql`${after.value}`;
  return direction === 'asc'
    ? sql<SqlBool>`(${value} >= ${at} and (${value} > ${at} or ${key} > ${after.key}))`
    : sql<SqlBool>`(${value} <= ${at} and (${value} < ${at} or ${key} > ${after.key}))`;
}
