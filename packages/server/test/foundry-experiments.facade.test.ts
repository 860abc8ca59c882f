import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const V2 = '/api/rest/v2';
const MODELS = '/api/v2/models';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const T0 = Date.UTC(2025, 0, 1);

type Json = Record<string, unknown>;

/**
 * The Foundry Models v2 experiments facade (E1 get, E2 search, E3 series JSON) over HTTP, on both
 * stores. Data gets in through the Comet REST writes, as it does in production.
 */
describe.each(backends)('Foundry Models experiments (%s)', (backend) => {
  let t: TestContext;
  let model: string;
  let manyModel: string;
  let twinsModel: string;
  /** A key with api:models-read alone. */
  let modelsOnlyKey: string;
  /** Bob's key with api:models-read: another tenant. */
  let bobModelsKey: string;
  const keyOf = new Map<string, string>();
  const nameOfRid = new Map<string, string>();
  const rid = (name: string) => `ri.models.main.experiment.${keyOf.get(name)}`;

  async function comet(method: 'GET' | 'POST', path: string, body?: unknown) {
    const response = await t.request(method, `${V2}/${path}`, body === undefined ? {} : { body });
    expect(response.statusCode, `${path}: ${response.body}`).toBe(200);
    return response.json() as Json;
  }

  async function experiment(project: string, name: string): Promise<string> {
    const created = await comet('POST', 'write/experiment/create', {
      workspaceName: 'default',
      projectName: project,
      experimentName: name,
    });
    const key = created.experimentKey as string;
    keyOf.set(name, key);
    nameOfRid.set(`ri.models.main.experiment.${key}`, name);
    return key;
  }

  async function modelRidOf(project: string): Promise<string> {
    const { projectId } = await comet('GET', `project?workspaceName=default&projectName=${project}`);
    const hex = projectId as string;
    return `ri.models.main.model.${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** A Foundry call the way foundry_sdk makes it: Bearer token, preview=true unless told otherwise. */
  function call(
    method: 'GET' | 'POST',
    path: string,
    options: { key?: string | null; body?: unknown; query?: string; headers?: Record<string, string> } = {},
  ) {
    const key = options.key === undefined ? t.adminKey : options.key;
    const query = options.query ?? 'preview=true';
    return t.app.inject({
      method,
      url: `${MODELS}/${path}${query ? `?${query}` : ''}`,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
    });
  }

  async function search(body: Json, target = model): Promise<Json> {
    const response = await call('POST', `${target}/experiments/search`, { body });
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as Json;
  }

  /** Names found by a filter, sorted; every page is read. */
  async function names(where: unknown): Promise<string[]> {
    const found: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await search({ where, pageSize: 2, ...(pageToken ? { pageToken } : {}) });
      found.push(...(page.data as Json[]).map((e) => nameOfRid.get(e.rid as string) ?? String(e.rid)));
      pageToken = page.nextPageToken as string | undefined;
    } while (pageToken);
    return found.sort();
  }

  /** Keeps gamma running: a run whose heartbeats stop for a minute has ended. */
  const beat = () => comet('GET', `write/experiment/set-status?experimentKey=${keyOf.get('gamma')}`);

  /** The error envelope of a response, after checking its status and shape. */
  function foundryError(response: Awaited<ReturnType<typeof call>>, status: number, errorName: string): Json {
    expect(response.statusCode, response.body).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = response.json() as Json;
    expect(body.errorName).toBe(errorName);
    expect(body.errorInstanceId).toMatch(UUID);
    expect(typeof body.errorCode).toBe('string');
    return body;
  }

  async function invalidFilter(where: unknown): Promise<string> {
    const response = await call('POST', `${model}/experiments/search`, { body: { where } });
    const body = foundryError(response, 400, 'InvalidExperimentSearchFilter');
    expect(body.errorCode).toBe('INVALID_ARGUMENT');
    const reason = (body.parameters as Json).reason;
    expect(typeof reason).toBe('string');
    return reason as string;
  }

  beforeAll(async () => {
    t = await createTestContext(backend);
    modelsOnlyKey = (await t.core.auth.createKey('admin', 'models only', ['api:models-read'])).secret;
    bobModelsKey = (await t.core.auth.createKey('bob', 'bob models', ['read', 'api:models-read'])).secret;

    const alpha = await experiment('fm', 'alpha');
    const beta = await experiment('fm', 'Beta');
    const gamma = await experiment('fm', 'gamma');
    const delta = await experiment('fm', 'delta');
    const param = (key: string, parameterName: string, parameterValue: unknown) =>
      comet('POST', 'write/experiment/parameter', { experimentKey: key, parameterName, parameterValue });
    const metric = (key: string, metricName: string, values: number[], withSteps = true) =>
      Promise.all(
        values.map((metricValue, step) =>
          comet('POST', 'write/experiment/metric', {
            experimentKey: key,
            metricName,
            metricValue,
            timestamp: T0 + step * 1000,
            ...(withSteps ? { step: step * 10 } : {}),
          }),
        ),
      );
    await param(alpha, 'lr', 0.1);
    await param(alpha, 'n', 3);
    await param(alpha, 'opt', 'Adam');
    await param(alpha, 'flag', true);
    await param(alpha, 'when', '2025-01-01T00:00:00Z');
    await param(beta, 'lr', 0.01);
    await param(beta, 'n', 10);
    await param(beta, 'opt', 'sgd');
    await param(beta, 'flag', false);
    await param(beta, 'when', '2025-02-01T00:00:00+01:00');
    await param(gamma, 'lr', 0.001);
    await param(gamma, 'note', 'adam-like, 2025');
    for (const [i, value] of [1, 0.5].entries()) {
      // One at a time: points keep their logging order.
      await comet('POST', 'write/experiment/metric', {
        experimentKey: alpha,
        metricName: 'train/loss',
        metricValue: value,
        step: i,
        timestamp: T0 + i,
      });
    }
    await metric(alpha, 'acc', [0.7]);
    for (const value of [2, 1.5, 1.2]) {
      await comet('POST', 'write/experiment/metric', {
        experimentKey: beta,
        metricName: 'train/loss',
        metricValue: value,
      });
    }
    await metric(gamma, 'train/loss', [0.3]);
    await metric(gamma, 'val loss%', [1]);
    await comet('POST', 'write/experiment/tags', { experimentKey: alpha, addedTags: ['x', 'shared'] });
    await comet('POST', 'write/experiment/tags', { experimentKey: beta, addedTags: ['shared'] });
    await comet('POST', 'write/experiment/git/metadata', { experimentKey: alpha, branch: 'main' });
    await comet('POST', 'write/experiment/git/metadata', { experimentKey: gamma, branch: 'dev' });
    await comet('POST', 'write/experiment/update-status', { experimentKey: alpha, isAlive: false });
    await comet('POST', 'write/experiment/update-status', { experimentKey: beta, isAlive: false, error: 'boom' });
    await comet('POST', 'write/experiment/update-status', { experimentKey: delta, isAlive: false });
    await comet('GET', `write/experiment/set-status?experimentKey=${gamma}`);
    await comet('GET', `write/experiment/archive?experimentKey=${delta}`);
    model = await modelRidOf('fm');

    // Non-finite points (another facade may store them) and a long series, logged through the core.
    const admin = await t.core.auth.authenticate(t.adminKey);
    await t.core.metrics.logMetrics(
      admin,
      gamma,
      [1, Number.NaN, Number.POSITIVE_INFINITY].map((value, step) => ({ name: 'odd', value, step })),
      { allowNonFinite: true },
    );
    await t.core.metrics.logMetrics(
      admin,
      delta,
      Array.from({ length: 1005 }, (_, step) => ({ name: 'long', value: step / 2, step, timestamp: T0 + step })),
    );

    for (let i = 0; i < 105; i++) await experiment('many', `m${String(i).padStart(3, '0')}`);
    manyModel = await modelRidOf('many');
    for (const key of ['0000000000000000000000000000000b', '0000000000000000000000000000000a']) {
      await comet('POST', 'write/experiment/create', {
        workspaceName: 'default',
        projectName: 'twins',
        experimentName: 'twin',
        experimentKey: key,
      });
    }
    await comet('POST', 'write/experiment/create', {
      workspaceName: 'default',
      projectName: 'twins',
      experimentName: 'solo',
      experimentKey: '0000000000000000000000000000000c',
    });
    twinsModel = await modelRidOf('twins');
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  describe('authentication, scope and preview', () => {
    it('refuses calls without preview=true with ApiFeaturePreviewUsageOnly', async () => {
      for (const [method, path] of [
        ['GET', `${model}/experiments/${rid('alpha')}`],
        ['POST', `${model}/experiments/search`],
        ['GET', `${model}/experiments/${rid('alpha')}/series/train%2Floss/json`],
      ] as const) {
        for (const query of ['', 'preview=false', 'preview=yes']) {
          const body = foundryError(
            await call(method, path, { query, ...(method === 'POST' ? { body: {} } : {}) }),
            400,
            'ApiFeaturePreviewUsageOnly',
          );
          expect(body.errorCode).toBe('INVALID_ARGUMENT');
          expect(body.parameters).toEqual({});
        }
      }
      const upper = await call('GET', `${model}/experiments/${rid('alpha')}`, { query: 'preview=TRUE' });
      expect(upper.statusCode).toBe(200);
    });

    it('answers 401 without a key or with an unknown one', async () => {
      for (const key of [null, 'NotAKey00000000000000000000000000000000']) {
        const body = foundryError(
          await call('GET', `${model}/experiments/${rid('alpha')}`, { key }),
          401,
          'MissingCredentials',
        );
        expect(body.errorCode).toBe('UNAUTHORIZED');
      }
    });

    it('answers ApiUsageDenied (403) to a key without api:models-read', async () => {
      for (const key of [t.otherKey, t.readOnlyKey]) {
        const body = foundryError(
          await call('POST', `${model}/experiments/search`, { key, body: {} }),
          403,
          'ApiUsageDenied',
        );
        expect(body.errorCode).toBe('PERMISSION_DENIED');
        expect((body.parameters as Json).missingScope).toBe('api:models-read');
      }
    });

    it('serves a key holding api:models-read alone', async () => {
      const got = await call('GET', `${model}/experiments/${rid('alpha')}`, { key: modelsOnlyKey });
      expect(got.statusCode, got.body).toBe(200);
      const searched = await call('POST', `${model}/experiments/search`, { key: modelsOnlyKey, body: {} });
      expect(searched.statusCode, searched.body).toBe(200);
      expect((searched.json().data as Json[]).length).toBe(4);
      const series = await call('GET', `${model}/experiments/${rid('alpha')}/series/train%2Floss/json`, {
        key: modelsOnlyKey,
      });
      expect(series.statusCode, series.body).toBe(200);
      // The scope grants reading through this API, nothing else.
      const cometRead = await t.request('GET', `${V2}/experiment/parameters?experimentKey=${keyOf.get('alpha')}`, {
        key: modelsOnlyKey,
      });
      expect(cometRead.statusCode).toBe(403);
    });

    it("hides another tenant's models and experiments as not found", async () => {
      const key = bobModelsKey;
      const got = foundryError(
        await call('GET', `${model}/experiments/${rid('alpha')}`, { key }),
        404,
        'ModelExperimentNotFound',
      );
      expect(got.parameters).toEqual({ modelRid: model, experimentRid: rid('alpha') });
      const searched = foundryError(
        await call('POST', `${model}/experiments/search`, { key, body: {} }),
        404,
        'ModelNotFound',
      );
      expect(searched.parameters).toEqual({ modelRid: model });
      foundryError(
        await call('GET', `${model}/experiments/${rid('alpha')}/series/train%2Floss/json`, { key }),
        404,
        'ModelExperimentNotFound',
      );
      foundryError(await call('GET', model, { key }), 404, 'ModelNotFound');
    });
  });

  describe('E1 get experiment', () => {
    it('returns every field with typed parameters, aggregations and summary metrics', async () => {
      const response = await call('GET', `${model}/experiments/${rid('alpha')}`);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      const body = response.json() as Json;
      expect(body).toEqual({
        rid: rid('alpha'),
        modelRid: model,
        createdTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
        createdBy: expect.stringMatching(UUID),
        source: { type: 'sdk' },
        status: 'SUCCEEDED',
        branch: 'main',
        parameters: [
          { name: 'flag', value: { type: 'boolean', value: true } },
          { name: 'lr', value: { type: 'double', value: 0.1 } },
          { name: 'n', value: { type: 'integer', value: 3 } },
          { name: 'opt', value: { type: 'string', value: 'Adam' } },
          { name: 'when', value: { type: 'datetime', value: '2025-01-01T00:00:00.000Z' } },
        ],
        series: expect.any(Array),
        summaryMetrics: expect.any(Array),
        artifacts: {},
        tags: ['x', 'shared'],
        name: 'alpha',
      });
      expect(Date.now() - Date.parse(body.createdTime as string)).toBeLessThan(10 * 60_000);
      const series = (body.series as Json[]).sort((a, b) => String(a.name).localeCompare(String(b.name)));
      expect(series).toEqual([
        { name: 'acc', length: 1, value: { type: 'double', min: 0.7, max: 0.7, last: 0.7 } },
        { name: 'train/loss', length: 2, value: { type: 'double', min: 0.5, max: 1, last: 0.5 } },
      ]);
      expect(body.summaryMetrics).toEqual(
        expect.arrayContaining([
          { seriesName: 'train/loss', aggregation: 'MIN', value: 0.5 },
          { seriesName: 'train/loss', aggregation: 'MAX', value: 1 },
          { seriesName: 'train/loss', aggregation: 'LAST', value: 0.5 },
          { seriesName: 'acc', aggregation: 'LAST', value: 0.7 },
        ]),
      );
      expect(body.summaryMetrics).toHaveLength(6);
    });

    it('reports failures with their message, the default branch and datetimes in UTC', async () => {
      await beat();
      const beta = (await call('GET', `${model}/experiments/${rid('Beta')}`)).json() as Json;
      expect(beta).toMatchObject({ status: 'FAILED', statusMessage: 'boom', branch: 'master', tags: ['shared'] });
      const when = (beta.parameters as Json[]).find((p) => p.name === 'when');
      expect(when?.value).toEqual({ type: 'datetime', value: '2025-01-31T23:00:00.000Z' });
      const gamma = (await call('GET', `${model}/experiments/${rid('gamma')}`)).json() as Json;
      expect(gamma).toMatchObject({ status: 'RUNNING', branch: 'dev', tags: [] });
      expect(gamma).not.toHaveProperty('statusMessage');
      // Non-finite doubles travel as Conjure strings; min and max skip NaN.
      const odd = (gamma.series as Json[]).find((s) => s.name === 'odd');
      expect(odd).toEqual({
        name: 'odd',
        length: 3,
        value: { type: 'double', min: 1, max: 'Infinity', last: 'Infinity' },
      });
    });

    it('answers ModelExperimentNotFound for unknown, malformed or foreign experiments and models', async () => {
      const other = await experiment('elsewhere', 'foreign');
      const foreign = `ri.models.main.experiment.${other}`;
      const unknownModel = 'ri.models.main.model.00000000-0000-4000-8000-000000000000';
      for (const [modelRid, experimentRid] of [
        [model, 'ri.models.main.experiment.ffffffffffffffffffffffffffffffff'],
        [model, 'ri.models.main.experiment.not-a-key'],
        [model, foreign],
        [unknownModel, rid('alpha')],
        ['ri.models.main.model.nope', rid('alpha')],
      ] as const) {
        const body = foundryError(
          await call('GET', `${modelRid}/experiments/${experimentRid}`),
          404,
          'ModelExperimentNotFound',
        );
        expect(body).toMatchObject({ errorCode: 'NOT_FOUND', parameters: { modelRid, experimentRid } });
      }
      // `search` is no experiment RID: a GET there is E1 and finds nothing.
      foundryError(await call('GET', `${model}/experiments/search`), 404, 'ModelExperimentNotFound');
    });

    it('serves Model.get and a JSON 404 for unknown routes', async () => {
      const got = await call('GET', model);
      expect(got.statusCode).toBe(200);
      expect(got.json()).toEqual({ rid: model });
      foundryError(await call('GET', `${model}/nothing/here`), 404, 'Default:NotFound');
    });
  });

  describe('E2 search filters', () => {
    it('matches every eq field', async () => {
      await beat();
      expect(await names({ type: 'eq', field: 'STATUS', value: 'SUCCEEDED' })).toEqual(['alpha', 'delta']);
      expect(await names({ type: 'eq', field: 'STATUS', value: 'FAILED' })).toEqual(['Beta']);
      expect(await names({ type: 'eq', field: 'STATUS', value: 'RUNNING' })).toEqual(['gamma']);
      expect(await names({ type: 'eq', field: 'BRANCH', value: 'main' })).toEqual(['alpha']);
      expect(await names({ type: 'eq', field: 'BRANCH', value: 'master' })).toEqual(['Beta', 'delta']);
      expect(await names({ type: 'eq', field: 'EXPERIMENT_NAME', value: 'Beta' })).toEqual(['Beta']);
      expect(await names({ type: 'eq', field: 'EXPERIMENT_NAME', value: 'beta' })).toEqual([]);
      expect(await names({ type: 'eq', field: 'EXPERIMENT_RID', value: rid('gamma') })).toEqual(['gamma']);
      expect(await names({ type: 'eq', field: 'EXPERIMENT_RID', value: 'ri.models.main.experiment.x-y' })).toEqual([]);
      expect(await names({ type: 'eq', field: 'JOB_RID', value: 'ri.foundry.main.job.1' })).toEqual([]);
      expect(await names({ type: 'eq', field: 'TAG', value: 'shared' })).toEqual(['Beta', 'alpha']);
      expect(await names({ type: 'eq', field: 'PARAMETER_NAME', value: 'note' })).toEqual(['gamma']);
      expect(await names({ type: 'eq', field: 'SERIES_NAME', value: 'train/loss' })).toEqual([
        'Beta',
        'alpha',
        'gamma',
      ]);
    });

    it('matches contains and startsWith ignoring case', async () => {
      expect(await names({ type: 'contains', field: 'EXPERIMENT_NAME', value: 'ET' })).toEqual(['Beta']);
      expect(await names({ type: 'startsWith', field: 'EXPERIMENT_NAME', value: 'b' })).toEqual(['Beta']);
      expect(await names({ type: 'startsWith', field: 'EXPERIMENT_NAME', value: 'eta' })).toEqual([]);
      expect(await names({ type: 'contains', field: 'PARAMETER_NAME', value: 'OT' })).toEqual(['gamma']);
      expect(await names({ type: 'startsWith', field: 'PARAMETER_NAME', value: 'Fl' })).toEqual(['Beta', 'alpha']);
      expect(await names({ type: 'contains', field: 'SERIES_NAME', value: 'LOSS%' })).toEqual(['gamma']);
      expect(await names({ type: 'startsWith', field: 'SERIES_NAME', value: 'acc' })).toEqual(['alpha']);
    });

    it('compares parameters by value class', async () => {
      const p = (parameterName: string, operator: string, value: unknown) => ({
        type: 'parameterFilter',
        parameterName,
        operator,
        value,
      });
      expect(await names(p('lr', 'EQ', 0.01))).toEqual(['Beta']);
      expect(await names(p('n', 'EQ', 3))).toEqual(['alpha']);
      expect(await names(p('flag', 'EQ', true))).toEqual(['alpha']);
      expect(await names(p('flag', 'EQ', false))).toEqual(['Beta']);
      expect(await names(p('when', 'EQ', '2025-01-01T00:00:00+00:00'))).toEqual(['alpha']);
      expect(await names(p('when', 'EQ', '2025-01-31T23:00:00Z'))).toEqual(['Beta']);
      expect(await names(p('lr', 'GT', 0.005))).toEqual(['Beta', 'alpha']);
      expect(await names(p('lr', 'LT', 0.05))).toEqual(['Beta', 'gamma']);
      expect(await names(p('n', 'GT', 3))).toEqual(['Beta']);
      expect(await names(p('when', 'GT', '2025-01-15T00:00:00+00:00'))).toEqual(['Beta']);
      expect(await names(p('when', 'LT', '2025-01-15T00:00:00-05:00'))).toEqual(['alpha']);
      expect(await names(p('opt', 'CONTAINS', 'da'))).toEqual(['alpha']);
      expect(await names(p('opt', 'CONTAINS', 'DA'))).toEqual([]);
      expect(await names(p('note', 'CONTAINS', 'adam'))).toEqual(['gamma']);
      // CONTAINS reads string parameters only: not numbers, booleans or datetimes.
      expect(await names(p('n', 'CONTAINS', '3'))).toEqual([]);
      expect(await names(p('flag', 'CONTAINS', 'true'))).toEqual([]);
      expect(await names(p('when', 'CONTAINS', '2025'))).toEqual([]);
      // A value of another class than the parameter's never matches.
      expect(await names(p('opt', 'EQ', 1))).toEqual([]);
      expect(await names(p('lr', 'EQ', true))).toEqual([]);
    });

    it('compares series lengths, aggregations and summary metrics', async () => {
      const s = (field: string, operator: string, value: number, seriesName = 'train/loss') => ({
        type: 'seriesFilter',
        seriesName,
        field,
        operator,
        value,
      });
      const m = (aggregation: string, operator: string, value: number) => ({
        type: 'summaryMetricFilter',
        seriesName: 'train/loss',
        aggregation,
        operator,
        value,
      });
      expect(await names(s('LENGTH', 'EQ', 3))).toEqual(['Beta']);
      expect(await names(s('LENGTH', 'GT', 1))).toEqual(['Beta', 'alpha']);
      expect(await names(s('LENGTH', 'LT', 2))).toEqual(['gamma']);
      expect(await names(s('AGGREGATION_MIN', 'LT', 1))).toEqual(['alpha', 'gamma']);
      expect(await names(s('AGGREGATION_MAX', 'GT', 1.5))).toEqual(['Beta']);
      expect(await names(s('AGGREGATION_LAST', 'EQ', 1.2))).toEqual(['Beta']);
      expect(await names(s('LENGTH', 'GT', 0, 'missing'))).toEqual([]);
      expect(await names(m('MIN', 'EQ', 0.5))).toEqual(['alpha']);
      expect(await names(m('MAX', 'GT', 0.5))).toEqual(['Beta', 'alpha']);
      expect(await names(m('LAST', 'LT', 0.5))).toEqual(['gamma']);
    });

    it('combines with and, or and not (not also matches what lacks the field)', async () => {
      const tag = (value: string) => ({ type: 'eq', field: 'TAG', value });
      expect(await names({ type: 'and', filters: [tag('shared'), { type: 'not', value: tag('x') }] })).toEqual([
        'Beta',
      ]);
      expect(await names({ type: 'or', filters: [tag('x'), { type: 'eq', field: 'BRANCH', value: 'dev' }] })).toEqual([
        'alpha',
        'gamma',
      ]);
      expect(
        await names({ type: 'not', value: { type: 'parameterFilter', parameterName: 'lr', operator: 'GT', value: 0 } }),
      ).toEqual(['delta']);
      expect(await names({ type: 'and', filters: [] })).toEqual(['Beta', 'alpha', 'delta', 'gamma']);
      expect(await names({ type: 'or', filters: [] })).toEqual([]);
      expect(await names(null)).toEqual(['Beta', 'alpha', 'delta', 'gamma']);
    });

    it('accepts the wrapper-key form of the API docs', async () => {
      expect(
        await names({
          and: {
            filters: [
              { eq: { field: 'STATUS', value: 'SUCCEEDED' } },
              { parameterFilter: { parameterName: 'lr', operator: 'GT', value: 0.01 } },
            ],
          },
        }),
      ).toEqual(['alpha']);
      expect(await names({ not: { value: { eq: { field: 'TAG', value: 'shared' } } } })).toEqual(['delta', 'gamma']);
      expect(
        await names({ seriesFilter: { seriesName: 'train/loss', field: 'LENGTH', operator: 'EQ', value: 2 } }),
      ).toEqual(['alpha']);
    });

    it('rejects every malformed filter with InvalidExperimentSearchFilter and a reason', async () => {
      const p = (operator: unknown, value: unknown) => ({
        type: 'parameterFilter',
        parameterName: 'lr',
        operator,
        value,
      });
      let deep: unknown = { type: 'eq', field: 'TAG', value: 'x' };
      for (let i = 0; i < 40; i++) deep = { type: 'not', value: deep };
      const cases: [unknown, string][] = [
        ['eq', 'filter object'],
        [[], 'filter object'],
        [{ type: 'like', field: 'TAG', value: 'x' }, 'unknown filter type'],
        [{ field: 'TAG', value: 'x' }, 'needs a "type"'],
        [{ eq: { field: 'TAG', value: 'x' }, or: { filters: [] } }, 'needs a "type"'],
        [{ type: 'and', filters: {} }, 'filters must be an array'],
        [{ type: 'and', filters: [{ type: 'eq', field: 'TAG', value: 1 }] }, 'where.filters[0].value'],
        [{ type: 'not', value: 'x' }, 'value must be a filter object'],
        [{ type: 'eq', field: 'COLOR', value: 'x' }, 'field must be one of'],
        [{ type: 'eq', field: 'STATUS', value: 'DONE' }, 'unsupported status'],
        [{ type: 'eq', field: 'STATUS', value: 'succeeded' }, 'unsupported status'],
        [{ type: 'contains', field: 'TAG', value: 'x' }, 'field must be one of'],
        [{ type: 'startsWith', field: 'EXPERIMENT_NAME', value: 3 }, 'must be a string'],
        [{ type: 'parameterFilter', operator: 'EQ', value: 1 }, 'parameterName'],
        [p('NE', 1), 'operator must be one of'],
        [p('EQ', 'adam'), 'ISO-8601'],
        [p('GT', '2025-01-01T00:00:00'), 'ISO-8601'],
        [p('GT', true), 'boolean'],
        [p('LT', false), 'boolean'],
        [p('CONTAINS', 1), 'CONTAINS needs a string'],
        [p('EQ', null), 'null'],
        [p('EQ', undefined), 'value is required'],
        [p('EQ', { a: 1 }), 'object'],
        [{ type: 'seriesFilter', seriesName: 'train/loss', field: 'MEAN', operator: 'EQ', value: 1 }, 'field'],
        [{ type: 'seriesFilter', seriesName: 'train/loss', field: 'LENGTH', operator: 'GE', value: 1 }, 'operator'],
        [{ type: 'seriesFilter', seriesName: 'train/loss', field: 'LENGTH', operator: 'EQ', value: 1.5 }, 'LENGTH'],
        [
          { type: 'seriesFilter', seriesName: 'train/loss', field: 'AGGREGATION_MIN', operator: 'EQ', value: '1' },
          'number',
        ],
        [{ type: 'seriesFilter', field: 'LENGTH', operator: 'EQ', value: 1 }, 'seriesName'],
        [
          { type: 'summaryMetricFilter', seriesName: 'train/loss', aggregation: 'MEAN', operator: 'EQ', value: 1 },
          'aggregation',
        ],
        [{ type: 'summaryMetricFilter', seriesName: 'train/loss', aggregation: 'MIN', operator: 'EQ' }, 'number'],
        [deep, 'nest deeper'],
      ];
      for (const [where, reason] of cases) {
        expect(await invalidFilter(where), JSON.stringify(where)).toContain(reason);
      }
    });
  });

  describe('E2 ordering and paging', () => {
    const all = () => Array.from({ length: 105 }, (_, i) => `m${String(i).padStart(3, '0')}`);

    async function every(body: Json, target = manyModel): Promise<{ names: string[]; pages: number[] }> {
      const found: string[] = [];
      const pages: number[] = [];
      let pageToken: string | undefined;
      do {
        const page = await search({ ...body, ...(pageToken ? { pageToken } : {}) }, target);
        const data = page.data as Json[];
        pages.push(data.length);
        found.push(...data.map((e) => nameOfRid.get(e.rid as string) ?? String(e.rid)));
        pageToken = page.nextPageToken as string | undefined;
        if (pageToken !== undefined) expect(pageToken).toMatch(/^v1\./);
      } while (pageToken);
      return { names: found, pages };
    }

    it('pages 50 by default and at most 100, with no duplicates or gaps', async () => {
      const byName = { orderBy: { field: 'EXPERIMENT_NAME', direction: 'ASC' } };
      expect(await every(byName)).toEqual({ names: all(), pages: [50, 50, 5] });
      expect(await every({ ...byName, pageSize: 1000 })).toEqual({ names: all(), pages: [100, 5] });
      expect(await every({ ...byName, pageSize: '40' })).toEqual({ names: all(), pages: [40, 40, 25] });
      // The default order (newest first) pages just as completely.
      const newestFirst = await every({});
      expect(newestFirst.pages).toEqual([50, 50, 5]);
      expect([...newestFirst.names].sort()).toEqual(all());
      const exact = await search({ ...byName, pageSize: 105 }, manyModel);
      expect((exact.data as Json[]).length).toBe(100);
      const last = await search({ ...byName, pageSize: 5, pageToken: exact.nextPageToken }, manyModel);
      expect((last.data as Json[]).map((e) => nameOfRid.get(e.rid as string))).toEqual(all().slice(100));
      expect(last).not.toHaveProperty('nextPageToken');
    });

    it('orders by name and created time both ways', async () => {
      const order = (field: string, direction: string, pageSize = 30) =>
        every({ orderBy: { field, direction }, pageSize }).then((r) => r.names);
      expect(await order('EXPERIMENT_NAME', 'ASC')).toEqual(all());
      expect(await order('EXPERIMENT_NAME', 'DESC')).toEqual(all().reverse());
      // Created in index order; same-millisecond creations fall back to the key, so only the
      // set and the direction of the distinct times are certain.
      const ascending = await order('CREATED_TIME', 'ASC', 100);
      const descending = await order('CREATED_TIME', 'DESC', 100);
      expect([...ascending].sort()).toEqual(all());
      expect(ascending.indexOf('m000')).toBeLessThan(ascending.indexOf('m104'));
      expect(descending.indexOf('m104')).toBeLessThan(descending.indexOf('m000'));
    });

    it('breaks ties by RID ascending whatever the direction', async () => {
      const twinsAsc = await search({ orderBy: { field: 'EXPERIMENT_NAME', direction: 'ASC' } }, twinsModel);
      const twinsDesc = await search({ orderBy: { field: 'EXPERIMENT_NAME', direction: 'DESC' } }, twinsModel);
      const rids = (page: Json) => (page.data as Json[]).map((e) => (e.rid as string).slice(-1));
      expect(rids(twinsAsc)).toEqual(['c', 'a', 'b']);
      expect(rids(twinsDesc)).toEqual(['a', 'b', 'c']);
    });

    it('rejects garbage page tokens and tokens of another query', async () => {
      const byNameDesc = { field: 'EXPERIMENT_NAME', direction: 'DESC' };
      const first = await search({ pageSize: 10, orderBy: byNameDesc }, manyModel);
      const token = first.nextPageToken as string;
      for (const body of [
        { pageToken: 'garbage' },
        { pageToken: 'v1.not-base64-json' },
        { pageToken: `v1.${Buffer.from(JSON.stringify({ o: -1, h: 'x' })).toString('base64url')}` },
        { pageToken: 42 },
        { pageToken: token, where: { type: 'eq', field: 'TAG', value: 'x' } },
        { pageToken: token, orderBy: { field: 'EXPERIMENT_NAME', direction: 'ASC' } },
        { pageToken: token },
      ]) {
        const response = await call('POST', `${manyModel}/experiments/search`, { body });
        const error = foundryError(response, 400, 'InvalidPageToken');
        expect(error.parameters).toEqual({ pageToken: String(body.pageToken) });
      }
      // A token that is not a string is echoed as its JSON text, not as "[object Object]".
      for (const pageToken of [{ o: 0 }, ['v1.x'], true]) {
        const response = await call('POST', `${manyModel}/experiments/search`, { body: { pageToken } });
        expect(foundryError(response, 400, 'InvalidPageToken').parameters).toEqual({
          pageToken: JSON.stringify(pageToken),
        });
      }
      // The same query may change its page size between pages.
      const next = await search({ pageSize: 3, pageToken: token, orderBy: byNameDesc }, manyModel);
      expect((next.data as Json[]).map((e) => nameOfRid.get(e.rid as string))).toEqual(['m094', 'm093', 'm092']);
    });

    it('rejects invalid page sizes and orderings', async () => {
      for (const pageSize of [0, -1, 1.5, 'abc', true]) {
        const response = await call('POST', `${model}/experiments/search`, { body: { pageSize } });
        expect(foundryError(response, 400, 'InvalidPageSize').parameters).toEqual({ pageSize });
      }
      for (const orderBy of [{ field: 'NAME', direction: 'ASC' }, { field: 'CREATED_TIME' }, 'CREATED_TIME']) {
        const response = await call('POST', `${model}/experiments/search`, { body: { orderBy } });
        foundryError(response, 400, 'Default:InvalidArgument');
      }
    });

    it('needs a JSON body', async () => {
      const text = await call('POST', `${model}/experiments/search`, {
        body: {},
        headers: { 'content-type': 'text/plain' },
      });
      foundryError(text, 415, 'Conjure:UnsupportedMediaType');
      const xml = await call('POST', `${model}/experiments/search`, {
        body: {},
        headers: { 'content-type': 'application/xml' },
      });
      foundryError(xml, 415, 'Conjure:UnsupportedMediaType');
      const broken = await t.app.inject({
        method: 'POST',
        url: `${MODELS}/${model}/experiments/search?preview=true`,
        headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
        payload: '{"where":',
      });
      foundryError(broken, 400, 'Default:InvalidArgument');
    });
  });

  describe('E3 series JSON', () => {
    const seriesPath = (experiment: string, series: string, query = '') =>
      `${model}/experiments/${rid(experiment)}/series/${series}/json?preview=true${query}`;
    const points = async (experiment: string, series: string, query = '') => {
      const response = await call('GET', seriesPath(experiment, series, query), { query: '' });
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json() as Json;
      expect(body.type).toBe('doubleV1');
      return body.series as Json[];
    };

    it('returns points with value, timestamp and step, paged by offset', async () => {
      expect(await points('alpha', 'train%2Floss')).toEqual([
        { value: 1, timestamp: T0, step: 0 },
        { value: 0.5, timestamp: T0 + 1, step: 1 },
      ]);
      expect(await points('alpha', 'train%2Floss', '&offset=1&pageSize=1')).toEqual([
        { value: 0.5, timestamp: T0 + 1, step: 1 },
      ]);
      expect(await points('alpha', 'train%2Floss', '&offset=2')).toEqual([]);
      expect(await points('alpha', 'train%2Floss', '&offset=99')).toEqual([]);
      // Points logged without a step take their position.
      expect((await points('Beta', 'train%2Floss')).map((p) => [p.step, p.value])).toEqual([
        [0, 2],
        [1, 1.5],
        [2, 1.2],
      ]);
      expect((await points('Beta', 'train%2Floss', '&offset=1')).map((p) => p.step)).toEqual([1, 2]);
      expect(await points('gamma', 'val%20loss%25')).toEqual([{ value: 1, timestamp: T0, step: 0 }]);
      expect((await points('gamma', 'odd')).map((p) => p.value)).toEqual([1, 'NaN', 'Infinity']);
    });

    it('pages 200 points by default and at most 1000', async () => {
      const first = await points('delta', 'long');
      expect(first).toHaveLength(200);
      expect(first[199]).toEqual({ value: 99.5, timestamp: T0 + 199, step: 199 });
      expect(await points('delta', 'long', '&pageSize=5000')).toHaveLength(1000);
      const tail = await points('delta', 'long', '&offset=1000&pageSize=1000');
      expect(tail.map((p) => p.step)).toEqual([1000, 1001, 1002, 1003, 1004]);
    });

    it('rejects bad paging and unknown series or experiments', async () => {
      for (const pageSize of ['0', '-5', '2.5', 'ten']) {
        const response = await call('GET', seriesPath('alpha', 'train%2Floss', `&pageSize=${pageSize}`), { query: '' });
        foundryError(response, 400, 'InvalidPageSize');
      }
      for (const offset of ['-1', 'x', '0.5']) {
        const response = await call('GET', seriesPath('alpha', 'train%2Floss', `&offset=${offset}`), { query: '' });
        foundryError(response, 400, 'Default:InvalidArgument');
      }
      const missing = foundryError(
        await call('GET', seriesPath('alpha', 'train%2Fnope'), { query: '' }),
        404,
        'ExperimentSeriesNotFound',
      );
      expect(missing.parameters).toEqual({ modelRid: model, experimentRid: rid('alpha'), seriesName: 'train/nope' });
      // The series name is one path segment: an unencoded slash is another route.
      const split = await call('GET', seriesPath('alpha', 'train/loss'), { query: '' });
      expect(split.statusCode).toBe(404);
      const unknown = 'ri.models.main.experiment.ffffffffffffffffffffffffffffffff';
      const gone = foundryError(
        await call('GET', `${model}/experiments/${unknown}/series/train%2Floss/json`),
        404,
        'ModelExperimentNotFound',
      );
      expect(gone.parameters).toEqual({ modelRid: model, experimentRid: unknown });
    });
  });
});
