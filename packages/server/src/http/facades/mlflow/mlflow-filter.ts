import type {
  ComparisonOp,
  ExperimentCondition,
  ExperimentOrder,
  InputField,
  ValueTest,
} from '../../../core/experiment-query.js';
import { MlflowApiError } from './mlflow-errors.js';

/**
 * MLflow's search grammars (spec §6): the runs filter and order_by compile to the shared query
 * core (executed in SQL); experiments and registry searches are filtered in memory (a workspace
 * holds few of them). One tokenizer and one clause parser serve every grammar; a grammar only
 * says which entities, keys and comparators it takes.
 *
 *   filter := clause ( AND clause )*       clause := ident comparator value
 *   ident  := [entity "."] key             (backticks or double quotes around either part)
 *   value  := number | 'text' | "text" | ( 'a', "b", … )
 */

type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';
type Entity = 'metric' | 'parameter' | 'tag' | 'attribute' | 'dataset';

type Token =
  /** An identifier or a double-quoted text: which one depends on where it stands. */
  | { type: 'word'; text: string }
  | { type: 'string'; text: string; value: string }
  | { type: 'number'; text: string; value: number }
  | { type: 'list'; text: string; values: string[] }
  | { type: 'comparator'; text: string; value: Comparator }
  | { type: 'and'; text: string }
  | { type: 'invalid'; text: string };

type Value = Exclude<Token, { type: 'comparator' | 'and' | 'invalid' }>;

const NUMERIC: readonly Comparator[] = ['>', '>=', '!=', '=', '<', '<='];
const TEXT: readonly Comparator[] = ['!=', '=', 'LIKE', 'ILIKE'];
const TEXT_OR_LIST: readonly Comparator[] = ['!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];
const OPERATORS = new Set(['=', '!=', '>', '>=', '<', '<=']);
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function invalid(message: string): MlflowApiError {
  return new MlflowApiError('INVALID_PARAMETER_VALUE', message);
}

/** Python's repr of a list or set of texts, as MLflow's messages print them. */
function pyList(items: readonly string[]): string {
  return `[${items.map((i) => `'${i}'`).join(', ')}]`;
}
function pySet(items: readonly string[]): string {
  return `{${items.map((i) => `'${i}'`).join(', ')}}`;
}

/** End (exclusive) of the quoted run opening at `start`, or -1 when it is not closed. */
function quotedEnd(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    // As sqlparse reads texts: a doubled quote or a backslash-escaped one does not close it.
    if (text[i] === '\\' && quote !== '`') i++;
    else if (text[i] === quote) {
      if (text[i + 1] === quote && quote !== '`') i++;
      else return i + 1;
    }
  }
  return -1;
}

