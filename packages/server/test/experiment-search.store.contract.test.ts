import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Experiment, LoggedValueType, Project } from '../src/core/entities.js';
import { NotFoundError } from '../src/core/errors.js';
import type { ExperimentCondition, SortPosition, ValueTest } from '../src/core/experiment-query.js';
import { ExperimentQueryService } from '../src/core/experiment-query.service.js';
import type { Principal } from '../src/core/principal.js';
import { PrincipalCache } from '../src/core/principal-cache.js';
import { ProjectsService } from '../src/core/projects.service.js';
import type { Store } from '../src/core/store.port.js';
import { compileRunFilter } from '../src/http/facades/mlflow/mlflow-filter.js';
import { FileBlobStore } from '../src/storage/blob/file-blob.store.js';
import { newExperiment, newProject, newUser, newWorkspace, T0 } from './support/store-fixtures.js';
import { backends, openTestStore, type TestStore } from './support/test-context.js';

/** `ExperimentsRepository.search` text tests on parameters, with and without `plainText`. */
describe.each(backends)('Experiment search contract: plain-text parameter tests (%s)', (backend) => {
  let testStore: TestStore;
  let store: Store;
  let projectId: string;
  const keyOf = new Map<string, string>();

  beforeAll(async () => {
    testStore = await openTestStore(backend);
    store = testStore.store;
    const user = newUser();
    await store.tenancy.insertUser(user);
    const workspace = newWorkspace(user.id);
    await store.tenancy.insertWorkspace(workspace);
    const project = newProject(workspace.id, user.id);
    await store.projects.insert(project);
    projectId = project.id;
    const values: [string, LoggedValueType, string][] = [
      ['text', 'string', 'run 2025 final'],
      ['number', 'number', '2025'],
      ['flag', 'boolean', 'true'],
      ['datetime', 'string', '2025-01-01T00:00:00Z'],
    ];
    for (const [name, type, text] of values) {
      const experiment = newExperiment(project, { name });
      await store.experiments.insert(experiment);
      await store.values.append(experiment.id, 'param', [
        { name: 'p', type, text, step: null, timestamp: T0, context: null },
      ]);
      keyOf.set(experiment.id, name);
    }
  });
  afterAll(async () => {
    await testStore?.close();
  });

  async function found(value: string, plainText?: boolean): Promise<string[]> {
    const where: ExperimentCondition = {
      kind: 'test',
      field: { source: 'param', name: 'p' },
      test: { as: 'string', op: 'contains', value, caseInsensitive: false, ...(plainText ? { plainText } : {}) },
    };
    const keys = await store.experiments.search({ projectId, where, now: T0, heartbeatTimeoutMs: 60_000 });
    return keys.map((key) => keyOf.get(key) ?? key).sort();
  }

  it('reads the text of every logged value by default', async () => {
    expect(await found('2025')).toEqual(['datetime', 'number', 'text']);
    expect(await found('tru')).toEqual(['flag']);
  });

  it('reads only values logged as text that is no datetime with plainText', async () => {
    expect(await found('2025', true)).toEqual(['text']);
    expect(await found('tru', true)).toEqual([]);
    expect(await found('final', true)).toEqual(['text']);
  });
});

/**
 * What MLflow's searches compile to (mlflow-filter.ts): LIKE with exact semantics, IN lists,
 * series' latest value, status details and reported status, dataset inputs, and searches across
 * several projects, paged by keyset.
 */
