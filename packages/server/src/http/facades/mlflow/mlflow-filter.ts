import { MlflowApiError } from './mlflow-errors.js';

/**
 * Experiment search's filter and order (spec §6.3). This is the minimal grammar the tracking
 * routes need: `name = '…'` / `name != '…'` clauses joined by AND, and orders on the four
 * orderable fields. The search work replaces it with the full grammar behind the same exports.
 */
export interface ExperimentFields {
  experimentId: string;
  name: string;
  creationTime: number;
  lastUpdateTime: number;
  tags: Record<string, string>;
}

const CLAUSE = /^\s*(?:attributes?\.)?name\s*(=|!=)\s*'((?:[^'\\]|\\.)*)'\s*$/i;

export function experimentPredicate(filter: string | undefined): (e: ExperimentFields) => boolean {
  if (filter === undefined || filter.trim() === '') return () => true;
  const tests = filter.split(/\s+AND\s+/i).map((clause) => {
    const match = CLAUSE.exec(clause);
    if (!match)
      throw new MlflowApiError('INVALID_PARAMETER_VALUE', `Invalid clause(s) in filter string: '${clause.trim()}'`);
    const [, op, value] = match as unknown as [string, string, string];
    return (e: ExperimentFields) => (op === '=' ? e.name === value : e.name !== value);
  });
  return (e) => tests.every((test) => test(e));
}

const ORDER = /^\s*(?:attributes?\.)?(name|experiment_id|creation_time|last_update_time)(?:\s+(ASC|DESC))?\s*$/i;

type Key = 'name' | 'experiment_id' | 'creation_time' | 'last_update_time';

function fieldOf(e: ExperimentFields, key: Key): string | number {
  switch (key) {
    case 'name':
      return e.name;
    case 'experiment_id':
      return e.experimentId;
    case 'creation_time':
      return e.creationTime;
    case 'last_update_time':
      return e.lastUpdateTime;
  }
}

/** Orders by the given keys, then MLflow's default `creation_time DESC, experiment_id ASC`. */
export function experimentComparator(orderBy: readonly string[]): (a: ExperimentFields, b: ExperimentFields) => number {
  const keys: { key: Key; sign: number }[] = orderBy.map((clause) => {
    const match = ORDER.exec(clause);
    if (!match) throw new MlflowApiError('INVALID_PARAMETER_VALUE', `Invalid order_by clause '${clause}'.`);
    return { key: (match[1] as string).toLowerCase() as Key, sign: match[2]?.toUpperCase() === 'DESC' ? -1 : 1 };
  });
  keys.push({ key: 'creation_time', sign: -1 }, { key: 'experiment_id', sign: 1 });
  return (a, b) => {
    for (const { key, sign } of keys) {
      const x = fieldOf(a, key);
      const y = fieldOf(b, key);
      if (x < y) return -sign;
      if (x > y) return sign;
    }
    return 0;
  };
}
