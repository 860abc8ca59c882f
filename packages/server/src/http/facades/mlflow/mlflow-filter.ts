import { MlflowApiError } from './mlflow-errors.js';

/**
 * MLflow's registry search filters and orders (spec §6.4), over plain field records.
 *
 * This is the registry branch's minimal version: comparisons of `name` or a tag (`tags.<key>`,
 * `tag.<key>`, the key bare or in backquotes) with `=`, `!=` or `LIKE` (`%` and `_` wildcards,
 * case-sensitive) against a quoted string, joined with AND; a model or version without the tag
 * passes `!=` only (MLflow 3 clients append `tag.\`mlflow.prompt.is_prompt\` != 'true'` to every
 * registry search). Orders are `name`, and for versions `version_number`, each ASC or DESC. The
 * search grammar's full implementation replaces this file with the same six exports.
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

/** A comparison of the name (`tag` undefined) or of one tag. */
type Comparison = { tag?: string; op: '=' | '!=' | 'LIKE'; value: string };

const CLAUSE = /^\s*(name|tags?\.(?:`([^`]+)`|([\w.]+)))\s*(=|!=|LIKE)\s*(['"])(.*?)\5\s*$/i;

function parse(filter: string | undefined): Comparison[] {
  if (!filter || filter.trim() === '') return [];
  return filter.split(/\s+AND\s+/i).map((clause) => {
    const match = CLAUSE.exec(clause);
    if (!match) throw new MlflowApiError('INVALID_PARAMETER_VALUE', `Invalid filter string: ${filter}`);
    const op = (match[4] as string).toUpperCase() as Comparison['op'];
    const tag = match[2] ?? match[3];
    return { ...(tag !== undefined ? { tag } : {}), op, value: match[6] as string };
  });
}

function likeRegExp(pattern: string): RegExp {
  const body = Array.from(pattern, (ch) =>
    ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
  ).join('');
  return new RegExp(`^${body}$`, 's');
}

function matches(entity: { name: string; tags: Record<string, string> }, comparison: Comparison): boolean {
  const actual = comparison.tag === undefined ? entity.name : entity.tags[comparison.tag];
  if (actual === undefined) return comparison.op === '!=';
  if (comparison.op === '=') return actual === comparison.value;
  if (comparison.op === '!=') return actual !== comparison.value;
  return likeRegExp(comparison.value).test(actual);
}

export function registeredModelPredicate(filter: string | undefined): (m: RegisteredModelFields) => boolean {
  const comparisons = parse(filter);
  return (m) => comparisons.every((c) => matches(m, c));
}

export function modelVersionPredicate(filter: string | undefined): (v: ModelVersionFields) => boolean {
  const comparisons = parse(filter);
  return (v) => comparisons.every((c) => matches(v, c));
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
