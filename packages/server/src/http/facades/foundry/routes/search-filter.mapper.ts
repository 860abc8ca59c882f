import {
  type ExperimentCondition,
  type NameMatch,
  parseIsoDateTime,
  type SeriesAggregate,
} from '../../../../core/experiment-query.js';
import { experimentKeyOfRid } from '../../../../core/rids.js';
import { FoundryApiError } from '../foundry-errors.js';

/**
 * Foundry's SearchExperimentsFilter (spec §5) in terms of the core's ExperimentCondition. Both
 * encodings are accepted: the flat `{"type": "eq", ...}` the SDKs send and the wrapper-key
 * `{"eq": {...}}` of the API docs. Every malformed filter is an InvalidExperimentSearchFilter
 * whose reason names the problem and where it is.
 *
 * Text matching: `eq` is exact; `contains` and `startsWith` ignore case (spec §5 recommendation).
 */

const VARIANTS = new Set([
  'and',
  'or',
  'not',
  'eq',
  'contains',
  'startsWith',
  'parameterFilter',
  'seriesFilter',
  'summaryMetricFilter',
]);
const STATUSES = new Set(['RUNNING', 'SUCCEEDED', 'FAILED']);
const EQ_FIELDS = new Set([
  'STATUS',
  'BRANCH',
  'EXPERIMENT_NAME',
  'EXPERIMENT_RID',
  'JOB_RID',
  'TAG',
  'PARAMETER_NAME',
  'SERIES_NAME',
]);
const TEXT_FIELDS = new Set(['EXPERIMENT_NAME', 'PARAMETER_NAME', 'SERIES_NAME']);
const NUMERIC_OPS = { EQ: 'eq', GT: 'gt', LT: 'lt' } as const;
const SERIES_FIELDS: Record<string, SeriesAggregate> = {
  LENGTH: 'count',
  AGGREGATION_MIN: 'min',
  AGGREGATION_MAX: 'max',
  AGGREGATION_LAST: 'last',
};
const SUMMARY_AGGREGATIONS: Record<string, SeriesAggregate> = { MIN: 'min', MAX: 'max', LAST: 'last' };
/** Branch of an experiment that logged no git branch (Foundry's default branch name). */
export const DEFAULT_BRANCH = 'master';
/** Deep enough for any real filter, shallow enough that a hostile one cannot exhaust the stack. */
const MAX_DEPTH = 32;

type Json = Record<string, unknown>;

export function toCondition(filter: unknown, path = 'where', depth = 0): ExperimentCondition {
  if (depth > MAX_DEPTH) throw invalid(`${path}: filters nest deeper than ${MAX_DEPTH} levels`);
  const { variant, body } = unwrap(filter, path);
  switch (variant) {
    case 'and':
    case 'or': {
      const filters = body.filters;
      if (!Array.isArray(filters)) throw invalid(`${path}.filters must be an array`);
      return {
        kind: variant,
        conditions: filters.map((f, i) => toCondition(f, `${path}.filters[${i}]`, depth + 1)),
      };
    }
    case 'not': {
      if (!isObject(body.value)) throw invalid(`${path}.value must be a filter object`);
      return { kind: 'not', condition: toCondition(body.value, `${path}.value`, depth + 1) };
    }
    case 'eq':
      return equals(body, path);
    case 'contains':
    case 'startsWith':
      return textMatch(variant, body, path);
    case 'parameterFilter':
      return parameterFilter(body, path);
    case 'seriesFilter':
    case 'summaryMetricFilter':
      return seriesFilter(variant, body, path);
    default:
      throw invalid(`${path}: unknown filter type "${variant}"`);
  }
}

/** The flat form `{type, ...fields}` or the wrapper form `{variant: {...fields}}`. */
function unwrap(filter: unknown, path: string): { variant: string; body: Json } {
  if (!isObject(filter)) throw invalid(`${path} must be a filter object`);
  if (typeof filter.type === 'string') return { variant: filter.type, body: filter };
  const keys = Object.keys(filter);
  const only = keys[0];
  if (keys.length === 1 && only !== undefined && VARIANTS.has(only) && isObject(filter[only])) {
    return { variant: only, body: filter[only] as Json };
  }
  throw invalid(`${path} needs a "type" (one of ${[...VARIANTS].join(', ')})`);
}

function equals(body: Json, path: string): ExperimentCondition {
  const field = enumField(body.field, EQ_FIELDS, `${path}.field`);
  const value = body.value;
  if (typeof value !== 'string') throw invalid(`${path}.value must be a string for eq ${field}`);
  const exact: NameMatch = { op: 'eq', value, caseInsensitive: false };
  switch (field) {
    case 'STATUS':
      if (!STATUSES.has(value)) {
        throw invalid(`filtering by an unsupported status "${value}": use RUNNING, SUCCEEDED or FAILED`);
      }
      return attributeEquals('status', value);
    case 'BRANCH': {
      const logged = attributeEquals('gitBranch', value);
      // Experiments that logged no branch are on the default one.
      return value === DEFAULT_BRANCH
        ? {
            kind: 'or',
            conditions: [logged, { kind: 'missing', field: { source: 'attribute', name: 'gitBranch' }, orEmpty: true }],
          }
        : logged;
    }
    case 'EXPERIMENT_NAME':
      return attributeEquals('name', value);
    case 'EXPERIMENT_RID': {
      const key = experimentKeyOfRid(value);
      return key === undefined ? { kind: 'or', conditions: [] } : attributeEquals('key', key);
    }
    case 'JOB_RID':
      // Cairn runs no Foundry jobs: no experiment has a job RID.
      return { kind: 'or', conditions: [] };
    case 'TAG':
      return { kind: 'has', what: 'tag', match: exact };
    case 'PARAMETER_NAME':
      return { kind: 'has', what: 'param', match: exact };
    default:
      return { kind: 'has', what: 'metric', match: exact };
  }
}

