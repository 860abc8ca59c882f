import { describe, expect, it } from 'vitest';
import type { ExperimentCondition } from '../../../core/experiment-query.js';
import { MlflowApiError } from './mlflow-errors.js';
import {
  compileRunFilter,
  compileRunOrder,
  type ExperimentFields,
  experimentComparator,
  experimentPredicate,
  type ModelVersionFields,
  modelVersionComparator,
  modelVersionPredicate,
  type RegisteredModelFields,
  registeredModelComparator,
  registeredModelPredicate,
} from './mlflow-filter.js';

function refused(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MlflowApiError);
    expect((error as MlflowApiError).errorCode).toBe('INVALID_PARAMETER_VALUE');
    return (error as Error).message;
  }
  throw new Error('expected INVALID_PARAMETER_VALUE');
}

const test = (field: object, t: object): ExperimentCondition =>
  ({ kind: 'test', field, test: t }) as ExperimentCondition;

describe('compileRunFilter', () => {
  it('reads nothing from an empty or blank filter', () => {
    expect(compileRunFilter(undefined)).toBeUndefined();
    expect(compileRunFilter('  ')).toBeUndefined();
  });

  it('compiles metrics to their latest value, params and tags to text tests', () => {
    expect(compileRunFilter('metrics.acc > 0.9')).toEqual(
      test({ source: 'metric', name: 'acc', aggregate: 'latest' }, { as: 'number', op: 'gt', value: 0.9 }),
    );
    expect(compileRunFilter('metric.`val loss` <= -1e-3')).toEqual(
      test({ source: 'metric', name: 'val loss', aggregate: 'latest' }, { as: 'number', op: 'le', value: -0.001 }),
    );
    expect(compileRunFilter(`params.model = "LogisticRegression" and parameters."learning-rate" != '0.1'`)).toEqual({
      kind: 'and',
      conditions: [
        test({ source: 'param', name: 'model' }, { as: 'string', op: 'eq', value: 'LogisticRegression' }),
        test({ source: 'param', name: 'learning-rate' }, { as: 'string', op: 'ne', value: '0.1' }),
      ],
    });
    expect(compileRunFilter("params.opt LIKE 'ad%' AND params.opt ilike '_DAM'")).toEqual({
      kind: 'and',
      conditions: [
        test({ source: 'param', name: 'opt' }, { as: 'string', op: 'like', pattern: 'ad%', caseInsensitive: false }),
        test({ source: 'param', name: 'opt' }, { as: 'string', op: 'like', pattern: '_DAM', caseInsensitive: true }),
      ],
    });
    expect(compileRunFilter("tags.`mlflow.source.type` = 'LOCAL'")).toEqual(
      test({ source: 'other', name: 'mlflow.source.type' }, { as: 'string', op: 'eq', value: 'LOCAL' }),
    );
  });

  it('lets a tag test that holds for "" match a Comet label of that name', () => {
    expect(compileRunFilter("tags.release != 'x'")).toEqual({
      kind: 'or',
      conditions: [
        test({ source: 'other', name: 'release' }, { as: 'string', op: 'ne', value: 'x' }),
        {
          kind: 'and',
          conditions: [
            { kind: 'missing', field: { source: 'other', name: 'release' }, orEmpty: false },
            { kind: 'has', what: 'tag', match: { op: 'eq', value: 'release', caseInsensitive: false } },
          ],
        },
      ],
    });
  });

  it('maps the run name (tag and aliases), run id lists and times to attributes', () => {
    const named = test({ source: 'attribute', name: 'name' }, { as: 'string', op: 'eq', value: 'r1' });
    expect(compileRunFilter(`tags."mlflow.runName" = 'r1'`)).toEqual(named);
    expect(compileRunFilter("attributes.run_name = 'r1'")).toEqual(named);
    expect(compileRunFilter("`Run Name` = 'r1'")).toEqual(named);
    expect(compileRunFilter("attr.`run name` = 'r1'")).toEqual(named);
    expect(compileRunFilter(`run.run_id IN ('a', "b")`)).toEqual(
      test({ source: 'attribute', name: 'key' }, { as: 'string', op: 'in', values: ['a', 'b'] }),
    );
    expect(compileRunFilter("run_id not in ('a')")).toEqual(
      test({ source: 'attribute', name: 'key' }, { as: 'string', op: 'not-in', values: ['a'] }),
    );
    expect(compileRunFilter('created >= 1700000000000 and attributes.end_time < 5')).toEqual({
      kind: 'and',
      conditions: [
        test({ source: 'attribute', name: 'startTime' }, { as: 'number', op: 'ge', value: 1_700_000_000_000 }),
        test({ source: 'attribute', name: 'endTime' }, { as: 'number', op: 'lt', value: 5 }),
      ],
    });
  });

  it('expands a status test into the MLflow statuses it accepts', () => {
    const killed = compileRunFilter("status = 'KILLED'");
    expect(killed).toEqual({
      kind: 'or',
      conditions: [
        {
          kind: 'and',
          conditions: [
            test({ source: 'attribute', name: 'status' }, { as: 'string', op: 'eq', value: 'FAILED' }),
            test({ source: 'attribute', name: 'statusDetail' }, { as: 'string', op: 'eq', value: 'KILLED' }),
          ],
        },
      ],
    });
    const finished = compileRunFilter("attributes.status = 'FINISHED'");
    expect(JSON.stringify(finished)).toContain('"SUCCEEDED"');
    expect((compileRunFilter("status != 'RUNNING'") as { conditions: unknown[] }).conditions).toHaveLength(4);
    expect((compileRunFilter("status LIKE '%ED'") as { conditions: unknown[] }).conditions).toHaveLength(4);
    expect((compileRunFilter("status ILIKE 'running'") as { conditions: unknown[] }).conditions).toHaveLength(1);
    expect(compileRunFilter("status = 'running'")).toEqual({ kind: 'or', conditions: [] });
  });

  it('reads user_id from tag mlflow.user, else the creating user', () => {
    const tag = { source: 'other', name: 'mlflow.user' };
    expect(compileRunFilter("user_id = 'ada'")).toEqual({
      kind: 'or',
      conditions: [
        test(tag, { as: 'string', op: 'eq', value: 'ada' }),
        {
          kind: 'and',
          conditions: [
            { kind: 'missing', field: tag, orEmpty: false },
            test({ source: 'attribute', name: 'userName' }, { as: 'string', op: 'eq', value: 'ada' }),
          ],
        },
      ],
    });
  });

  it('compares artifact_uri by the run id it names, and refuses other comparators', () => {
    expect(compileRunFilter("artifact_uri = 'mlflow-artifacts:/0/abc/artifacts'")).toEqual(
      test({ source: 'attribute', name: 'key' }, { as: 'string', op: 'eq', value: 'abc' }),
    );
    expect(compileRunFilter("artifact_uri != 's3://b/x/abc/artifacts'")).toEqual(
      test({ source: 'attribute', name: 'key' }, { as: 'string', op: 'ne', value: 'abc' }),
    );
    expect(compileRunFilter("artifact_uri = 'elsewhere'")).toEqual({ kind: 'or', conditions: [] });
    expect(compileRunFilter("artifact_uri != 'elsewhere'")).toEqual({ kind: 'and', conditions: [] });
    expect(refused(() => compileRunFilter("artifact_uri LIKE '%abc%'"))).toMatch(/Cairn does not support/);
  });

  it('compiles dataset clauses to input conditions', () => {
    expect(compileRunFilter("datasets.name IN ('train', 'eval') AND dataset.context = 'training'")).toEqual({
      kind: 'and',
      conditions: [
        { kind: 'input', field: 'name', test: { as: 'string', op: 'in', values: ['train', 'eval'] } },
        { kind: 'input', field: 'context', test: { as: 'string', op: 'eq', value: 'training' } },
      ],
    });
    expect(compileRunFilter("`dataset`.digest ILIKE 'AB%'")).toEqual({
      kind: 'input',
      field: 'digest',
      test: { as: 'string', op: 'like', pattern: 'AB%', caseInsensitive: true },
    });
  });

  it("answers MLflow's messages for malformed filters", () => {
    expect(refused(() => compileRunFilter('metrics.a > 1 OR metrics.b < 2'))).toBe(
      "Invalid clause(s) in filter string: 'OR'",
    );
    expect(refused(() => compileRunFilter('metrics.a >'))).toBe("Invalid clause(s) in filter string: 'metrics.a', '>'");
    expect(refused(() => compileRunFilter("params.a = 'open"))).toMatch(/^Invalid clause\(s\) in filter string/);
    expect(refused(() => compileRunFilter('metrics.a == 1'))).toMatch(/^Invalid clause\(s\) in filter string/);
    expect(refused(() => compileRunFilter("foo.a = 'x'"))).toBe(
      "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']",
    );
    expect(refused(() => compileRunFilter("color = 'red'"))).toMatch(
      /^Invalid attribute key 'color' specified\. Valid keys are '\{'run_id', /,
    );
    expect(refused(() => compileRunFilter("dataset.schema = 'x'"))).toMatch(/^Invalid dataset key 'schema'/);
    expect(refused(() => compileRunFilter("metrics.a = 'x'"))).toBe(
      "Expected numeric value type for metric. Found 'x'",
    );
    expect(refused(() => compileRunFilter("start_time > 'x'"))).toBe(
      "Expected numeric value type for numeric attribute: start_time. Found 'x'",
    );
    expect(refused(() => compileRunFilter('params.a = 1'))).toMatch(/^Expected a quoted string value for parameter/);
    expect(refused(() => compileRunFilter('params.a = abc'))).toMatch(/not quoted/);
    expect(refused(() => compileRunFilter("metrics.a LIKE '1'"))).toMatch(/^Invalid comparator 'LIKE' not one of/);
    expect(refused(() => compileRunFilter("params.a > 'x'"))).toMatch(/^Invalid comparator '>' not one of/);
    expect(refused(() => compileRunFilter("params.a IN ('x')"))).toMatch(/^Invalid comparator 'IN' not one of/);
    expect(refused(() => compileRunFilter("run_name = ('x')"))).toMatch(/Only the 'run_id' attribute/);
    expect(refused(() => compileRunFilter("run_id IN ('a', 1)"))).toMatch(/^Invalid clause\(s\)/);
  });
});

