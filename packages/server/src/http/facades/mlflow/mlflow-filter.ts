import { MlflowApiError } from './mlflow-errors.js';

/**
 * MLflow's registry search filters and orders (spec §6.4), over plain field records.
 *
 * This is the registry branch's minimal version: filters are `name = '<x>'`, `name != '<x>'` and
 * `name LIKE '<pattern>'` (`%` and `_` wildcards, case-sensitive), joined with AND; orders are
 * `name`, and for versions `version_number`, each ASC or DESC. The search grammar's full
 * implementation replaces this file with the same six exports.
 */

export interface RegisteredModelFields {
  name: string;
  tags: Record<string, string>;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
}

export interface ModelVersionFields {
  name: string;
  version: number;
  runId: string | null;
  source: string | null;
  tags: Record<string, string>;
  creationTimestamp: number;
  lastUpdatedTimestamp: number;
}

type Comparison = { key: string; op: '=' | '!=' | 'LIKE'; value: string };

const CLAUSE = /^\s*(\w+)\s*(=|!=|LIKE)\s*(['"])(.*?)\3\s*$/i;

function parse(filter: string | undefined, keys: readonly string[]): Comparison[] {
  if (!filter || filter.trim() === '') return [];
  return filter.split(/\s+AND\s+/i).map((clause) => {
    const match = CLAUSE.exec(clause);
    const key = match?.[1]?.toLowerCase();
    if (!match || !key || !keys.includes(key)) {
      throw new MlflowApiError('INVALID_PARAMETER_VALUE', `Invalid filter string: ${filter}`);
    }
    return { key, op: (match[2] as string).toUpperCase() as Comparison['op'], value: match[4] as string };
  });
}

function likeRegExp(pattern: string): RegExp {
  const body = Array.from(pattern, (ch) =>
    ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
  ).join('');
  return new RegExp(`^${body}$`, 's');
}

function matches(actual: string, comparison: Comparison): boolean {
  if (comparison.op === '=') return actual === comparison.value;
  if (comparison.op === '!=') return actual !== comparison.value;
  return likeRegExp(comparison.value).test(actual);
}

export function registeredModelPredicate(filter: string | undefined): (m: RegisteredModelFields) => boolean {
  const comparisons = parse(filter, ['name']);
  return (m) => comparisons.every((c) => matches(m.name, c));
}

export function modelVersionPredicate(filter: string | undefined): (v: ModelVersionFields) => boolean {
  const comparisons = parse(filter, ['name']);
  return (v) => comparisons.every((c) => matches(v.name, c));
}

type Order<T> = { compare: (a: T, b: T) => number; key: string };

function parseOrder<T>(orderBy: readonly string[], fields: Record<string, (a: T, b: T) => number>): Order<T>[] {
  return orderBy.map((clause) => {
    const [key = '', direction = 'ASC', ...rest] = clause.trim().split(/\s+/);
    const compare = fields[key];
    if (!compare || rest.length > 0 || !/^(ASC|DESC)$/i.test(direction)) {
      throw new MlflowApiError('INVALID_PARAMETER_VALUE', `Invalid order_by clause '${clause}'.`);
    }
    return { key, compare: direction.toUpperCase() === 'DESC' ? (a, b) => compare(b, a) : compare };
  });
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The given orders, then `name ASC` unless ordered by name already. */
export function registeredModelComparator(
  orderBy: readonly string[],
): (a: RegisteredModelFields, b: RegisteredModelFields) => number {
  const orders = parseOrder<RegisteredModelFields>(orderBy, { name: (a, b) => byText(a.name, b.name) });
  if (!orders.some((o) => o.key === 'name')) orders.push({ key: 'name', compare: (a, b) => byText(a.name, b.name) });
  return (a, b) => {
    for (const order of orders) {
      const result = order.compare(a, b);
      if (result !== 0) return result;
    }
    return 0;
  };
}

/** The given orders, then `name ASC` and `version_number DESC` unless ordered by them already. */
export function modelVersionComparator(
  orderBy: readonly string[],
): (a: ModelVersionFields, b: ModelVersionFields) => number {
  const byName = (a: ModelVersionFields, b: ModelVersionFields) => byText(a.name, b.name);
  const byNumber = (a: ModelVersionFields, b: ModelVersionFields) => a.version - b.version;
  const orders = parseOrder<ModelVersionFields>(orderBy, { name: byName, version_number: byNumber });
  if (!orders.some((o) => o.key === 'name')) orders.push({ key: 'name', compare: byName });
  if (!orders.some((o) => o.key === 'version_number')) {
    orders.push({ key: 'version_number', compare: (a, b) => byNumber(b, a) });
  }
  return (a, b) => {
    for (const order of orders) {
      const result = order.compare(a, b);
      if (result !== 0) return result;
    }
    return 0;
  };
}
