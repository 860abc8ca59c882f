import { InvalidArgumentError } from './errors.js';
import {
  ENVIRONMENT_FIELDS,
  type EnvironmentField,
  type ExperimentAttribute,
  type ExperimentCondition,
  parseIsoDateTime,
  type QueryField,
  type SeriesAggregate,
  type ValueTest,
} from './experiment-query.js';

/**
 * Cairn's experiment query language (docs/api/cairn.md, "The experiment table"): the one text
 * form of an `ExperimentCondition` that the SDK, the CLI and the UI's query bar share, and the
 * column ids the experiment table filters, sorts and shows by.
 *
 * ```
 * expr  := or            or  := and ("or" and)*      and := unary ("and" unary)*
 * unary := "not" unary | "(" expr ")" | test
 * test  := column op literal | column ["not"] "between" literal "and" literal
 *        | column "is" ["not"] "null" | column ["not"] ("contains"|"startswith"|"endswith") string
 * ```
 *
 * Literals are typed: a number makes a number test, a string a text test (an ISO-8601 string on
 * a time column a datetime test), `true`/`false` a boolean test. A literal of a type the column
 * cannot hold is refused (`status > 3`), rather than compiled into a test that matches nothing.
 * `contains`/`startswith`/`endswith` ignore case (as Foundry's text filters do); `=` is exact.
 * On `tags`, `=` and `contains` mean "has this tag" (exact), and their negations "lacks it".
 */

/** The attribute columns of the experiment table. */
export const TABLE_ATTRIBUTES = [
  'key',
  'name',
  'status',
  'running',
  'archived',
  'startTime',
  'endTime',
  'duration',
  'lastUpdated',
  'user',
  'fileName',
  'filePath',
  'gitBranch',
  'gitCommit',
  'tags',
] as const;
export type TableAttribute = (typeof TABLE_ATTRIBUTES)[number];

/** A column of the experiment table, as a column id names it. */
export type TableColumn =
  | { source: 'attribute'; name: TableAttribute }
  | { source: 'param' | 'other'; name: string }
  | { source: 'metric'; name: string; aggregate: SeriesAggregate }
  | { source: 'system'; name: EnvironmentField };

/** Statuses an experiment can have; `status = 'x'` with any other text is a typo, refused. */
const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED'];
const AGGREGATES: readonly SeriesAggregate[] = ['last', 'min', 'max', 'count'];
const TIME_ATTRIBUTES = new Set<TableAttribute>(['startTime', 'endTime', 'lastUpdated']);
/** Deep enough for any filter a person writes, shallow enough that a hostile one cannot exhaust the stack. */
const MAX_DEPTH = 64;
/** Tests per filter: each is a subquery, and SQLite refuses expressions deeper than 1000. */
const MAX_TESTS = 200;

/** How each attribute column reads in a condition, and which literals it takes. */
const ATTRIBUTE_FIELDS: Record<
  Exclude<TableAttribute, 'tags'>,
  { attribute: ExperimentAttribute; type: 'string' | 'number' | 'time' | 'boolean' }
> = {
  key: { attribute: 'key', type: 'string' },
  name: { attribute: 'name', type: 'string' },
  status: { attribute: 'status', type: 'string' },
  running: { attribute: 'running', type: 'boolean' },
  archived: { attribute: 'archived', type: 'boolean' },
  startTime: { attribute: 'startTime', type: 'time' },
  endTime: { attribute: 'endTime', type: 'time' },
  duration: { attribute: 'duration', type: 'number' },
  lastUpdated: { attribute: 'lastUpdated', type: 'time' },
  user: { attribute: 'userName', type: 'string' },
  fileName: { attribute: 'fileName', type: 'string' },
  filePath: { attribute: 'filePath', type: 'string' },
  gitBranch: { attribute: 'gitBranch', type: 'string' },
  gitCommit: { attribute: 'gitCommit', type: 'string' },
};

/**
 * The condition field a column reads; `tags` has none (it is a set, tested with `has`).
 */
export function columnField(column: TableColumn): QueryField | undefined {
  switch (column.source) {
    case 'attribute':
      return column.name === 'tags'
        ? undefined
        : { source: 'attribute', name: ATTRIBUTE_FIELDS[column.name].attribute };
    case 'param':
    case 'other':
      return { source: column.source, name: column.name };
    case 'metric':
      return { source: 'metric', name: column.name, aggregate: column.aggregate };
    case 'system':
      return { source: 'environment', name: column.name };
  }
}

