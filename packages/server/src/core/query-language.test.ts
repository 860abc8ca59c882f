import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.js';
import type { ExperimentCondition } from './experiment-query.js';
import { columnId, parseColumnId, parseColumnList, parseFilter, parseSort } from './query-language.js';

const param = (name: string) => ({ source: 'param', name }) as const;
const attribute = (name: string) => ({ source: 'attribute', name }) as const;
const test = (field: unknown, t: unknown): ExperimentCondition =>
  ({ kind: 'test', field, test: t }) as ExperimentCondition;

/** The message of the InvalidArgumentError that parsing `text` throws. */
function errorOf(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
  throw new Error('expected the text to be refused');
}

describe('parseFilter', () => {
  it('types literals: numbers make number tests, strings text tests, booleans boolean tests', () => {
    expect(parseFilter('params.lr < 0.1')).toEqual(test(param('lr'), { as: 'number', op: 'lt', value: 0.1 }));
    expect(parseFilter("params.optimizer = 'adam'")).toEqual(
      test(param('optimizer'), { as: 'string', op: 'eq', value: 'adam' }),
    );
    expect(parseFilter('params.flag != true')).toEqual(test(param('flag'), { as: 'boolean', op: 'ne', value: true }));
    expect(parseFilter('others.seed >= -1.5e3')).toEqual(
      test({ source: 'other', name: 'seed' }, { as: 'number', op: 'ge', value: -1500 }),
    );
    expect(parseFilter('params.x <= .5')).toEqual(test(param('x'), { as: 'number', op: 'le', value: 0.5 }));
    expect(parseFilter('params.x > +2')).toEqual(test(param('x'), { as: 'number', op: 'gt', value: 2 }));
  });

  it('reads every source of column ids', () => {
    expect(parseFilter('metrics.loss.min <= 0.2')).toEqual(
      test({ source: 'metric', name: 'loss', aggregate: 'min' }, { as: 'number', op: 'le', value: 0.2 }),
    );
    expect(parseFilter('metrics.acc > 0.5')).toEqual(
      test({ source: 'metric', name: 'acc', aggregate: 'last' }, { as: 'number', op: 'gt', value: 0.5 }),
    );
    expect(parseFilter('metrics.train/loss.count = 10')).toEqual(
      test({ source: 'metric', name: 'train/loss', aggregate: 'count' }, { as: 'number', op: 'eq', value: 10 }),
    );
    expect(parseFilter("system.hostname = 'gpu-3'")).toEqual(
      test({ source: 'environment', name: 'hostname' }, { as: 'string', op: 'eq', value: 'gpu-3' }),
    );
    expect(parseFilter('system.pid > 100')).toEqual(
      test({ source: 'environment', name: 'pid' }, { as: 'number', op: 'gt', value: 100 }),
    );
    expect(parseFilter("user = 'ada'")).toEqual(test(attribute('userName'), { as: 'string', op: 'eq', value: 'ada' }));
    expect(parseFilter("attributes.name = 'x'")).toEqual(
      test(attribute('name'), { as: 'string', op: 'eq', value: 'x' }),
    );
    expect(parseFilter('archived = true')).toEqual(
      test(attribute('archived'), { as: 'boolean', op: 'eq', value: true }),
    );
    expect(parseFilter('running = false')).toEqual(
      test(attribute('running'), { as: 'boolean', op: 'eq', value: false }),
    );
    expect(parseFilter('duration > 60000')).toEqual(
      test(attribute('duration'), { as: 'number', op: 'gt', value: 60000 }),
    );
    expect(parseFilter("gitBranch = 'main'")).toEqual(
      test(attribute('gitBranch'), { as: 'string', op: 'eq', value: 'main' }),
    );
    expect(parseFilter("key = 'abc'")).toEqual(test(attribute('key'), { as: 'string', op: 'eq', value: 'abc' }));
  });

  it('reads dotted names, backquoted names and aggregates outside backquotes', () => {
    expect(parseFilter("params.optimizer.name = 'sgd'")).toEqual(
      test(param('optimizer.name'), { as: 'string', op: 'eq', value: 'sgd' }),
    );
    expect(parseFilter('params.`learning rate` < 1')).toEqual(
      test(param('learning rate'), { as: 'number', op: 'lt', value: 1 }),
    );
    expect(parseFilter('metrics.`loss (val)`.max > 1')).toEqual(
      test({ source: 'metric', name: 'loss (val)', aggregate: 'max' }, { as: 'number', op: 'gt', value: 1 }),
    );
    expect(parseFilter('metrics.`a.max` > 1')).toEqual(
      test({ source: 'metric', name: 'a.max', aggregate: 'last' }, { as: 'number', op: 'gt', value: 1 }),
    );
    expect(parseFilter('params.`it\\`s` = 1')).toEqual(test(param('it`s'), { as: 'number', op: 'eq', value: 1 }));
    expect(parseFilter('params.a`b c`d = 1')).toEqual(test(param('ab cd'), { as: 'number', op: 'eq', value: 1 }));
  });

  it('reads quoted strings in either quote with backslash escapes', () => {
    expect(parseFilter(`name = "it's"`)).toEqual(test(attribute('name'), { as: 'string', op: 'eq', value: "it's" }));
    expect(parseFilter("name = 'say \\'hi\\''")).toEqual(
      test(attribute('name'), { as: 'string', op: 'eq', value: "say 'hi'" }),
    );
    expect(parseFilter("filePath = 'C:\\new\\\\x'")).toEqual(
      test(attribute('filePath'), { as: 'string', op: 'eq', value: 'C:\\new\\x' }),
    );
    expect(parseFilter("name = ''")).toEqual(test(attribute('name'), { as: 'string', op: 'eq', value: '' }));
  });

  it('gives not over and over or, and flattens chains', () => {
    const a = test(param('a'), { as: 'number', op: 'eq', value: 1 });
    const b = test(param('b'), { as: 'number', op: 'eq', value: 2 });
    const c = test(param('c'), { as: 'number', op: 'eq', value: 3 });
    expect(parseFilter('params.a = 1 or params.b = 2 and params.c = 3')).toEqual({
      kind: 'or',
      conditions: [a, { kind: 'and', conditions: [b, c] }],
    });
    expect(parseFilter('(params.a = 1 or params.b = 2) and params.c = 3')).toEqual({
      kind: 'and',
      conditions: [{ kind: 'or', conditions: [a, b] }, c],
    });
    expect(parseFilter('not params.a = 1 and params.b = 2')).toEqual({
      kind: 'and',
      conditions: [{ kind: 'not', condition: a }, b],
    });
    expect(parseFilter('not (params.a = 1 and params.b = 2)')).toEqual({
      kind: 'not',
      condition: { kind: 'and', conditions: [a, b] },
    });
    expect(parseFilter('params.a = 1 and params.b = 2 and params.c = 3')).toEqual({
      kind: 'and',
      conditions: [a, b, c],
    });
    expect(parseFilter('not not params.a = 1')).toEqual({ kind: 'not', condition: { kind: 'not', condition: a } });
    expect(parseFilter('((params.a = 1))')).toEqual(a);
  });

  it('takes keywords in any case', () => {
    expect(parseFilter('NOT params.a = 1 AND params.b Between 1 AnD 2 Or params.c IS NOT NULL')).toEqual({
      kind: 'or',
      conditions: [
        {
          kind: 'and',
          conditions: [
            { kind: 'not', condition: test(param('a'), { as: 'number', op: 'eq', value: 1 }) },
            test(param('b'), { as: 'number', op: 'between', low: 1, high: 2 }),
          ],
        },
        { kind: 'not', condition: { kind: 'missing', field: param('c'), orEmpty: false } },
      ],
    });
    expect(parseFilter("name STARTSWITH 'r' and params.f = TRUE")).toEqual({
      kind: 'and',
      conditions: [
        test(attribute('name'), { as: 'string', op: 'begins', value: 'r', caseInsensitive: true }),
        test(param('f'), { as: 'boolean', op: 'eq', value: true }),
      ],
    });
  });

  it('reads between, not between, is null and the text operators', () => {
    expect(parseFilter("name between 'a' and 'm'")).toEqual(
      test(attribute('name'), { as: 'string', op: 'between', low: 'a', high: 'm' }),
    );
    expect(parseFilter('params.lr not between 0.1 and 0.2')).toEqual(
      test(param('lr'), { as: 'number', op: 'not-between', low: 0.1, high: 0.2 }),
    );
    expect(parseFilter('others.seed is null')).toEqual({
      kind: 'missing',
      field: { source: 'other', name: 'seed' },
      orEmpty: false,
    });
    expect(parseFilter("name contains 'res'")).toEqual(
      test(attribute('name'), { as: 'string', op: 'contains', value: 'res', caseInsensitive: true }),
    );
    expect(parseFilter("name not endswith 'x'")).toEqual(
      test(attribute('name'), { as: 'string', op: 'not-ends', value: 'x', caseInsensitive: true }),
    );
    expect(parseFilter("system.os not contains 'linux'")).toEqual(
      test(
        { source: 'environment', name: 'os' },
        { as: 'string', op: 'not-contains', value: 'linux', caseInsensitive: true },
      ),
    );
  });

  it('reads ISO-8601 strings on time columns as datetimes, and numbers as epoch ms', () => {
    const ms = Date.UTC(2026, 10, 1);
    expect(parseFilter("startTime >= '2026-11-01T00:00:00Z'")).toEqual(
      test(attribute('startTime'), { as: 'datetime', op: 'ge', value: ms }),
    );
    expect(parseFilter("endTime < '2026-11-01T01:00:00+01:00'")).toEqual(
      test(attribute('endTime'), { as: 'datetime', op: 'lt', value: ms }),
    );
    expect(parseFilter(`lastUpdated > ${ms}`)).toEqual(
      test(attribute('lastUpdated'), { as: 'number', op: 'gt', value: ms }),
    );
    expect(parseFilter("startTime between '2026-11-01T00:00:00Z' and '2026-11-02T00:00:00Z'")).toEqual(
      test(attribute('startTime'), { as: 'number', op: 'between', low: ms, high: ms + 86_400_000 }),
    );
  });

  it('reads tags as a set: = and contains ask for a tag, their negations for its absence', () => {
    const has = { kind: 'has', what: 'tag', match: { op: 'eq', value: 'baseline', caseInsensitive: false } };
    expect(parseFilter("tags contains 'baseline'")).toEqual(has);
    expect(parseFilter("tags = 'baseline'")).toEqual(has);
    expect(parseFilter("tags != 'baseline'")).toEqual({ kind: 'not', condition: has });
    expect(parseFilter("tags not contains 'baseline'")).toEqual({ kind: 'not', condition: has });
    expect(parseFilter("not (tags contains 'baseline' or status = 'FAILED')")).toEqual({
      kind: 'not',
      condition: {
        kind: 'or',
        conditions: [has, test(attribute('status'), { as: 'string', op: 'eq', value: 'FAILED' })],
      },
    });
    expect(parseFilter("tags startswith 'ab'")).toEqual({
      kind: 'has',
      what: 'tag',
      match: { op: 'begins', value: 'ab', caseInsensitive: true },
    });
    expect(parseFilter('tags is null')).toEqual({
      kind: 'not',
      condition: { kind: 'has', what: 'tag', match: { op: 'begins', value: '', caseInsensitive: false } },
    });
  });

  it.each([
    ['', 1, 'the filter is empty'],
    ['   ', 4, 'the filter is empty'],
    ['params.lr <', 12, 'expected a number'],
    ['params.lr 0.1', 11, 'expected an operator'],
    ['params.lr < 0.1 and', 20, 'expected a column id'],
    ['params.lr < 0.1 params.x = 1', 17, "expected 'and', 'or' or the end"],
    ['(params.lr < 0.1', 17, "expected ')'"],
    ['params.lr < 0.1)', 16, 'unexpected'],
    ["name = 'open", 8, 'unterminated string'],
    ['params.`open = 1', 8, 'unterminated backquoted name'],
    ['foo = 1', 1, 'unknown column foo'],
    ['metricz.acc > 1', 1, 'unknown column metricz.acc'],
    ['system.gpu = 1', 1, 'unknown system field gpu'],
    ['params. = 1', 1, 'needs a name'],
    ['metrics..max > 1', 1, 'needs a metric name'],
    ['status > 3', 10, 'status holds text'],
    ["duration > 'long'", 12, 'duration holds numbers'],
    ["startTime > 'yesterday'", 13, 'ISO-8601'],
    ['running = 1', 11, 'running holds booleans'],
    ['params.flag < true', 13, 'booleans compare with = and != only'],
    ["metrics.acc = 'high'", 15, 'metrics.acc holds numbers'],
    ["metrics.acc contains 'x'", 1, "'contains' needs text"],
    ['name contains 3', 15, "'contains' takes a quoted string"],
    ["status = 'DONE'", 10, 'status is one of RUNNING, SUCCEEDED, FAILED'],
    ['params.x = null', 12, "use 'is null'"],
    ['params.x is empty', 13, "expected 'null'"],
    ["params.x between 1 and 'b'", 24, 'both bounds'],
    ['params.x between 1 or 2', 20, "expected 'and'"],
    ['params.x not = 1', 14, "after 'not'"],
    ['tags < 1', 6, 'tags compare with'],
    ['tags = 1', 8, 'tags are text'],
    ['params.x = 1abc', 12, 'invalid number'],
    ['params.x ! 1', 10, "expected '!='"],
    ['params.x = 1 # comment', 14, "unexpected character '#'"],
    ['and = 1', 1, 'expected a column id'],
  ])('refuses %j at position %i', (text, position, message) => {
    const error = errorOf(() => parseFilter(text));
    expect(error).toContain(`invalid filter at position ${position}:`);
    expect(error).toContain(message);
  });

  it('bounds nesting and the number of tests', () => {
    expect(errorOf(() => parseFilter(`${'('.repeat(100)}params.a = 1${')'.repeat(100)}`))).toContain('nests deeper');
    expect(errorOf(() => parseFilter(`${'not '.repeat(100)}params.a = 1`))).toContain('nests deeper');
    const many = Array.from({ length: 201 }, (_, i) => `params.p${i} = ${i}`).join(' or ');
    expect(errorOf(() => parseFilter(many))).toContain('at most 200 tests');
    expect(() => parseFilter(Array.from({ length: 200 }, (_, i) => `params.p${i} = ${i}`).join(' or '))).not.toThrow();
  });
});