describe('compileRunOrder', () => {
  it('leaves the default to the caller and orders by the first item', () => {
    expect(compileRunOrder([])).toBeUndefined();
    expect(compileRunOrder(['metrics.`val loss` DESC', 'params.lr'])).toEqual({
      field: { source: 'metric', name: 'val loss', aggregate: 'latest' },
      direction: 'desc',
    });
    expect(compileRunOrder(['params.lr'])).toEqual({ field: { source: 'param', name: 'lr' }, direction: 'asc' });
    expect(compileRunOrder(['tags."mlflow.runName" asc'])).toEqual({ field: 'name', direction: 'asc' });
    expect(compileRunOrder(['tags.team'])).toEqual({ field: { source: 'other', name: 'team' }, direction: 'asc' });
    expect(compileRunOrder(['attributes.start_time DESC'])).toEqual({
      field: { source: 'attribute', name: 'startTime' },
      direction: 'desc',
    });
    expect(compileRunOrder(['Created'])).toEqual({
      field: { source: 'attribute', name: 'startTime' },
      direction: 'asc',
    });
    expect(compileRunOrder(['status'])).toEqual({
      field: { source: 'attribute', name: 'status' },
      direction: 'asc',
    });
    expect(compileRunOrder(['run_id desc'])).toEqual({
      field: { source: 'attribute', name: 'key' },
      direction: 'desc',
    });
  });

  it('checks every item', () => {
    expect(refused(() => compileRunOrder(['metrics.a', 'params.b sideways']))).toBe(
      "Invalid ordering key in order_by clause 'params.b sideways'.",
    );
    expect(refused(() => compileRunOrder(['a b c']))).toBe("Invalid order_by clause 'a b c'. Could not be parsed.");
    expect(refused(() => compileRunOrder(['color']))).toMatch(/^Invalid attribute key 'color'/);
    expect(refused(() => compileRunOrder(['`run name`']))).toMatch(/^Invalid attribute key 'run name'/);
    expect(refused(() => compileRunOrder(['datasets.name']))).toMatch(/^Invalid order_by entity type/);
  });
});