describe.each(backends)('Experiment search contract: MLflow conditions (%s)', (backend) => {
  let testStore: TestStore;
  let store: Store;
  let queries: ExperimentQueryService;
  const projects: Record<'a' | 'b' | 'c', string> = { a: '', b: '', c: '' };
  const keyOf = new Map<string, string>();
  const idOf = new Map<string, string>();
  let member: Principal;
  let outsider: Principal;
  const NOW = T0 + 3_600_000;

  beforeAll(async () => {
    testStore = await openTestStore(backend);
    store = testStore.store;
    const user = newUser();
    await store.tenancy.insertUser(user);
    const workspace = newWorkspace(user.id);
    await store.tenancy.insertWorkspace(workspace);
    const other = newWorkspace(user.id);
    await store.tenancy.insertWorkspace(other);
    const [a, b, c] = [
      newProject(workspace.id, user.id),
      newProject(workspace.id, user.id),
      newProject(other.id, user.id),
    ];
    for (const project of [a, b, c]) await store.projects.insert(project);
    Object.assign(projects, { a: a.id, b: b.id, c: c.id });
    const principal = (workspaceIds: string[]): Principal => ({
      userId: user.id,
      userName: user.name,
      isAdmin: false,
      scopes: new Set(['read']),
      workspaceIds: new Set(workspaceIds),
      defaultWorkspaceId: null,
      credentialId: 'key:test',
    });
    member = principal([workspace.id]);
    outsider = principal([other.id]);
    const clock = { now: () => NOW };
    queries = new ExperimentQueryService(
      store,
      new ProjectsService(store, new FileBlobStore(testStore.blobDir), clock, new PrincipalCache(clock)),
      clock,
    );

    const runs: {
      label: string;
      project: Project;
      experiment: Partial<Experiment>;
      param?: string;
      latest?: number[];
    }[] = [
      // The latest point is the greatest step: 1 here, though 9 was logged last.
      { label: 'a1', project: a, experiment: { name: 'Alpha_one' }, param: 'Adam', latest: [5, 1, 9] },
      { label: 'a2', project: a, experiment: { name: 'alpha-two', status: 'FAILED' }, param: 'adam', latest: [3] },
      {
        label: 'a3',
        project: a,
        experiment: { name: 'a%b*c?[d]\\e', status: 'SUCCEEDED' },
        param: '%_x',
        latest: [Number.NaN],
      },
      // Its heartbeats stopped: it reads as ended.
      { label: 'a4', project: a, experiment: { name: 'stale', lastHeartbeat: T0 } },
      { label: 'b1', project: b, experiment: { name: 'beta' }, latest: [2] },
      { label: 'c1', project: c, experiment: { name: 'Alpha_one' }, latest: [0] },
    ];
    for (const [i, run] of runs.entries()) {
      const experiment = newExperiment(run.project, { ...run.experiment, createdAt: T0 + i });
      await store.experiments.insert(experiment);
      keyOf.set(experiment.id, run.label);
      idOf.set(run.label, experiment.id);
      if (run.param !== undefined) {
        await store.values.append(experiment.id, 'param', [
          { name: 'p', type: 'string', text: run.param, step: null, timestamp: T0, context: null },
        ]);
      }
      if (run.latest) {
        const steps = [0, 2, 1];
        await store.series.append(
          experiment.id,
          run.latest.map((value, j) => ({
            name: 'm',
            value,
            step: steps[j] ?? j,
            epoch: null,
            timestamp: T0 + j,
            context: null,
          })),
        );
      }
    }
    await store.values.append(idOf.get('a1') as string, 'other', [
      { name: 'mlflow.user', type: 'string', text: 'ada', step: null, timestamp: T0, context: null },
    ]);
    await testStore.execute(`update experiments set status_detail = 'KILLED' where id = '${idOf.get('a2')}'`);
    await testStore.execute(
      `insert into experiment_inputs (experiment_id, name, digest, source_type, source, schema, profile, tags, created_at) values
        ('${idOf.get('a1')}', 'train', 'd1', 'local', 'file:/x', null, null, '[{"key":"mlflow.data.context","value":"training"}]', ${T0}),
        ('${idOf.get('a2')}', 'eval', 'D2', 'local', 'file:/y', null, null, '[]', ${T0}),
        ('${idOf.get('b1')}', 'train', 'd3', 'local', 'file:/z', null, null, '[{"key":"other","value":"training"}]', ${T0})`,
    );
  });
  afterAll(async () => {
    await testStore?.close();
  });

  async function found(where: ExperimentCondition | undefined, projectId: string | string[] = projects.a) {
    const keys = await store.experiments.search({
      projectId,
      ...(where ? { where } : {}),
      now: NOW,
      heartbeatTimeoutMs: 60_000,
    });
    return keys.map((key) => keyOf.get(key) ?? key).sort();
  }
  const name = (test: ValueTest): ExperimentCondition => ({
    kind: 'test',
    field: { source: 'attribute', name: 'name' },
    test,
  });
  const like = (pattern: string, caseInsensitive = false) =>
    found(name({ as: 'string', op: 'like', pattern, caseInsensitive }));

  it('matches LIKE case-sensitively, ILIKE ignoring case, with only % and _ as wildcards', async () => {
    expect(await like('alpha%')).toEqual(['a2']);
    expect(await like('alpha%', true)).toEqual(['a1', 'a2']);
    expect(await like('Alpha_one')).toEqual(['a1']);
    expect(await like('Alpha_on')).toEqual([]);
    expect(await like('_lpha%')).toEqual(['a1', 'a2']);
    expect(await like('%*%')).toEqual(['a3']);
    expect(await like('a%b*c?[d]\\e')).toEqual(['a3']);
    expect(await like('a_b*c_[d]_e')).toEqual(['a3']);
    expect(await like('a?%')).toEqual([]);
    expect(await like('%[d]%')).toEqual(['a3']);
    expect(await like('%d%')).toEqual(['a3']);
    expect(await like('%')).toEqual(['a1', 'a2', 'a3', 'a4']);
    const param = (pattern: string, caseInsensitive = false) =>
      found({
        kind: 'test',
        field: { source: 'param', name: 'p' },
        test: { as: 'string', op: 'like', pattern, caseInsensitive },
      });
    // No escape character: a backslash is itself.
    expect(await param('\\%%')).toEqual([]);
    expect(await param('%\\_%')).toEqual([]);
    expect(await param('%_x')).toEqual(['a3']);
    expect(await param('ADAM', true)).toEqual(['a1', 'a2']);
    expect(await param('ADAM')).toEqual([]);
  });

  it('tests texts against lists', async () => {
    expect(await found(name({ as: 'string', op: 'in', values: ['beta', 'stale', 'alpha-two'] }))).toEqual(['a2', 'a4']);
    expect(await found(name({ as: 'string', op: 'not-in', values: ['stale', 'alpha-two'] }))).toEqual(['a1', 'a3']);
    expect(await found(name({ as: 'string', op: 'in', values: [] }))).toEqual([]);
    expect(await found(name({ as: 'string', op: 'not-in', values: [] }))).toEqual(['a1', 'a2', 'a3', 'a4']);
    const key = { source: 'attribute', name: 'key' } as const;
    expect(
      await found({ kind: 'test', field: key, test: { as: 'string', op: 'in', values: [idOf.get('a3') as string] } }),
    ).toEqual(['a3']);
  });

  it("reads series' latest value, with NaN as no value", async () => {
    const latest = (op: 'lt' | 'gt' | 'ne', value: number) =>
      found({
        kind: 'test',
        field: { source: 'metric', name: 'm', aggregate: 'latest' },
        test: { as: 'number', op, value },
      });
    expect(await latest('lt', 2)).toEqual(['a1']);
    expect(await latest('gt', 2)).toEqual(['a2']);
    expect(await latest('ne', 0)).toEqual(['a1', 'a2']);
    expect(
      await found({
        kind: 'test',
        field: { source: 'metric', name: 'm', aggregate: 'last' },
        test: { as: 'number', op: 'gt', value: 8 },
      }),
    ).toEqual(['a1']);
  });

  it('reads the status detail, and the status of runs that never beat as their client reported it', async () => {
    const detail = { source: 'attribute', name: 'statusDetail' } as const;
    expect(await found({ kind: 'test', field: detail, test: { as: 'string', op: 'eq', value: 'KILLED' } })).toEqual([
      'a2',
    ]);
    expect(await found({ kind: 'missing', field: detail, orEmpty: false })).toEqual(['a1', 'a3', 'a4']);
    const reported = (value: string) =>
      found(
        {
          kind: 'test',
          field: { source: 'attribute', name: 'status' },
          test: { as: 'string', op: 'eq', value },
        },
        [projects.a, projects.b],
      );
    // Runs that never sent a heartbeat stay RUNNING; a4's heartbeats stopped.
    expect(await reported('RUNNING')).toEqual(['a1', 'b1']);
    expect(await reported('SUCCEEDED')).toEqual(['a3', 'a4']);
    expect(await reported('FAILED')).toEqual(['a2']);
  });

  it('matches runs by their dataset inputs', async () => {
    const input = (field: 'name' | 'digest' | 'context', test: ValueTest) =>
      found({ kind: 'input', field, test }, [projects.a, projects.b]);
    expect(await input('name', { as: 'string', op: 'eq', value: 'train' })).toEqual(['a1', 'b1']);
    expect(await input('name', { as: 'string', op: 'ne', value: 'train' })).toEqual(['a2']);
    expect(await input('name', { as: 'string', op: 'not-in', values: ['eval'] })).toEqual(['a1', 'b1']);
    expect(await input('digest', { as: 'string', op: 'like', pattern: 'd%', caseInsensitive: true })).toEqual([
      'a1',
      'a2',
      'b1',
    ]);
    expect(await input('digest', { as: 'string', op: 'like', pattern: 'd%', caseInsensitive: false })).toEqual([
      'a1',
      'b1',
    ]);
    expect(await input('context', { as: 'string', op: 'eq', value: 'training' })).toEqual(['a1']);
    expect(await input('context', { as: 'string', op: 'ne', value: 'x' })).toEqual(['a1']);
    expect(await input('name', { as: 'number', op: 'eq', value: 1 })).toEqual([]);
  });

  it('runs compiled MLflow filters', async () => {
    const across = [projects.a, projects.b];
    expect(await found(compileRunFilter("status = 'KILLED'"), across)).toEqual(['a2']);
    expect(await found(compileRunFilter("status = 'FAILED'"), across)).toEqual([]);
    expect(await found(compileRunFilter("status = 'RUNNING'"), across)).toEqual(['a1', 'b1']);
    expect(await found(compileRunFilter("attributes.status LIKE 'FIN%'"), across)).toEqual(['a3', 'a4']);
    expect(await found(compileRunFilter("metrics.m <= 2 and params.p ILIKE 'adam'"), across)).toEqual(['a1']);
    expect(await found(compileRunFilter("user_id = 'ada'"), across)).toEqual(['a1']);
    expect(await found(compileRunFilter("tags.`mlflow.runName` LIKE '%a'"), across)).toEqual(['b1']);
    expect(await found(compileRunFilter("dataset.context = 'training' and datasets.name = 'train'"), across)).toEqual([
      'a1',
    ]);
    expect(
      await found(
        compileRunFilter(`run_id = '${idOf.get('b1')}' and artifact_uri != 'x/${idOf.get('a1')}/artifacts'`),
        across,
      ),
    ).toEqual(['b1']);
  });

  it('pages across several projects by keyset, in the order of one query', async () => {
    const search = {
      projectId: [projects.a, projects.b],
      orderBy: { field: { source: 'metric', name: 'm', aggregate: 'latest' }, direction: 'asc' },
      now: NOW,
      heartbeatTimeoutMs: 60_000,
    } as const;
    const expected = (await store.experiments.search(search)).map((key) => keyOf.get(key));
    expect(expected.slice(0, 3)).toEqual(['a1', 'b1', 'a2']);
    expect(expected.slice(3).sort()).toEqual(['a3', 'a4']);
    expect(await store.experiments.countMatching(search)).toBe(5);
    const walked: (string | undefined)[] = [];
    let after: SortPosition | undefined;
    for (;;) {
      const page = await store.experiments.searchPage({ ...search, limit: 2 }, after);
      walked.push(...page.map((r) => keyOf.get(r.key)));
      if (page.length < 2) break;
      after = page[page.length - 1]?.position;
    }
    expect(walked).toEqual(expected);
    expect(await found(undefined, [])).toEqual([]);
    expect(await store.experiments.countMatching({ ...search, projectId: [] })).toBe(0);
    expect(await store.experiments.searchPage({ ...search, projectId: [] })).toEqual([]);
  });

  it('searches across projects the caller may read, and hides the others', async () => {
    const options = { orderBy: { field: { source: 'attribute', name: 'startTime' }, direction: 'desc' } } as const;
    const page = await queries.searchPageAcross(member, [projects.a, projects.b, projects.a], {
      ...options,
      limit: 10,
    });
    expect(page.map((r) => keyOf.get(r.key)).sort()).toEqual(['a1', 'a2', 'a3', 'a4', 'b1']);
    const rest = await queries.searchPageAcross(
      member,
      [projects.a, projects.b],
      { ...options, limit: 10 },
      page[1]?.position,
    );
    expect(rest.map((r) => r.key)).toEqual(page.slice(2).map((r) => r.key));
    await expect(queries.searchPageAcross(member, [projects.a, projects.c], options)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(queries.searchPageAcross(outsider, [projects.a], options)).rejects.toBeInstanceOf(NotFoundError);
    expect((await queries.searchPageAcross(outsider, [projects.c], options)).map((r) => keyOf.get(r.key))).toEqual([
      'c1',
    ]);
    expect(await queries.searchPageAcross(member, [], options)).toEqual([]);
  });
});
