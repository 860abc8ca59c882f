import type { ColumnSource, ColumnType, ProjectQueryBody, QueryRule } from '@cairn/schemas/comet';
import { InvalidArgumentError } from '../../../../core/errors.js';
import {
  ENVIRONMENT_FIELDS,
  type EnvironmentField,
  type ExperimentAttribute,
  type ExperimentCondition,
  type NameMatch,
  type QueryField,
  type ValueTest,
} from '../../../../core/experiment-query.js';
import type { ProjectColumns } from '../../../../core/store.port.js';

/**
 * Comet's project query (spec §5) in terms of the core's ExperimentCondition, and the column
 * listing that clients use to type their query variables.
 */

interface MetadataColumn {
  attribute: ExperimentAttribute;
  type: ColumnType;
}

/** The metadata columns Cairn can answer from stored data, under Comet's names (spec §3.2 #6). */
export const METADATA_COLUMNS: Record<string, MetadataColumn> = {
  experimentKey: { attribute: 'key', type: 'string' },
  user_name: { attribute: 'userName', type: 'string' },
  file_name: { attribute: 'fileName', type: 'string' },
  file_path: { attribute: 'filePath', type: 'string' },
  optimizationId: { attribute: 'optimizationId', type: 'string' },
  codeSHA: { attribute: 'gitCommit', type: 'string' },
  start_server_timestamp: { attribute: 'startTime', type: 'datetime' },
  end_server_timestamp: { attribute: 'endTime', type: 'datetime' },
  last_message_time: { attribute: 'lastUpdated', type: 'datetime' },
  duration: { attribute: 'duration', type: 'timenumber' },
  runActive: { attribute: 'running', type: 'boolean' },
  hasHtml: { attribute: 'hasHtml', type: 'boolean' },
  hasImages: { attribute: 'hasImages', type: 'boolean' },
};

const ENVIRONMENT_TYPES: Record<EnvironmentField, ColumnType> = {
  os: 'string',
  osType: 'string',
  hostname: 'string',
  pythonVersion: 'string',
  user: 'string',
  ip: 'string',
  pid: 'double',
};

export function toColumns(
  columns: ProjectColumns,
): { name: string; id: string; type: ColumnType; source: ColumnSource }[] {
  const column = (name: string, type: ColumnType, source: ColumnSource) => ({
    name,
    id: `${name}--${source}`,
    type,
    source,
  });
  return [
    ...columns.metrics.map((name) => column(name, 'double', 'metrics')),
    ...columns.params.map((p) => column(p.name, p.numeric ? 'double' : 'string', 'params')),
    ...columns.others.map((o) => column(o.name, o.numeric ? 'double' : 'string', 'log_other')),
    ...columns.tags.map((tag) => column(tag, 'string', 'tag')),
    ...columns.environment.map((field) => column(field, ENVIRONMENT_TYPES[field], 'env_details')),
    ...Object.entries(METADATA_COLUMNS).map(([name, c]) => column(name, c.type, 'metadata')),
  ];
}

/** Predicates are ANDed; each holds a group of rules for one source (spec §5). */
export function toCondition(predicates: ProjectQueryBody['predicates']): ExperimentCondition {
  return { kind: 'and', conditions: predicates.map((p) => group(p.source, p.query, 'predicate')) };
}

const SOURCES = new Set(['metrics', 'params', 'log_other', 'metadata', 'env_details', 'tag']);

/** A predicate's source: one of the column sources (`ColumnSource`). */
export function predicateSource(source: string): string {
  if (!SOURCES.has(source)) throw invalid(`unknown predicate source "${source}"`);
  return source;
}

/** The query builder marks a node it could not complete `valid: false`; such a query is refused, not run. */
export function markedValid(valid: boolean | null | undefined, where: string): void {
  if (valid === false) throw invalid(`${where} is marked valid: false`);
}