const experiment = (
  id: string,
  name: string,
  creationTime: number,
  tags: Record<string, string> = {},
): ExperimentFields => ({
  experimentId: id,
  name,
  creationTime,
  lastUpdateTime: creationTime + 10,
  tags,
});

describe('experiments', () => {
  const all = [
    experiment('1', 'Default', 100),
    experiment('2', 'mnist-cnn', 300, { team: 'vision' }),
    experiment('3', 'MNIST_mlp', 200, { team: 'Vision' }),
    experiment('4', 'a%b', 300),
  ];
  const ids = (filter: string) =>
    all
      .filter(experimentPredicate(filter))
      .map((e) => e.experimentId)
      .join(',');

  it('filters on name, times and tags with exact LIKE semantics', () => {
    expect(ids("name LIKE 'mnist%'")).toBe('2');
    expect(ids("name ILIKE 'mnist%'")).toBe('2,3');
    expect(ids("name LIKE 'MNIST_mlp'")).toBe('3');
    expect(ids("name LIKE 'MNIST.mlp'")).toBe('');
    // A dash is literal (and escaping it would be a SyntaxError under the `u` flag).
    expect(ids("name LIKE 'mnist-%'")).toBe('2');
    expect(ids("name ILIKE '%-CNN'")).toBe('2');
    expect(ids("name LIKE 'a\\%b'")).toBe('');
    expect(ids("name = 'a%b'")).toBe('4');
    expect(ids("attribute.name != 'Default'")).toBe('2,3,4');
    expect(ids('creation_time >= 200 and last_update_time < 311')).toBe('2,3,4');
    expect(ids("tags.team = 'vision'")).toBe('2');
    expect(ids("tag.team != 'vision'")).toBe('3');
    expect(ids("tags.`team` ILIKE 'VISION'")).toBe('2,3');
    expect(ids(undefined as unknown as string)).toBe('1,2,3,4');
  });

  it('refuses what experiments do not have', () => {
    expect(refused(() => experimentPredicate('metrics.a > 1'))).toBe(
      "Invalid entity type 'metrics'. Valid values are ['attribute', 'tag']",
    );
    expect(refused(() => experimentPredicate("experiment_id = '1'"))).toMatch(/^Invalid attribute key 'experiment_id'/);
    expect(refused(() => experimentPredicate("creation_time LIKE '1'"))).toMatch(/^Invalid comparator/);
  });

  it('orders by creation time descending, then id, by default; given orders end with id descending', () => {
    const sorted = (orderBy: string[]) =>
      [...all]
        .sort(experimentComparator(orderBy))
        .map((e) => e.experimentId)
        .join(',');
    expect(sorted([])).toBe('2,4,3,1');
    expect(sorted(['name'])).toBe('1,3,4,2');
    expect(sorted(['creation_time ASC'])).toBe('1,3,4,2');
    expect(sorted(['last_update_time DESC', 'experiment_id ASC'])).toBe('2,4,3,1');
    expect(refused(() => experimentComparator(['lifecycle_stage']))).toMatch(
      /^Invalid attribute key 'lifecycle_stage'/,
    );
    expect(refused(() => experimentComparator(['tags.team']))).toMatch(/^Invalid order_by entity type 'tags'/);
  });
});