/** The canonical id of a column (`metrics.acc` → `metrics.acc.last`), for fingerprints and messages. */
export function columnId(column: TableColumn): string {
  switch (column.source) {
    case 'attribute':
      return column.name;
    case 'param':
      return `params.${quoteName(column.name)}`;
    case 'other':
      return `others.${quoteName(column.name)}`;
    case 'metric':
      return `metrics.${quoteName(column.name)}.${column.aggregate}`;
    case 'system':
      return `system.${column.name}`;
  }
}

/** A name as a column id writes it: bare when it can be, else in backquotes. */
function quoteName(name: string): string {
  return /^[A-Za-z0-9_\-./]+$/.test(name) && !/\.(last|min|max|count)$/.test(name)
    ? name
    : `\`${name.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;
}

/** Parses a filter; a malformed one is an InvalidArgumentError naming the 1-based position. */
export function parseFilter(text: string): ExperimentCondition {
  return new Parser(text, 'filter').filter();
}

/** Parses one column id (`params.lr`, `metrics.acc.max`, ``params.`learning rate` ``). */
export function parseColumnId(text: string): TableColumn {
  return new Parser(text, 'column id').singleColumn();
}

/** Parses a comma-separated list of column ids; backquoted names may hold commas. */
export function parseColumnList(text: string): { id: string; column: TableColumn }[] {
  return new Parser(text, 'columns').columnList();
}

/** Parses a sort: one column id, `-` in front for descending. */
export function parseSort(text: string): { column: TableColumn; direction: 'asc' | 'desc' } {
  const descending = /^\s*-/.test(text);
  // The minus becomes a blank, so error positions still count in the text as given.
  const column = new Parser(descending ? text.replace('-', ' ') : text, 'sort').singleColumn();
  return { column, direction: descending ? 'desc' : 'asc' };
}

// --- Lexer ---------------------------------------------------------------------------------

interface Piece {
  text: string;
  quoted: boolean;
}

type Token =
  | { kind: 'word'; pieces: Piece[]; raw: string; position: number }
  | { kind: 'string'; value: string; position: number }
  | { kind: 'number'; value: number; raw: string; position: number }
  | { kind: 'op'; value: '=' | '!=' | '<' | '<=' | '>' | '>='; position: number }
  | { kind: '(' | ')' | ','; position: number }
  | { kind: 'end'; position: number };

const NAME_CHAR = /[A-Za-z0-9_\-./]/;
const WORD_START = /[A-Za-z_`]/;
const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?/;

function tokenize(text: string, what: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (at: number, message: string): never => {
    throw invalid(what, at + 1, message);
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, position: start + 1 });
      i++;
    } else if (c === "'" || c === '"') {
      const { value, end } = readQuoted(text, i, c, () => fail(start, 'unterminated string'));
      tokens.push({ kind: 'string', value, position: start + 1 });
      i = end;
    } else if (c === '=' || c === '<' || c === '>' || c === '!') {
      const two = text.slice(i, i + 2);
      if (two === '<=' || two === '>=' || two === '!=') {
        tokens.push({ kind: 'op', value: two, position: start + 1 });
        i += 2;
      } else if (c === '!') {
        fail(start, "expected '!=' ");
      } else {
        tokens.push({ kind: 'op', value: c as '=' | '<' | '>', position: start + 1 });
        i++;
      }
    } else if (WORD_START.test(c)) {
      const pieces: Piece[] = [];
      while (i < text.length) {
        const d = text[i] as string;
        if (d === '`') {
          const { value, end } = readQuoted(text, i, '`', () => fail(i, 'unterminated backquoted name'));
          if (value === '') fail(i, 'empty backquoted name');
          pieces.push({ text: value, quoted: true });
          i = end;
        } else if (NAME_CHAR.test(d)) {
          let j = i;
          while (j < text.length && NAME_CHAR.test(text[j] as string)) j++;
          pieces.push({ text: text.slice(i, j), quoted: false });
          i = j;
        } else {
          break;
        }
      }
      tokens.push({ kind: 'word', pieces, raw: text.slice(start, i), position: start + 1 });
    } else {
      const match = NUMBER.exec(text.slice(i));
      if (!match) fail(start, `unexpected character '${c}'`);
      const raw = (match as RegExpExecArray)[0];
      const next = text[i + raw.length];
      if (next !== undefined && (NAME_CHAR.test(next) || next === '`')) fail(start, 'invalid number');
      tokens.push({ kind: 'number', value: Number(raw), raw, position: start + 1 });
      i += raw.length;
    }
  }
  tokens.push({ kind: 'end', position: text.length + 1 });
  return tokens;
}