function textMatch(variant: 'contains' | 'startsWith', body: Json, path: string): ExperimentCondition {
  const field = enumField(body.field, TEXT_FIELDS, `${path}.field`);
  if (typeof body.value !== 'string') throw invalid(`${path}.value must be a string for ${variant} ${field}`);
  const match: NameMatch = {
    op: variant === 'contains' ? 'contains' : 'begins',
    value: body.value,
    caseInsensitive: true,
  };
  if (field === 'EXPERIMENT_NAME') {
    return {
      kind: 'test',
      field: { source: 'attribute', name: 'name' },
      test: {
        as: 'string',
        op: match.op === 'contains' ? 'contains' : 'begins',
        value: body.value,
        caseInsensitive: true,
      },
    };
  }
  return { kind: 'has', what: field === 'PARAMETER_NAME' ? 'param' : 'metric', match };
}

/**
 * The documented operator × value combinations (spec §5): EQ with a boolean, number or datetime;
 * GT/LT with a number or datetime; CONTAINS with a string. JSON strings are datetimes for
 * EQ/GT/LT and must parse as ISO-8601 with a zone.
 */
function parameterFilter(body: Json, path: string): ExperimentCondition {
  const name = body.parameterName;
  if (typeof name !== 'string' || name === '') throw invalid(`${path}.parameterName must be a non-empty string`);
  const operator = body.operator;
  const value = body.value;
  const field = { source: 'param', name } as const;
  if (operator === 'CONTAINS') {
    if (typeof value !== 'string') throw invalid(`${path}: CONTAINS needs a string value`);
    // Only string parameters: numbers, booleans and datetimes are other value classes (spec §5).
    return {
      kind: 'test',
      field,
      test: { as: 'string', op: 'contains', value, caseInsensitive: false, plainText: true },
    };
  }
  if (operator !== 'EQ' && operator !== 'GT' && operator !== 'LT') {
    throw invalid(`${path}.operator must be one of EQ, GT, LT, CONTAINS`);
  }
  const op = NUMERIC_OPS[operator];
  if (typeof value === 'boolean') {
    if (op !== 'eq') throw invalid(`${path}: ${operator} does not apply to a boolean value`);
    return { kind: 'test', field, test: { as: 'boolean', op: 'eq', value } };
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    return { kind: 'test', field, test: { as: 'number', op, value } };
  }
  if (typeof value === 'string') {
    const ms = parseIsoDateTime(value);
    if (ms === undefined) {
      throw invalid(`${path}: ${operator} with a string value needs an ISO-8601 datetime with a zone, got "${value}"`);
    }
    return { kind: 'test', field, test: { as: 'datetime', op, value: ms } };
  }
  if (value === undefined) throw invalid(`${path}.value is required`);
  throw invalid(`${path}: ${operator} does not apply to a ${value === null ? 'null' : typeof value} value`);
}

function seriesFilter(variant: 'seriesFilter' | 'summaryMetricFilter', body: Json, path: string): ExperimentCondition {
  const name = body.seriesName;
  if (typeof name !== 'string' || name === '') throw invalid(`${path}.seriesName must be a non-empty string`);
  const aggregate =
    variant === 'seriesFilter'
      ? SERIES_FIELDS[enumField(body.field, new Set(Object.keys(SERIES_FIELDS)), `${path}.field`)]
      : SUMMARY_AGGREGATIONS[
          enumField(body.aggregation, new Set(Object.keys(SUMMARY_AGGREGATIONS)), `${path}.aggregation`)
        ];
  const operator = enumField(body.operator, new Set(Object.keys(NUMERIC_OPS)), `${path}.operator`);
  const value = body.value;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${path}.value must be a number`);
  if (aggregate === 'count' && !Number.isInteger(value)) throw invalid(`${path}: LENGTH compares with an integer`);
  return {
    kind: 'test',
    field: { source: 'metric', name, aggregate: aggregate ?? 'last' },
    test: { as: 'number', op: NUMERIC_OPS[operator as keyof typeof NUMERIC_OPS], value },
  };
}

function attributeEquals(name: 'status' | 'gitBranch' | 'name' | 'key', value: string): ExperimentCondition {
  return { kind: 'test', field: { source: 'attribute', name }, test: { as: 'string', op: 'eq', value } };
}

function enumField(value: unknown, allowed: Set<string>, path: string): string {
  if (typeof value !== 'string' || !allowed.has(value)) {
    throw invalid(`${path} must be one of ${[...allowed].join(', ')}`);
  }
  return value;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function invalid(reason: string): FoundryApiError {
  return new FoundryApiError('INVALID_ARGUMENT', 'InvalidExperimentSearchFilter', { reason });
}