describe('registry', () => {
  const model = (name: string, created: number, tags: Record<string, string> = {}): RegisteredModelFields => ({
    name,
    tags,
    creationTimestamp: created,
    lastUpdatedTimestamp: created,
  });
  const version = (name: string, v: number, runId: string | null, source: string | null): ModelVersionFields => ({
    name,
    version: v,
    runId,
    source,
    tags: v === 2 ? { stage: 'gold' } : {},
    creationTimestamp: v * 10,
    lastUpdatedTimestamp: v * 10,
  });

  it('filters and sorts registered models', () => {
    const models = [model('b', 2, { owner: 'x' }), model('a', 3), model('c', 1)];
    expect(models.filter(registeredModelPredicate("name LIKE '_'")).map((m) => m.name)).toEqual(['b', 'a', 'c']);
    expect(models.filter(registeredModelPredicate("tags.owner = 'x'")).map((m) => m.name)).toEqual(['b']);
    // MLflow 3 appends this to every registry search: untagged models must pass the `!=`.
    const notPrompt = registeredModelPredicate("name LIKE '%' AND tag.`mlflow.prompt.is_prompt` != 'true'");
    expect(models.filter(notPrompt).map((m) => m.name)).toEqual(['b', 'a', 'c']);
    expect(models.filter(registeredModelPredicate("tags.owner != 'x'")).map((m) => m.name)).toEqual(['a', 'c']);
    expect([...models].sort(registeredModelComparator([])).map((m) => m.name)).toEqual(['a', 'b', 'c']);
    expect([...models].sort(registeredModelComparator(['timestamp DESC'])).map((m) => m.name)).toEqual(['a', 'b', 'c']);
    expect([...models].sort(registeredModelComparator(['creation_timestamp'])).map((m) => m.name)).toEqual([
      'c',
      'b',
      'a',
    ]);
    expect(refused(() => registeredModelComparator(['version']))).toMatch(/^Invalid order by key 'version'/);
    expect(refused(() => registeredModelPredicate("run_id = 'x'"))).toMatch(/^Invalid attribute key 'run_id'/);
  });

  it('filters and sorts model versions', () => {
    const versions = [version('m', 1, 'r1', 'runs:/r1/model'), version('m', 2, 'r2', null), version('k', 3, null, 's')];
    const matching = (filter: string) =>
      versions.filter(modelVersionPredicate(filter)).map((v) => `${v.name}${v.version}`);
    expect(matching("name = 'm'")).toEqual(['m1', 'm2']);
    expect(matching('version_number >= 2')).toEqual(['m2', 'k3']);
    expect(matching("run_id IN ('r1', 'r2')")).toEqual(['m1', 'm2']);
    expect(matching("run_id != 'r1'")).toEqual(['m2']);
    expect(matching("source_path LIKE 'runs:/%'")).toEqual(['m1']);
    expect(matching("tags.stage = 'gold'")).toEqual(['m2']);
    expect(refused(() => modelVersionPredicate("version_number = '1'"))).toMatch(/numeric/);
    const sorted = (orderBy: string[]) =>
      [...versions].sort(modelVersionComparator(orderBy)).map((v) => `${v.name}${v.version}`);
    expect(sorted([])).toEqual(['k3', 'm2', 'm1']);
    expect(sorted(['version_number ASC'])).toEqual(['m1', 'm2', 'k3']);
    expect(sorted(['last_updated_timestamp DESC'])).toEqual(['k3', 'm2', 'm1']);
  });
});