/** A group's condition, AND or OR in any letter case; AND when absent. */
export function groupCondition(condition: string | null | undefined): 'AND' | 'OR' {
  const upper = (condition ?? 'AND').toUpperCase();
  if (upper !== 'AND' && upper !== 'OR') throw invalid(`unknown condition "${condition}": use AND or OR`);
  return upper;
}

function group(source: string, node: QueryRule, where: string): ExperimentCondition {
  predicateSource(source);
  markedValid(node.valid, where);
  if (!node.rules) return rule(source, node);
  const condition = groupCondition(node.condition);
  const combined: ExperimentCondition = {
    kind: condition === 'AND' ? 'and' : 'or',
    conditions: node.rules.map((r, i) => group(source, r, `${where}.rules[${i}]`)),
  };
  return node.not ? { kind: 'not', condition: combined } : combined;
}

const COMPARISONS = {
  equal: 'eq',
  not_equal: 'ne',
  less: 'lt',
  less_or_equal: 'le',
  greater: 'gt',
  greater_or_equal: 'ge',
} as const;
const TEXT_OPS = {
  contains: 'contains',
  not_contains: 'not-contains',
  begins_with: 'begins',
  not_begins_with: 'not-begins',
  ends_with: 'ends',
  not_ends_with: 'not-ends',
} as const;
const COLUMN_TYPES = new Set(['double', 'string', 'datetime', 'boolean', 'timenumber']);

function rule(source: string, r: QueryRule): ExperimentCondition {
  const name = r.field ?? r.id;
  if (!name) throw invalid('a rule needs a field (the column name)');
  const operator = r.operator ?? '';
  const type = r.type ?? 'string';
  if (!COLUMN_TYPES.has(type)) throw invalid(`rule "${name}": unknown type "${type}"`);

  if (source === 'tag') return tagRule(name, operator, r.value);

  const target = field(source, name, type);
  switch (operator) {
    case 'is_null':
      return { kind: 'missing', field: target, orEmpty: false };
    case 'is_empty':
      return { kind: 'missing', field: target, orEmpty: true };
    case 'is_not_null':
      return { kind: 'not', condition: { kind: 'missing', field: target, orEmpty: false } };
    case 'is_not_empty':
      return { kind: 'not', condition: { kind: 'missing', field: target, orEmpty: true } };
  }
  return { kind: 'test', field: target, test: valueTest(name, operator, type, r.value, target) };
}

function field(source: string, name: string, type: string): QueryField {
  switch (source) {
    case 'metrics':
      return { source: 'metric', name, aggregate: 'last' };
    case 'params':
      return { source: 'param', name };
    case 'log_other':
      return { source: 'other', name };
    case 'env_details':
      if (!(ENVIRONMENT_FIELDS as readonly string[]).includes(name)) {
        throw invalid(`unknown env_details column "${name}": use one of ${ENVIRONMENT_FIELDS.join(', ')}`);
      }
      return { source: 'environment', name: name as EnvironmentField };
    default: {
      const column = METADATA_COLUMNS[name];
      if (!column) throw invalid(`unknown metadata column "${name}"`);
      if (column.type !== type && !(column.type === 'timenumber' && type === 'double')) {
        throw invalid(`metadata column "${name}" has type ${column.type}, not ${type}`);
      }
      return { source: 'attribute', name: column.attribute };
    }
  }
}