/**
 * Splits a filter or order_by item into tokens. A word is a run of `[\w.]` characters and quoted
 * parts with no space between them (`metrics."val loss"`, `` tags.`mlflow.user` ``); what cannot
 * be read becomes an `invalid` token so that the clause around it is reported.
 */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(') {
      const close = listEnd(text, i);
      if (close < 0) {
        tokens.push({ type: 'invalid', text: text.slice(i) });
        break;
      }
      const raw = text.slice(i, close);
      const values = listValues(raw);
      tokens.push(values ? { type: 'list', text: raw, values } : { type: 'invalid', text: raw });
      i = close;
      continue;
    }
    if (c === "'") {
      const end = quotedEnd(text, i);
      if (end < 0) {
        tokens.push({ type: 'invalid', text: text.slice(i) });
        break;
      }
      tokens.push({ type: 'string', text: text.slice(i, end), value: text.slice(i + 1, end - 1) });
      i = end;
      continue;
    }
    if ('<>=!'.includes(c)) {
      let end = i;
      while (end < text.length && '<>=!'.includes(text[end] as string)) end++;
      const op = text.slice(i, end);
      tokens.push(
        OPERATORS.has(op) ? { type: 'comparator', text: op, value: op as Comparator } : { type: 'invalid', text: op },
      );
      i = end;
      continue;
    }
    const signed = (c === '-' || c === '+') && /^[+-]\.?\d/.test(text.slice(i, i + 3));
    if (signed || /[\w.`"]/.test(c)) {
      let end = signed ? i + 1 : i;
      let closed = true;
      while (end < text.length) {
        const d = text[end] as string;
        if (d === '`' || d === '"') {
          const after = quotedEnd(text, end);
          if (after < 0) {
            closed = false;
            break;
          }
          end = after;
        } else if (/[\w.]/.test(d) || ((d === '-' || d === '+') && /[eE]$/.test(text.slice(i, end)))) end++;
        else break;
      }
      if (!closed) {
        tokens.push({ type: 'invalid', text: text.slice(i) });
        break;
      }
      const word = text.slice(i, end);
      i = end;
      if (NUMBER.test(word)) tokens.push({ type: 'number', text: word, value: Number(word) });
      else if (/^and$/i.test(word)) tokens.push({ type: 'and', text: word });
      else if (/^(?:like|ilike|in)$/i.test(word)) {
        tokens.push({ type: 'comparator', text: word, value: word.toUpperCase() as Comparator });
      } else if (/^not$/i.test(word) && /^\s+in(?![\w.`"])/i.test(text.slice(i))) {
        const after = text.slice(i).match(/^\s+in/i)?.[0].length ?? 0;
        tokens.push({ type: 'comparator', text: `${word}${text.slice(i, i + after)}`, value: 'NOT IN' });
        i += after;
      } else tokens.push({ type: 'word', text: word });
      continue;
    }
    tokens.push({ type: 'invalid', text: c });
    i++;
  }
  return tokens;
}

/** End (exclusive) of the parenthesised list opening at `start`, skipping quoted texts. */
function listEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"' || c === '`') {
      const end = quotedEnd(text, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if (c === ')') return i + 1;
  }
  return -1;
}

/** The texts of `('a', "b")`, or undefined when it holds anything but comma-separated quoted texts. */
function listValues(raw: string): string[] | undefined {
  const inner = raw.slice(1, -1);
  const values: string[] = [];
  let i = 0;
  const skip = () => {
    while (i < inner.length && /\s/.test(inner[i] as string)) i++;
  };
  skip();
  if (i === inner.length) return values;
  for (;;) {
    const quote = inner[i];
    if (quote !== "'" && quote !== '"') return undefined;
    const end = quotedEnd(inner, i);
    if (end < 0) return undefined;
    values.push(inner.slice(i + 1, end - 1));
    i = end;
    skip();
    if (i === inner.length) return values;
    if (inner[i] !== ',') return undefined;
    i++;
    skip();
  }
}

function isQuoted(text: string, quote: string): boolean {
  return text.length >= 2 && text.startsWith(quote) && text.endsWith(quote);
}

/** Index of the first `.` outside quotes, or -1. */
function entityDot(word: string): number {
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (c === '`' || c === '"' || c === "'") {
      const end = quotedEnd(word, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if (c === '.') return i;
  }
  return -1;
}

function unquote(text: string): string {
  return isQuoted(text, '"') || isQuoted(text, "'") || isQuoted(text, '`') ? text.slice(1, -1) : text;
}

/** What a grammar takes: its entities (by every spelling), attributes and their comparators. */
interface Grammar {
  entities: Readonly<Record<string, Entity>>;
  /** The entity names MLflow lists when one is unknown. */
  identifiers: readonly string[];
  /** Attribute keys as written (aliases included) → the key they stand for and its kind. */
  attributes: Readonly<Record<string, { key: string; type: 'string' | 'number'; list?: boolean }>>;
  /** The keys listed when an attribute is unknown. */
  attributeKeys: readonly string[];
}

interface Identifier {
  entity: Entity;
  key: string;
}

/** `[entity.]key` as MLflow's _get_identifier reads it; no entity means an attribute. */
function identifier(word: string, grammar: Grammar, attributes: Grammar['attributes'], keys: readonly string[]) {
  const dot = entityDot(word);
  const rawEntity = dot < 0 ? undefined : word.slice(0, dot);
  const key = unquote(dot < 0 ? word : word.slice(dot + 1));
  let entity: Entity = 'attribute';
  if (rawEntity !== undefined) {
    const name = isQuoted(rawEntity, '`') ? rawEntity.slice(1, -1) : rawEntity;
    const found = grammar.entities[name];
    if (!found) throw invalid(`Invalid entity type '${name}'. Valid values are ${pyList(grammar.identifiers)}`);
    entity = found;
  }
  if (entity === 'attribute') {
    const attribute = attributes[key];
    if (!attribute) throw invalid(`Invalid attribute key '${key}' specified. Valid keys are '${pySet(keys)}'`);
    return { entity, key: attribute.key };
  }
  if (entity === 'dataset' && !DATASET_KEYS.includes(key)) {
    throw invalid(`Invalid dataset key '${key}' specified. Valid keys are '${pySet(DATASET_KEYS)}'`);
  }
  return { entity, key };
}

const DATASET_KEYS: readonly string[] = ['name', 'digest', 'context'];

/** One clause of a filter, checked against its grammar. */
type Clause = Identifier &
  (
    | { comparator: 'IN' | 'NOT IN'; value: string[] }
    | { comparator: Exclude<Comparator, 'IN' | 'NOT IN'>; value: string | number }
  );

/** The conjunction's clauses; an empty or blank filter has none. */
function parseFilter(filter: string | undefined, grammar: Grammar): Clause[] {
  if (filter === undefined || filter.trim() === '') return [];
  const tokens = tokenize(filter);
  const found: [Token & { type: 'word' }, Comparator, Value][] = [];
  const invalids: string[] = [];
  for (let i = 0; i < tokens.length; ) {
    const [first, second, third] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (first?.type === 'and') {
      i++;
      continue;
    }
    if (
      first?.type === 'word' &&
      second?.type === 'comparator' &&
      third &&
      third.type !== 'comparator' &&
      third.type !== 'and' &&
      third.type !== 'invalid'
    ) {
      found.push([first, second.value, third]);
      i += 3;
      continue;
    }
    invalids.push(first?.text ?? '');
    i++;
  }
  if (invalids.length > 0) {
    throw invalid(`Invalid clause(s) in filter string: ${invalids.map((t) => `'${t}'`).join(', ')}`);
  }
  return found.map(([word, comparator, value]) => clause(word.text, comparator, value, grammar));
}

function clause(word: string, comparator: Comparator, token: Value, grammar: Grammar): Clause {
  const id = identifier(word, grammar, grammar.attributes, grammar.attributeKeys);
  const attribute =
    id.entity === 'attribute' ? Object.values(grammar.attributes).find((a) => a.key === id.key) : undefined;
  const numeric = id.entity === 'metric' || attribute?.type === 'number';
  const lists = id.entity === 'dataset' || attribute?.list === true;
  const allowed = numeric ? NUMERIC : lists ? TEXT_OR_LIST : TEXT;
  if (!allowed.includes(comparator)) {
    throw invalid(`Invalid comparator '${comparator}' not one of '${pySet(allowed)}'`);
  }
  if (numeric) {
    if (token.type !== 'number') {
      throw invalid(
        id.entity === 'metric'
          ? `Expected numeric value type for metric. Found ${token.text}`
          : `Expected numeric value type for numeric attribute: ${id.key}. Found ${token.text}`,
      );
    }
    return { ...id, comparator: comparator as Exclude<Comparator, 'IN' | 'NOT IN'>, value: token.value };
  }
  if (comparator === 'IN' || comparator === 'NOT IN') {
    if (token.type !== 'list') {
      throw invalid(`Expected a list of quoted string values for '${comparator}'. Got value ${token.text}`);
    }
    return { ...id, comparator, value: token.values };
  }
  if (token.type === 'list') {
    throw invalid(
      id.entity === 'dataset'
        ? `Only the dataset 'name', 'digest' and 'context' support comparison with a list of quoted string values.`
        : `Only the 'run_id' attribute supports comparison with a list of quoted string values.`,
    );
  }
  if (token.type === 'string') return { ...id, comparator, value: token.value };
  if (token.type === 'word' && isQuoted(token.text, '"')) return { ...id, comparator, value: token.text.slice(1, -1) };
  if (token.type === 'word') {
    throw invalid(
      `Parameter value is either not quoted or unidentified quote types used for string value ${token.text}. Use either single or double quotes.`,
    );
  }
  const what = id.entity === 'attribute' ? 'attributes' : id.entity === 'dataset' ? 'dataset attributes' : id.entity;
  throw invalid(`Expected a quoted string value for ${what} (e.g. 'my-value'). Got value ${token.text}`);
}

/** One order_by item: `ident [ASC|DESC]`, ascending by default. */
function parseOrderItem(item: string): { word: string; ascending: boolean } {
  const tokens = tokenize(item);
  const cannot = () => invalid(`Invalid order_by clause '${item}'. Could not be parsed.`);
  const [first, second] = tokens;
  if (first?.type !== 'word' || tokens.length > 2) throw cannot();
  if (!second) return { word: first.text, ascending: true };
  if (second.type !== 'word' || !/^(?:asc|desc)$/i.test(second.text)) {
    throw invalid(`Invalid ordering key in order_by clause '${item}'.`);
  }
  return { word: first.text, ascending: second.text.toLowerCase() === 'asc' };
}

/** A LIKE pattern as a regular expression: `%` any run, `_` one character, the rest literal. */
function likeExpression(pattern: string, caseInsensitive: boolean): RegExp {
  const body = [...pattern]
    // Only the syntax characters: with the `u` flag, escaping anything else (`\-`) is a SyntaxError.
    .map((c) => (c === '%' ? '[\\s\\S]*' : c === '_' ? '[\\s\\S]' : c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, caseInsensitive ? 'iu' : 'u');
}

/** Whether a value passes a clause, in memory; a missing value passes none (`!=` included). */
function passes(actual: string | number | null | undefined, clause: Clause): boolean {
  if (actual === null || actual === undefined) return false;
  const { comparator, value } = clause;
  switch (comparator) {
    case 'IN':
      return value.includes(String(actual));
    case 'NOT IN':
      return !value.includes(String(actual));
    case 'LIKE':
    case 'ILIKE':
      return likeExpression(String(value), comparator === 'ILIKE').test(String(actual));
    case '=':
      return actual === value;
    case '!=':
      return actual !== value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
  }
}

// ---------------------------------------------------------------------------------------------
// Runs: compiled to the query core.

const RUN_ENTITIES: Record<string, Entity> = {
  metric: 'metric',
  metrics: 'metric',
  parameter: 'parameter',
  parameters: 'parameter',
  param: 'parameter',
  params: 'parameter',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
  dataset: 'dataset',
  datasets: 'dataset',
};

const RUN_STRING_ATTRIBUTES = {
  run_id: { key: 'run_id', type: 'string', list: true },
  run_name: { key: 'run_name', type: 'string' },
  'run name': { key: 'run_name', type: 'string' },
  'Run name': { key: 'run_name', type: 'string' },
  'Run Name': { key: 'run_name', type: 'string' },
  status: { key: 'status', type: 'string' },
  user_id: { key: 'user_id', type: 'string' },
  artifact_uri: { key: 'artifact_uri', type: 'string' },
  start_time: { key: 'start_time', type: 'number' },
  end_time: { key: 'end_time', type: 'number' },
  created: { key: 'start_time', type: 'number' },
  Created: { key: 'start_time', type: 'number' },
} as const;

const RUN_GRAMMAR: Grammar = {
  entities: RUN_ENTITIES,
  identifiers: ['metric', 'parameter', 'tag', 'attribute', 'dataset'],
  attributes: RUN_STRING_ATTRIBUTES,
  attributeKeys: Object.keys(RUN_STRING_ATTRIBUTES),
};

/** Orderable run attributes (spec §6.2): those of the filter but for the run name's aliases. */
const RUN_ORDER_ATTRIBUTES: Grammar['attributes'] = {
  run_id: RUN_STRING_ATTRIBUTES.run_id,
  run_name: RUN_STRING_ATTRIBUTES.run_name,
  user_id: RUN_STRING_ATTRIBUTES.user_id,
  status: RUN_STRING_ATTRIBUTES.status,
  start_time: RUN_STRING_ATTRIBUTES.start_time,
  end_time: RUN_STRING_ATTRIBUTES.end_time,
  artifact_uri: RUN_STRING_ATTRIBUTES.artifact_uri,
  created: RUN_STRING_ATTRIBUTES.created,
  Created: RUN_STRING_ATTRIBUTES.Created,
};

const RUN_NAME_TAG = 'mlflow.runName';
const USER_TAG = 'mlflow.user';

function and(...conditions: ExperimentCondition[]): ExperimentCondition {
  return conditions.length === 1 ? (conditions[0] as ExperimentCondition) : { kind: 'and', conditions };
}
function or(...conditions: ExperimentCondition[]): ExperimentCondition {
  return conditions.length === 1 ? (conditions[0] as ExperimentCondition) : { kind: 'or', conditions };
}
function attributeIs(name: 'status' | 'statusDetail', value: string): ExperimentCondition {
  return { kind: 'test', field: { source: 'attribute', name }, test: { as: 'string', op: 'eq', value } };
}

/**
 * MLflow's run statuses over Cairn's status and detail (docs/api/mlflow.md): KILLED is FAILED
 * with detail KILLED, SCHEDULED is RUNNING with detail SCHEDULED.
 */
const RUN_STATUSES: Record<string, ExperimentCondition> = {
  RUNNING: and(attributeIs('status', 'RUNNING'), {
    kind: 'not',
    condition: attributeIs('statusDetail', 'SCHEDULED'),
  }),
  SCHEDULED: and(attributeIs('status', 'RUNNING'), attributeIs('statusDetail', 'SCHEDULED')),
  FINISHED: attributeIs('status', 'SUCCEEDED'),
  FAILED: and(attributeIs('status', 'FAILED'), {
    kind: 'not',
    condition: attributeIs('statusDetail', 'KILLED'),
  }),
  KILLED: and(attributeIs('status', 'FAILED'), attributeIs('statusDetail', 'KILLED')),
};

const COMPARISON_OPS: Record<string, ComparisonOp> = {
  '=': 'eq',
  '!=': 'ne',
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
};

function textTest(clause: Clause): ValueTest {
  switch (clause.comparator) {
    case 'IN':
      return { as: 'string', op: 'in', values: clause.value };
    case 'NOT IN':
      return { as: 'string', op: 'not-in', values: clause.value };
    case 'LIKE':
    case 'ILIKE':
      return {
        as: 'string',
        op: 'like',
        pattern: String(clause.value),
        caseInsensitive: clause.comparator === 'ILIKE',
      };
    default:
      return { as: 'string', op: COMPARISON_OPS[clause.comparator] as ComparisonOp, value: String(clause.value) };
  }
}

function numberTest(clause: Clause): ValueTest {
  return { as: 'number', op: COMPARISON_OPS[clause.comparator] as ComparisonOp, value: Number(clause.value) };
}

/** `<location>/<run_id>/artifacts`: a run's artifact URI names its run. */
const ARTIFACT_URI = /\/([^/]+)\/artifacts$/;

function runCondition(clause: Clause): ExperimentCondition {
  const { entity, key } = clause;
  switch (entity) {
    case 'metric':
      return { kind: 'test', field: { source: 'metric', name: key, aggregate: 'latest' }, test: numberTest(clause) };
    case 'parameter':
      return { kind: 'test', field: { source: 'param', name: key }, test: textTest(clause) };
    case 'dataset':
      return { kind: 'input', field: key as InputField, test: textTest(clause) };
    case 'tag': {
      if (key === RUN_NAME_TAG)
        return { kind: 'test', field: { source: 'attribute', name: 'name' }, test: textTest(clause) };
      const other: ExperimentCondition = {
        kind: 'test',
        field: { source: 'other', name: key },
        test: textTest(clause),
      };
      if (!passes('', clause)) return other;
      // A Comet tag (label) reads as an MLflow tag whose value is "".
      return or(other, {
        kind: 'and',
        conditions: [
          { kind: 'missing', field: { source: 'other', name: key }, orEmpty: false },
          { kind: 'has', what: 'tag', match: { op: 'eq', value: key, caseInsensitive: false } },
        ],
      });
    }
    case 'attribute':
      return runAttributeCondition(clause);
  }
}

function runAttributeCondition(clause: Clause): ExperimentCondition {
  switch (clause.key) {
    case 'run_id':
      return { kind: 'test', field: { source: 'attribute', name: 'key' }, test: textTest(clause) };
    case 'run_name':
      return { kind: 'test', field: { source: 'attribute', name: 'name' }, test: textTest(clause) };
    case 'start_time':
      return { kind: 'test', field: { source: 'attribute', name: 'startTime' }, test: numberTest(clause) };
    case 'end_time':
      return { kind: 'test', field: { source: 'attribute', name: 'endTime' }, test: numberTest(clause) };
    case 'status':
      // Each of MLflow's five statuses the clause accepts, compared as MLflow compares the text.
      return {
        kind: 'or',
        conditions: Object.entries(RUN_STATUSES)
          .filter(([status]) => passes(status, clause))
          .map(([, condition]) => condition),
      };
    case 'user_id': {
      // The tag mlflow.user, else the name of the Cairn user who created the run.
      const tag = { source: 'other', name: USER_TAG } as const;
      return or(
        { kind: 'test', field: tag, test: textTest(clause) },
        and(
          { kind: 'missing', field: tag, orEmpty: false },
          { kind: 'test', field: { source: 'attribute', name: 'userName' }, test: textTest(clause) },
        ),
      );
    }
    default: {
      // artifact_uri is <experiment location>/<run_id>/artifacts: = and != compare the run id.
      if (clause.comparator !== '=' && clause.comparator !== '!=') {
        throw invalid(
          `Cairn does not support comparator '${clause.comparator}' on attribute 'artifact_uri'; use '=' or '!='.`,
        );
      }
      const runId = ARTIFACT_URI.exec(String(clause.value))?.[1];
      if (runId === undefined) return { kind: clause.comparator === '=' ? 'or' : 'and', conditions: [] };
      return {
        kind: 'test',
        field: { source: 'attribute', name: 'key' },
        test: { as: 'string', op: clause.comparator === '=' ? 'eq' : 'ne', value: runId },
      };
    }
  }
}

/**
 * A runs/search `filter` as a condition of the query core; undefined for an empty filter.
 * Metrics compare their latest value, parameters and tags their text; a run lacking the field
 * never matches, `!=` included.
 */
export function compileRunFilter(filter: string | undefined): ExperimentCondition | undefined {
  const clauses = parseFilter(filter, RUN_GRAMMAR);
  if (clauses.length === 0) return undefined;
  return and(...clauses.map(runCondition));
}

/** MLflow's default run order, for when compileRunOrder answers undefined: newest start first. */
export const DEFAULT_RUN_ORDER: ExperimentOrder = {
  field: { source: 'attribute', name: 'startTime' },
  direction: 'desc',
};

/**
 * A runs/search `order_by` as the core's order; undefined when empty (MLflow's default,
 * DEFAULT_RUN_ORDER). Every item is checked, but Cairn's keyset order has one field: the first
 * item orders, ties (and the rest) go by run id ascending. Runs lacking the value come last.
 */
export function compileRunOrder(orderBy: readonly string[]): ExperimentOrder | undefined {
  const orders = orderBy.map((item) => {
    const { word, ascending } = parseOrderItem(item);
    const id = identifier(word, RUN_GRAMMAR, RUN_ORDER_ATTRIBUTES, Object.keys(RUN_ORDER_ATTRIBUTES));
    if (id.entity === 'dataset') throw invalid(`Invalid order_by entity type '${id.entity}'`);
    return runOrder(id, ascending ? 'asc' : 'desc');
  });
  return orders[0];
}

function runOrder({ entity, key }: Identifier, direction: 'asc' | 'desc'): ExperimentOrder {
  switch (entity) {
    case 'metric':
      return { field: { source: 'metric', name: key, aggregate: 'latest' }, direction };
    case 'parameter':
      return { field: { source: 'param', name: key }, direction };
    case 'tag':
      return key === RUN_NAME_TAG ? { field: 'name', direction } : { field: { source: 'other', name: key }, direction };
    default:
      break;
  }
  switch (key) {
    case 'run_name':
      return { field: 'name', direction };
    case 'status':
      return { field: { source: 'attribute', name: 'status' }, direction };
    case 'user_id':
      return { field: { source: 'other', name: USER_TAG }, direction };
    case 'start_time':
      return { field: { source: 'attribute', name: 'startTime' }, direction };
    case 'end_time':
      return { field: { source: 'attribute', name: 'endTime' }, direction };
    default:
      // run_id, and artifact_uri: within an experiment the URIs differ by their run id only.
      return { field: { source: 'attribute', name: 'key' }, direction };
  }
}

// ---------------------------------------------------------------------------------------------
// Experiments and the registry: filtered and sorted in memory.

const TAGGED_ENTITIES: Record<string, Entity> = {
  attribute: 'attribute',
  attributes: 'attribute',
  tag: 'tag',
  tags: 'tag',
};

type Getter<T> = (item: T) => string | number | null | undefined;

interface InMemoryGrammar<T> {
  grammar: Grammar;
  /** Attribute values by key; tags are read from `tags`. */
  values: Readonly<Record<string, Getter<T>>>;
  tags: (item: T) => Record<string, string>;
  /**
   * Whether an item lacking a tag passes a `!=` test of it. MLflow's registry searches say so:
   * MLflow 3 clients append ``tag.`mlflow.prompt.is_prompt` != 'true'`` to every registry search
   * to leave prompts out, and expect every untagged model back.
   */
  missingTagIsNotEqual?: boolean;
}

function predicate<T>(filter: string | undefined, spec: InMemoryGrammar<T>): (item: T) => boolean {
  const clauses = parseFilter(filter, spec.grammar);
  const tests = clauses.map((clause) => {
    const get: Getter<T> =
      clause.entity === 'tag'
        ? (item) => {
            const tags = spec.tags(item);
            return Object.hasOwn(tags, clause.key) ? tags[clause.key] : undefined;
          }
        : (spec.values[clause.key] as Getter<T>);
    const missingPasses = spec.missingTagIsNotEqual === true && clause.entity === 'tag' && clause.comparator === '!=';
    return (item: T) => {
      const actual = get(item);
      return actual === undefined && missingPasses ? true : passes(actual, clause);
    };
  });
  return (item) => tests.every((test) => test(item));
}

interface SortKey<T> {
  get: Getter<T>;
  ascending: boolean;
}

function comparing<T>(keys: readonly SortKey<T>[]): (a: T, b: T) => number {
  return (a, b) => {
    for (const { get, ascending } of keys) {
      const [x, y] = [get(a), get(b)];
      // Missing values last in both directions.
      if (x === y) continue;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      const order = x < y ? -1 : x > y ? 1 : 0;
      if (order !== 0) return ascending ? order : -order;
    }
    return 0;
  };
}

/**
 * Order items over a fixed set of keys: the items as given, then each `tiebreaks` key the items
 * do not name. `unknown` makes the error for a key outside `keys`.
 */
function sortKeys<T>(
  orderBy: readonly string[],
  keys: Readonly<Record<string, { key: string; get: Getter<T> }>>,
  unknown: (key: string) => MlflowApiError,
  tiebreaks: readonly { key: string; ascending: boolean }[],
): SortKey<T>[] {
  const named = orderBy.map((item) => {
    const { word, ascending } = parseOrderItem(item);
    const dot = entityDot(word);
    const rawEntity = dot < 0 ? undefined : word.slice(0, dot);
    const name = unquote(dot < 0 ? word : word.slice(dot + 1));
    if (rawEntity !== undefined && TAGGED_ENTITIES[unquote(rawEntity)] !== 'attribute') {
      throw invalid(`Invalid order_by entity type '${unquote(rawEntity)}'`);
    }
    const found = keys[name];
    if (!found) throw unknown(name);
    return { key: found.key, get: found.get, ascending };
  });
  const missing = tiebreaks
    .filter((t) => !named.some((n) => n.key === t.key))
    .map((t) => ({ get: Object.values(keys).find((k) => k.key === t.key)?.get as Getter<T>, ascending: t.ascending }));
  return [...named, ...missing];
}

export interface ExperimentFields {
  experimentId: string;
  name: string;
  creationTime: number;
  lastUpdateTime: number;
  tags: Record<string, string>;
}

const EXPERIMENT_ATTRIBUTES = {
  name: { key: 'name', type: 'string' },
  creation_time: { key: 'creation_time', type: 'number' },
  last_update_time: { key: 'last_update_time', type: 'number' },
} as const;

const EXPERIMENTS: InMemoryGrammar<ExperimentFields> = {
  grammar: {
    entities: TAGGED_ENTITIES,
    identifiers: ['attribute', 'tag'],
    attributes: EXPERIMENT_ATTRIBUTES,
    attributeKeys: Object.keys(EXPERIMENT_ATTRIBUTES),
  },
  values: {
    name: (e) => e.name,
    creation_time: (e) => e.creationTime,
    last_update_time: (e) => e.lastUpdateTime,
  },
  tags: (e) => e.tags,
};

const EXPERIMENT_ORDER_KEYS: Record<string, { key: string; get: Getter<ExperimentFields> }> = {
  name: { key: 'name', get: (e) => e.name },
  experiment_id: { key: 'experiment_id', get: (e) => e.experimentId },
  creation_time: { key: 'creation_time', get: (e) => e.creationTime },
  last_update_time: { key: 'last_update_time', get: (e) => e.lastUpdateTime },
};

/** experiments/search `filter`: name, creation_time, last_update_time and tags.<key>. */
export function experimentPredicate(filter: string | undefined): (e: ExperimentFields) => boolean {
  return predicate(filter, EXPERIMENTS);
}

/**
 * experiments/search `order_by` over name, experiment_id, creation_time, last_update_time.
 * Default creation_time DESC, experiment_id ASC; a given order not naming experiment_id ends
 * with experiment_id DESC, as MLflow's SQL store does.
 */
export function experimentComparator(orderBy: readonly string[]): (a: ExperimentFields, b: ExperimentFields) => number {
  const items = orderBy.length === 0 ? ['creation_time DESC', 'experiment_id ASC'] : orderBy;
  return comparing(
    sortKeys(
      items,
      EXPERIMENT_ORDER_KEYS,
      (key) =>
        invalid(
          `Invalid attribute key '${key}' specified. Valid keys are '${pySet(Object.keys(EXPERIMENT_ORDER_KEYS))}'`,
        ),
      [{ key: 'experiment_id', ascending: false }],
    ),
  );
}

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

const MODEL_ATTRIBUTES = { name: { key: 'name', type: 'string' } } as const;

const REGISTERED_MODELS: InMemoryGrammar<RegisteredModelFields> = {
  grammar: {
    entities: TAGGED_ENTITIES,
    identifiers: ['attribute', 'tag'],
    attributes: MODEL_ATTRIBUTES,
    attributeKeys: Object.keys(MODEL_ATTRIBUTES),
  },
  values: { name: (m) => m.name },
  tags: (m) => m.tags,
  missingTagIsNotEqual: true,
};

const MODEL_ORDER_KEYS: Record<string, { key: string; get: Getter<RegisteredModelFields> }> = {
  name: { key: 'name', get: (m) => m.name },
  timestamp: { key: 'creation_timestamp', get: (m) => m.creationTimestamp },
  creation_timestamp: { key: 'creation_timestamp', get: (m) => m.creationTimestamp },
  last_updated_timestamp: { key: 'last_updated_timestamp', get: (m) => m.lastUpdatedTimestamp },
};

const VERSION_ATTRIBUTES = {
  name: { key: 'name', type: 'string' },
  version_number: { key: 'version_number', type: 'number' },
  run_id: { key: 'run_id', type: 'string', list: true },
  source_path: { key: 'source_path', type: 'string' },
} as const;

const MODEL_VERSIONS: InMemoryGrammar<ModelVersionFields> = {
  grammar: {
    entities: TAGGED_ENTITIES,
    identifiers: ['attribute', 'tag'],
    attributes: VERSION_ATTRIBUTES,
    attributeKeys: Object.keys(VERSION_ATTRIBUTES),
  },
  values: {
    name: (v) => v.name,
    version_number: (v) => v.version,
    run_id: (v) => v.runId,
    source_path: (v) => v.source,
  },
  tags: (v) => v.tags,
  missingTagIsNotEqual: true,
};

const VERSION_ORDER_KEYS: Record<string, { key: string; get: Getter<ModelVersionFields> }> = {
  name: { key: 'name', get: (v) => v.name },
  version_number: { key: 'version_number', get: (v) => v.version },
  timestamp: { key: 'creation_timestamp', get: (v) => v.creationTimestamp },
  creation_timestamp: { key: 'creation_timestamp', get: (v) => v.creationTimestamp },
  last_updated_timestamp: { key: 'last_updated_timestamp', get: (v) => v.lastUpdatedTimestamp },
};

function unknownOrderKey(keys: Record<string, unknown>) {
  return (key: string) =>
    invalid(`Invalid order by key '${key}' specified. Valid keys are '${pySet(Object.keys(keys))}'`);
}

/** registered-models/search `filter`: name and tags.<key>. */
export function registeredModelPredicate(filter: string | undefined): (m: RegisteredModelFields) => boolean {
  return predicate(filter, REGISTERED_MODELS);
}

/** registered-models/search `order_by`; ties (and the default) by name ascending. */
export function registeredModelComparator(
  orderBy: readonly string[],
): (a: RegisteredModelFields, b: RegisteredModelFields) => number {
  return comparing(
    sortKeys(orderBy, MODEL_ORDER_KEYS, unknownOrderKey(MODEL_ORDER_KEYS), [{ key: 'name', ascending: true }]),
  );
}

/** model-versions/search `filter`: name, version_number, run_id (IN too), source_path, tags.<key>. */
export function modelVersionPredicate(filter: string | undefined): (v: ModelVersionFields) => boolean {
  return predicate(filter, MODEL_VERSIONS);
}

/** model-versions/search `order_by`; ties (and the default) by name ascending, then version descending. */
export function modelVersionComparator(
  orderBy: readonly string[],
): (a: ModelVersionFields, b: ModelVersionFields) => number {
  return comparing(
    sortKeys(orderBy, VERSION_ORDER_KEYS, unknownOrderKey(VERSION_ORDER_KEYS), [
      { key: 'name', ascending: true },
      { key: 'version_number', ascending: false },
    ]),
  );
}
