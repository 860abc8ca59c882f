/**
 * The one experiment query model. Comet's project query (predicates, spec §5) and Foundry's search
 * filters both translate into an `ExperimentCondition`; the store compiles it to SQL, so every
 * facade filters the same way and nothing is filtered in memory.
 *
 * Semantics shared by every facade:
 * - A value test on a field the experiment lacks is false, negated tests included (`ne`,
 *   `not-between`, `not-contains`…): "missing" is only matched by `missing`. Comet says so
 *   (spec §5: a missing value satisfies only is_null/is_empty).
 * - `not` is plain logical negation, so `not(test)` also matches experiments lacking the field
 *   (Foundry's rule).
 * - An empty `and` matches everything, an empty `or` nothing.
 */

/** Built-in experiment attributes a condition may read. Times are epoch ms, durations ms. */
export type ExperimentAttribute =
  | 'key'
  | 'name'
  | 'status'
  | 'userName'
  | 'fileName'
  | 'filePath'
  | 'optimizationId'
  | 'startTime'
  | 'endTime'
  | 'lastUpdated'
  | 'duration'
  | 'running'
  | 'archived'
  | 'hasHtml'
  | 'hasImages'
  | 'gitBranch'
  | 'gitCommit'
  /** MLflow's status where Cairn's cannot hold it (KILLED, SCHEDULED); none for most experiments. */
  | 'statusDetail';

export const ATTRIBUTE_TYPES: Record<ExperimentAttribute, 'string' | 'number' | 'boolean'> = {
  key: 'string',
  name: 'string',
  status: 'string',
  userName: 'string',
  fileName: 'string',
  filePath: 'string',
  optimizationId: 'string',
  startTime: 'number',
  endTime: 'number',
  lastUpdated: 'number',
  duration: 'number',
  running: 'boolean',
  archived: 'boolean',
  hasHtml: 'boolean',
  hasImages: 'boolean',
  gitBranch: 'string',
  gitCommit: 'string',
  statusDetail: 'string',
};

/** System-details fields searchable as environment details. */
export const ENVIRONMENT_FIELDS = ['os', 'osType', 'hostname', 'pythonVersion', 'user', 'ip', 'pid'] as const;
export type EnvironmentField = (typeof ENVIRONMENT_FIELDS)[number];

/**
 * Which number of a metric series a condition reads: `last` is the point logged last, `latest`
 * MLflow's latest point (the greatest by step, then timestamp, then value).
 */
export type SeriesAggregate = 'last' | 'latest' | 'min' | 'max' | 'count';

export type QueryField =
  | { source: 'metric'; name: string; aggregate: SeriesAggregate }
  /** The current (last logged) value of a parameter or "other". */
  | { source: 'param' | 'other'; name: string }
  | { source: 'attribute'; name: ExperimentAttribute }
  | { source: 'environment'; name: EnvironmentField };

/**
 * How a value is compared. `number` tests read the field as a number: a parameter logged as
 * text then has no numeric value (so the test is false). `string` tests read its text;
 * `datetime` tests read parameters logged as ISO-8601 times (and time attributes).
 */
export type ValueTest =
  | { as: 'number'; op: ComparisonOp; value: number }
  | { as: 'number'; op: 'between' | 'not-between'; low: number; high: number }
  | { as: 'string'; op: ComparisonOp; value: string }
  | { as: 'string'; op: 'between' | 'not-between'; low: string; high: string }
  /**
   * With `plainText`, a parameter or other matches only when logged as text that is no ISO-8601
   * datetime (Foundry's string parameters); otherwise any logged value's text is read.
   */
  | { as: 'string'; op: TextOp; value: string; caseInsensitive: boolean; plainText?: boolean }
  /**
   * SQL's LIKE as MLflow reads it: `%` matches any run of characters, `_` exactly one, every other
   * character itself (there is no escape character). Case-sensitive unless `caseInsensitive`
   * (MLflow's ILIKE), which folds case as `lower()` does on the backend.
   */
  | { as: 'string'; op: 'like'; pattern: string; caseInsensitive: boolean }
  /** The text is (`in`) or is not (`not-in`) one of `values`; an empty list holds nothing. */
  | { as: 'string'; op: 'in' | 'not-in'; values: readonly string[] }
  | { as: 'boolean'; op: 'eq' | 'ne'; value: boolean }
  /** Epoch ms. Parameters and others are datetimes when their text is an ISO-8601 time with a zone. */
  | { as: 'datetime'; op: ComparisonOp; value: number };