function valueTest(name: string, operator: string, type: string, value: unknown, target: QueryField): ValueTest {
  const textOp = TEXT_OPS[operator as keyof typeof TEXT_OPS];
  if (textOp) {
    if (type !== 'string') throw invalid(`rule "${name}": ${operator} applies to string columns only`);
    if (typeof value !== 'string') throw invalid(`rule "${name}": ${operator} needs a string value`);
    // Case-sensitive, as SQL equality is: the spec leaves it open (spec §5) and we document it.
    return { as: 'string', op: textOp, value, caseInsensitive: false };
  }
  if (operator === 'between' || operator === 'not_between') {
    if (type === 'string' || type === 'boolean')
      throw invalid(`rule "${name}": ${operator} needs a numeric or time column`);
    if (!Array.isArray(value) || value.length !== 2) throw invalid(`rule "${name}": ${operator} needs [low, high]`);
    const op = operator === 'between' ? 'between' : 'not-between';
    return { as: 'number', op, low: number(name, type, value[0], target), high: number(name, type, value[1], target) };
  }
  const op = COMPARISONS[operator as keyof typeof COMPARISONS];
  if (!op) throw invalid(`rule "${name}": unknown operator "${operator}"`);
  if (type === 'boolean') {
    if (op !== 'eq' && op !== 'ne') throw invalid(`rule "${name}": boolean columns compare with equal or not_equal`);
    return { as: 'boolean', op, value: boolean(name, value) };
  }
  if (type === 'string') {
    if (value === null || value === undefined || typeof value === 'object') {
      throw invalid(`rule "${name}": ${operator} needs a value`);
    }
    return { as: 'string', op, value: String(value) };
  }
  return { as: 'number', op, value: number(name, type, value, target) };
}

/** Rule values as the column's number: datetimes become epoch ms, timenumbers (seconds) ms. */
function number(name: string, type: string, value: unknown, target: QueryField): number {
  if (type === 'datetime') {
    const ms = typeof value === 'number' ? value : typeof value === 'string' ? parseUtcDateTime(value) : Number.NaN;
    if (!Number.isFinite(ms))
      throw invalid(`rule "${name}": "${String(value)}" is not a datetime (YYYY-MM-DD HH:MM:SS)`);
    return ms;
  }
  const parsed =
    typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(parsed)) throw invalid(`rule "${name}": "${String(value)}" is not a number`);
  // Durations are kept in ms; Comet's timenumber is in seconds.
  return target.source === 'attribute' && target.name === 'duration' ? parsed * 1000 : parsed;
}

function boolean(name: string, value: unknown): boolean {
  if (value === true || value === 1 || value === '1' || value === 'true' || value === 'True') return true;
  if (value === false || value === 0 || value === '0' || value === 'false' || value === 'False') return false;
  throw invalid(`rule "${name}": a boolean value is 1 or 0`);
}

/** comet_ml sends `datetime.isoformat(" ")` in UTC: "2019-09-24 05:00:00[.ffffff]"; ISO "T" and offsets too. */
export function parseUtcDateTime(text: string): number {
  const match =
    /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
      text.trim(),
    );
  if (!match) return Number.NaN;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = match;
  const ms = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s),
    Number(frac.padEnd(3, '0').slice(0, 3)),
  );
  if (!zone || zone === 'Z') return ms;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return ms - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

/** Tag rules name the tag as their field (`Tag("x")`); negations are supported for other clients. */
function tagRule(name: string, operator: string, value: unknown): ExperimentCondition {
  const tag = typeof value === 'string' ? value : name;
  const has = (match: NameMatch): ExperimentCondition => ({ kind: 'has', what: 'tag', match });
  switch (operator) {
    case 'equal':
    case 'is_not_null':
    case 'is_not_empty':
      return has({ op: 'eq', value: tag, caseInsensitive: false });
    case 'not_equal':
    case 'is_null':
    case 'is_empty':
      return { kind: 'not', condition: has({ op: 'eq', value: tag, caseInsensitive: false }) };
    case 'contains':
    case 'begins_with':
    case 'ends_with':
      return has({
        op: operator === 'contains' ? 'contains' : operator === 'begins_with' ? 'begins' : 'ends',
        value: tag,
        caseInsensitive: false,
      });
    case 'not_contains':
    case 'not_begins_with':
    case 'not_ends_with': {
      const op = operator === 'not_contains' ? 'contains' : operator === 'not_begins_with' ? 'begins' : 'ends';
      return { kind: 'not', condition: has({ op, value: tag, caseInsensitive: false }) };
    }
    default:
      throw invalid(`tag rule "${name}": unsupported operator "${operator}"`);
  }
}

function invalid(message: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid project query: ${message}`);
}