describe('column ids, lists and sorts', () => {
  it('parses column ids and writes them back canonically', () => {
    expect(parseColumnId('metrics.acc')).toEqual({ source: 'metric', name: 'acc', aggregate: 'last' });
    expect(columnId(parseColumnId('metrics.acc'))).toBe('metrics.acc.last');
    expect(columnId(parseColumnId('params.`learning rate`'))).toBe('params.`learning rate`');
    expect(columnId(parseColumnId('metrics.`a.max`'))).toBe('metrics.`a.max`.last');
    expect(columnId(parseColumnId('attributes.user'))).toBe('user');
    expect(columnId(parseColumnId('System.OS'))).toBe('system.os');
    expect(parseColumnId('tags')).toEqual({ source: 'attribute', name: 'tags' });
    expect(errorOf(() => parseColumnId('name status'))).toContain('invalid column id at position 6');
  });

  it('splits column lists on commas outside backquotes, keeping ids as spelled', () => {
    expect(parseColumnList('name, params.`a,b` ,metrics.acc.max')).toEqual([
      { id: 'name', column: attribute('name') },
      { id: 'params.`a,b`', column: param('a,b') },
      { id: 'metrics.acc.max', column: { source: 'metric', name: 'acc', aggregate: 'max' } },
    ]);
    expect(parseColumnList('')).toEqual([]);
    expect(errorOf(() => parseColumnList('name,,status'))).toContain('invalid columns at position 6');
    expect(errorOf(() => parseColumnList('name status'))).toContain("expected ','");
  });

  it('parses sorts with a leading minus for descending, counting positions in the text given', () => {
    expect(parseSort('-metrics.acc.max')).toEqual({
      column: { source: 'metric', name: 'acc', aggregate: 'max' },
      direction: 'desc',
    });
    expect(parseSort('params.lr')).toEqual({ column: param('lr'), direction: 'asc' });
    expect(errorOf(() => parseSort('-nope'))).toContain('invalid sort at position 2: unknown column nope');
    expect(errorOf(() => parseSort('-'))).toContain('expected a column id');
  });
});