export type ComparisonOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
export type TextOp = 'contains' | 'not-contains' | 'begins' | 'not-begins' | 'ends' | 'not-ends';

/** A text match on names (tags, parameter names, series names). */
export interface NameMatch {
  op: 'eq' | 'contains' | 'begins' | 'ends';
  value: string;
  caseInsensitive: boolean;
}

/**
 * What a dataset input of an experiment is matched on: its name, its digest, or the value of its
 * input tag `mlflow.data.context` (an input without that tag has no context).
 */
export type InputField = 'name' | 'digest' | 'context';

export type ExperimentCondition =
  | { kind: 'and' | 'or'; conditions: ExperimentCondition[] }
  | { kind: 'not'; condition: ExperimentCondition }
  | { kind: 'test'; field: QueryField; test: ValueTest }
  /** The field has no value (Comet's is_null); with `orEmpty`, an empty text counts as none (is_empty). */
  | { kind: 'missing'; field: QueryField; orEmpty: boolean }
  /** Some tag / parameter name / series name of the experiment matches. */
  | { kind: 'has'; what: 'tag' | 'param' | 'metric'; match: NameMatch }
  /**
   * Some dataset input of the experiment has the field and its text passes the string `test`
   * (MLflow's `datasets.<field>`): an experiment without inputs never matches, `ne` and `not-in`
   * included; other kinds of test match nothing.
   */
  | { kind: 'input'; field: InputField; test: ValueTest };

/**
 * What experiments are ordered by: their creation time, their name, or any field holding one
 * value per experiment. Experiments lacking a value come last in either direction. A parameter
 * or other can hold numbers and texts at once: numbers come before texts ascending (texts before
 * numbers descending), each group in its own order; texts compare bytewise on both backends.
 */
export type ExperimentOrderField = 'createdAt' | 'name' | QueryField;

export interface ExperimentOrder {
  field: ExperimentOrderField;
  direction: 'asc' | 'desc';
}

/**
 * Where a sorted page ended, for keyset paging: the next page starts after the experiment `key`
 * whose sort value is `value`. `segment` is the group of values the row is in (for a parameter:
 * numbers, texts, or none); a store mints positions and the caller hands them back unchanged.
 * `value` is null in the group of experiments lacking a value.
 */
export interface SortPosition {
  segment: number;
  value: number | string | null;
  key: string;
}

export interface ExperimentSearch {
  /**
   * Experiments whose home is this project (or one of these projects) or that are symlinked into
   * it; each experiment is listed once. An empty list holds no experiment.
   */
  projectId: string | readonly string[];
  /** undefined: both archived and active experiments. */
  archived?: boolean;
  where?: ExperimentCondition;
  /** Ties are broken by experiment key ascending so pages are stable. Default: createdAt ascending. */
  orderBy?: ExperimentOrder;
  offset?: number;
  limit?: number;
  /** "Now", for attributes that depend on it (running, duration of a running experiment). */
  now: number;
  /** Heartbeats older than this make a running experiment count as not running. */
  heartbeatTimeoutMs: number;
}

/** ISO-8601 date-times with a zone (Z or ±hh:mm): the texts parameters are typed datetime by. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Epoch ms of an ISO-8601 date-time with a zone, or undefined for any other text. */
export function parseIsoDateTime(text: string): number | undefined {
  if (!ISO_DATE_TIME.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}