/** A quoted text from `start` (its opening quote); backslash escapes the quote and itself. */
function readQuoted(text: string, start: number, quote: string, unterminated: () => never) {
  let value = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\\' && (text[i + 1] === quote || text[i + 1] === '\\')) {
      value += text[i + 1];
      i += 2;
    } else if (c === quote) {
      return { value, end: i + 1 };
    } else {
      value += c;
      i++;
    }
  }
  return unterminated();
}

function invalid(what: string, position: number, message: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid ${what} at position ${position}: ${message}`);
}

// --- Parser --------------------------------------------------------------------------------

type Literal =
  | { type: 'number'; value: number; position: number }
  | { type: 'string'; value: string; position: number }
  | { type: 'boolean'; value: boolean; position: number };

const OPS = { '=': 'eq', '!=': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' } as const;
const TEXT_OPS = { contains: 'contains', startswith: 'begins', endswith: 'ends' } as const;
type TextKeyword = keyof typeof TEXT_OPS;

class Parser {
  private readonly tokens: Token[];
  private at = 0;
  private tests = 0;

  constructor(
    text: string,
    private readonly what: string,
  ) {
    this.tokens = tokenize(text, what);
  }

  filter(): ExperimentCondition {
    if (this.peek().kind === 'end') throw this.error(this.peek(), 'the filter is empty');
    const condition = this.or(0);
    const rest = this.peek();
    if (rest.kind !== 'end') throw this.error(rest, `unexpected ${describe(rest)}; expected 'and', 'or' or the end`);
    return condition;
  }

  singleColumn(): TableColumn {
    const token = this.next();
    if (token.kind !== 'word') throw this.error(token, `expected a column id, got ${describe(token)}`);
    const column = this.column(token);
    const rest = this.peek();
    if (rest.kind !== 'end') throw this.error(rest, `unexpected ${describe(rest)} after the column id`);
    return column;
  }

  columnList(): { id: string; column: TableColumn }[] {
    const columns: { id: string; column: TableColumn }[] = [];
    if (this.peek().kind === 'end') return columns;
    for (;;) {
      const token = this.next();
      if (token.kind !== 'word') throw this.error(token, `expected a column id, got ${describe(token)}`);
      columns.push({ id: token.raw, column: this.column(token) });
      const separator = this.next();
      if (separator.kind === 'end') return columns;
      if (separator.kind !== ',')
        throw this.error(separator, `expected ',' between column ids, got ${describe(separator)}`);
    }
  }

  private or(depth: number): ExperimentCondition {
    const conditions = [this.and(depth)];
    while (this.keyword('or')) {
      this.next();
      conditions.push(this.and(depth));
    }
    return conditions.length === 1 ? (conditions[0] as ExperimentCondition) : { kind: 'or', conditions };
  }

  private and(depth: number): ExperimentCondition {
    const conditions = [this.unary(depth)];
    while (this.keyword('and')) {
      this.next();
      conditions.push(this.unary(depth));
    }
    return conditions.length === 1 ? (conditions[0] as ExperimentCondition) : { kind: 'and', conditions };
  }

  private unary(depth: number): ExperimentCondition {
    const token = this.peek();
    if (depth > MAX_DEPTH) throw this.error(token, `the filter nests deeper than ${MAX_DEPTH} levels`);
    if (this.keyword('not')) {
      this.next();
      return { kind: 'not', condition: this.unary(depth + 1) };
    }
    if (token.kind === '(') {
      this.next();
      const inner = this.or(depth + 1);
      const close = this.next();
      if (close.kind !== ')') throw this.error(close, `expected ')', got ${describe(close)}`);
      return inner;
    }
    return this.test();
  }

  private test(): ExperimentCondition {
    const token = this.next();
    if (token.kind !== 'word' || isKeyword(token)) {
      throw this.error(token, `expected a column id, 'not' or '(', got ${describe(token)}`);
    }
    if (++this.tests > MAX_TESTS) throw this.error(token, `a filter holds at most ${MAX_TESTS} tests`);
    const column = this.column(token);
    const operator = this.next();
    if (operator.kind === 'op') {
      return this.comparison(column, token, OPS[operator.value], this.literal(), operator);
    }
    const keyword = wordOf(operator);
    if (keyword === 'is') {
      const negated = this.keyword('not');
      if (negated) this.next();
      const nullToken = this.next();
      if (wordOf(nullToken) !== 'null')
        throw this.error(nullToken, `expected 'null' after 'is${negated ? ' not' : ''}'`);
      const missing = this.missing(column);
      return negated ? { kind: 'not', condition: missing } : missing;
    }
    let negated = false;
    let op: Token = operator;
    if (keyword === 'not') {
      negated = true;
      op = this.next();
    }
    const opWord = wordOf(op);
    if (opWord === 'between') {
      const low = this.literal();
      const and = this.next();
      if (wordOf(and) !== 'and') throw this.error(and, `expected 'and' between the bounds of 'between'`);
      const high = this.literal();
      return this.between(column, token, low, high, negated, op);
    }
    if (opWord === 'contains' || opWord === 'startswith' || opWord === 'endswith') {
      const value = this.literal();
      if (value.type !== 'string') {
        throw this.error(value, `'${opWord}' takes a quoted string, got ${literalText(value)}`);
      }
      return this.textMatch(column, token, opWord, value.value, negated);
    }
    throw this.error(
      op,
      negated
        ? `expected 'between', 'contains', 'startswith' or 'endswith' after 'not', got ${describe(op)}`
        : `expected an operator (=, !=, <, <=, >, >=, between, is, contains, startswith, endswith) after ${token.raw}, got ${describe(op)}`,
    );
  }

  /** column op literal */
  private comparison(
    column: TableColumn,
    at: Token,
    op: (typeof OPS)[keyof typeof OPS],
    literal: Literal,
    opToken: Token,
  ): ExperimentCondition {
    if (column.source === 'attribute' && column.name === 'tags') {
      if (op !== 'eq' && op !== 'ne') throw this.error(opToken, `tags compare with =, != or contains only`);
      if (literal.type !== 'string') throw this.error(literal, `tags are text; compare them with a quoted string`);
      const has = hasTag('eq', literal.value, false);
      return op === 'eq' ? has : { kind: 'not', condition: has };
    }
    const field = columnField(column) as QueryField;
    if (literal.type === 'boolean') {
      this.expectType(column, at, literal, 'boolean');
      if (op !== 'eq' && op !== 'ne') throw this.error(opToken, 'booleans compare with = and != only');
      return { kind: 'test', field, test: { as: 'boolean', op, value: literal.value } };
    }
    if (literal.type === 'number') {
      this.expectType(column, at, literal, 'number');
      return { kind: 'test', field, test: { as: 'number', op, value: literal.value } };
    }
    if (isTimeColumn(column)) {
      return { kind: 'test', field, test: { as: 'datetime', op, value: this.datetime(literal) } };
    }
    this.expectType(column, at, literal, 'string');
    if (column.source === 'attribute' && column.name === 'status' && (op === 'eq' || op === 'ne')) {
      if (!STATUSES.includes(literal.value)) {
        throw this.error(literal, `status is one of ${STATUSES.join(', ')}, got '${literal.value}'`);
      }
    }
    return { kind: 'test', field, test: { as: 'string', op, value: literal.value } };
  }

  private between(
    column: TableColumn,
    at: Token,
    low: Literal,
    high: Literal,
    negated: boolean,
    opToken: Token,
  ): ExperimentCondition {
    if (column.source === 'attribute' && column.name === 'tags') throw this.error(opToken, `tags have no order`);
    const field = columnField(column) as QueryField;
    const op = negated ? 'not-between' : 'between';
    if (low.type === 'boolean' || high.type === 'boolean') {
      throw this.error(low.type === 'boolean' ? low : high, `'between' takes numbers or strings, not booleans`);
    }
    if (isTimeColumn(column) && low.type === 'string' && high.type === 'string') {
      return {
        kind: 'test',
        field,
        test: { as: 'number', op, low: this.datetime(low), high: this.datetime(high) },
      };
    }
    if (low.type !== high.type) {
      throw this.error(high, `both bounds of 'between' must be numbers or both strings`);
    }
    this.expectType(column, at, low, low.type);
    const test: ValueTest =
      low.type === 'number'
        ? { as: 'number', op, low: low.value, high: high.value as number }
        : { as: 'string', op, low: low.value, high: high.value as string };
    return { kind: 'test', field, test };
  }

  private textMatch(
    column: TableColumn,
    at: Token,
    keyword: TextKeyword,
    value: string,
    negated: boolean,
  ): ExperimentCondition {
    if (column.source === 'attribute' && column.name === 'tags') {
      // `tags contains 'x'` asks for the tag x, not for a tag holding the text x.
      const has =
        keyword === 'contains'
          ? hasTag('eq', value, false)
          : hasTag(TEXT_OPS[keyword] as 'begins' | 'ends', value, true);
      return negated ? { kind: 'not', condition: has } : has;
    }
    const kind = columnKind(column);
    if (kind !== 'string' && kind !== 'any' && kind !== 'number-or-string') {
      throw this.error(
        at,
        `${columnId(column)} holds ${kind === 'time' ? 'times' : `${kind}s`}; '${keyword}' needs text`,
      );
    }
    const base = TEXT_OPS[keyword];
    const op = negated ? (`not-${base}` as const) : base;
    return {
      kind: 'test',
      field: columnField(column) as QueryField,
      test: { as: 'string', op, value, caseInsensitive: true },
    };
  }

  private missing(column: TableColumn): ExperimentCondition {
    if (column.source === 'attribute' && column.name === 'tags') {
      // Every tag begins with the empty text: "has a tag beginning with ''" is "has any tag".
      return { kind: 'not', condition: hasTag('begins', '', false) };
    }
    return { kind: 'missing', field: columnField(column) as QueryField, orEmpty: false };
  }

  /** Refuses a literal the column cannot hold, so a typo is an error rather than an empty table. */
  private expectType(column: TableColumn, at: Token, literal: Literal, type: Literal['type']): void {
    const kind = columnKind(column);
    if (kind === 'any') return;
    if (kind === 'number-or-string' && type !== 'boolean') return;
    const accepted = kind === 'time' ? 'number' : kind;
    if (accepted === type) return;
    const holds =
      kind === 'time'
        ? 'times (epoch ms, or ISO-8601 strings with a zone)'
        : kind === 'number-or-string'
          ? 'numbers or text'
          : kind === 'string'
            ? 'text; compare it with a quoted string'
            : `${kind}s`;
    throw this.error(
      literal,
      `${at.kind === 'word' ? at.raw : columnId(column)} holds ${holds}, not ${literalText(literal)}`,
    );
  }

  private datetime(literal: Literal & { type: 'string' }): number {
    const ms = parseIsoDateTime(literal.value);
    if (ms === undefined) {
      throw this.error(
        literal,
        `expected an ISO-8601 date-time with a zone (2026-11-01T00:00:00Z), got '${literal.value}'`,
      );
    }
    return ms;
  }

  private literal(): Literal {
    const token = this.next();
    if (token.kind === 'number') return { type: 'number', value: token.value, position: token.position };
    if (token.kind === 'string') return { type: 'string', value: token.value, position: token.position };
    const word = wordOf(token);
    if (word === 'true' || word === 'false')
      return { type: 'boolean', value: word === 'true', position: token.position };
    if (word === 'null') throw this.error(token, "null is not a value; use 'is null' or 'is not null'");
    throw this.error(token, `expected a number, a quoted string, true or false, got ${describe(token)}`);
  }

  /** A column id token: an attribute, or a source prefix and a name. */
  private column(token: Token & { kind: 'word' }): TableColumn {
    const [first, ...rest] = token.pieces;
    if (!first || first.quoted) throw this.error(token, `unknown column ${token.raw}`);
    const dot = first.text.indexOf('.');
    const prefix = (dot < 0 ? first.text : first.text.slice(0, dot)).toLowerCase();
    const namePieces =
      dot < 0
        ? rest
        : [{ text: first.text.slice(dot + 1), quoted: false }, ...rest].filter((p) => p.quoted || p.text !== '');
    if (dot < 0) {
      if (rest.length > 0) throw this.error(token, `unknown column ${token.raw}`);
      return this.attribute(token, first.text);
    }
    const name = namePieces.map((p) => p.text).join('');
    if (namePieces.length === 0) throw this.error(token, `${prefix}. needs a name after the dot`);
    switch (prefix) {
      case 'attributes':
        if (namePieces.some((p) => p.quoted)) throw this.error(token, `unknown attribute ${name}`);
        return this.attribute(token, name);
      case 'params':
        return { source: 'param', name };
      case 'others':
        return { source: 'other', name };
      case 'metrics':
        return this.metric(token, namePieces);
      case 'system': {
        const field = ENVIRONMENT_FIELDS.find((f) => f.toLowerCase() === name.toLowerCase());
        if (!field || namePieces.some((p) => p.quoted)) {
          throw this.error(token, `unknown system field ${name}; fields are ${ENVIRONMENT_FIELDS.join(', ')}`);
        }
        return { source: 'system', name: field };
      }
      default:
        throw this.error(
          token,
          `unknown column ${token.raw}; columns are attributes (${TABLE_ATTRIBUTES.join(', ')}) or start with params., others., metrics. or system.`,
        );
    }
  }

  private attribute(token: Token, text: string): TableColumn {
    const name = TABLE_ATTRIBUTES.find((a) => a.toLowerCase() === text.toLowerCase());
    if (!name) {
      throw this.error(
        token,
        `unknown column ${text}; columns are attributes (${TABLE_ATTRIBUTES.join(', ')}) or start with params., others., metrics. or system.`,
      );
    }
    return { source: 'attribute', name };
  }

  /** `metrics.<name>[.last|.min|.max|.count]`: an aggregate suffix is read outside backquotes only. */
  private metric(token: Token, pieces: Piece[]): TableColumn {
    const last = pieces[pieces.length - 1] as Piece;
    const suffix = last.quoted ? undefined : /\.(last|min|max|count)$/.exec(last.text);
    if (!suffix) return { source: 'metric', name: pieces.map((p) => p.text).join(''), aggregate: 'last' };
    const aggregate = suffix[1] as SeriesAggregate;
    const trimmed = [...pieces.slice(0, -1), { text: last.text.slice(0, -suffix[0].length), quoted: false }];
    const name = trimmed.map((p) => p.text).join('');
    if (name === '') throw this.error(token, `metrics.${aggregate} needs a metric name before .${aggregate}`);
    if (!AGGREGATES.includes(aggregate)) throw this.error(token, `unknown aggregate ${aggregate}`);
    return { source: 'metric', name, aggregate };
  }

  private keyword(word: string): boolean {
    return wordOf(this.peek()) === word;
  }

  private peek(): Token {
    return this.tokens[this.at] as Token;
  }

  private next(): Token {
    const token = this.tokens[this.at] as Token;
    if (token.kind !== 'end') this.at++;
    return token;
  }

  private error(token: { position: number }, message: string): InvalidArgumentError {
    return invalid(this.what, token.position, message);
  }
}

const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'between',
  'is',
  'null',
  'contains',
  'startswith',
  'endswith',
  'true',
  'false',
]);

/** The keyword a token spells (lower case), if it is a bare single word. */
function wordOf(token: Token): string | undefined {
  if (token.kind !== 'word' || token.pieces.length !== 1 || token.pieces[0]?.quoted) return undefined;
  const word = token.raw.toLowerCase();
  return KEYWORDS.has(word) ? word : undefined;
}

function isKeyword(token: Token): boolean {
  return wordOf(token) !== undefined;
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the text';
    case 'word':
      return isKeyword(token) ? `'${token.raw}'` : token.raw;
    case 'string':
      return `the string '${token.value}'`;
    case 'number':
      return `the number ${token.raw}`;
    case 'op':
      return `'${token.value}'`;
    default:
      return `'${token.kind}'`;
  }
}

function literalText(literal: Literal): string {
  return literal.type === 'string' ? `the string '${literal.value}'` : `the ${literal.type} ${literal.value}`;
}

/** What literals a column takes: `any` for params and others, whose values carry their own types. */
function columnKind(column: TableColumn): 'string' | 'number' | 'time' | 'boolean' | 'number-or-string' | 'any' {
  switch (column.source) {
    case 'attribute':
      return column.name === 'tags' ? 'string' : ATTRIBUTE_FIELDS[column.name].type;
    case 'param':
    case 'other':
      return 'any';
    case 'metric':
      return 'number';
    case 'system':
      return 'number-or-string';
  }
}

/** Columns holding times (epoch ms): `startTime`, `endTime`, `lastUpdated`. */
export function isTimeColumn(column: TableColumn): boolean {
  return column.source === 'attribute' && TIME_ATTRIBUTES.has(column.name);
}

function hasTag(op: 'eq' | 'begins' | 'ends', value: string, caseInsensitive: boolean): ExperimentCondition {
  return { kind: 'has', what: 'tag', match: { op, value, caseInsensitive } };
}
