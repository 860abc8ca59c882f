import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Json, mlflowCaller } from './support/mlflow-wire.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

/** runs/search: MLflow's filter and order over the query core, keyset pages, views and tenancy. */
describe.each(backends)('MLflow runs/search (%s)', (backend) => {
  let t: TestContext;
  const { ok, fails } = mlflowCaller(() => t);
  let experimentId = '';
  let otherExperimentId = '';
  const runIds: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestContext(backend);
    experimentId = (await ok('POST', 'experiments/create', { name: `search-${backend}` })).experiment_id;
    otherExperimentId = (await ok('POST', 'experiments/create', { name: `search-other-${backend}` })).experiment_id;
    const runs = [
      { name: 'alpha', lr: '0.1', loss: [3, 2, 1], start: 1000, model: 'cnn' },
      { name: 'beta', lr: '0.01', loss: [5, 4], start: 2000, model: 'CNN-big' },
      { name: 'gamma', lr: '0.001', loss: [9], start: 3000, model: 'rnn' },
    ];
    for (const spec of runs) {
      const run = (
        await ok('POST', 'runs/create', {
          experiment_id: experimentId,
          run_name: spec.name,
          start_time: spec.start,
          tags: [{ key: 'model', value: spec.model }],
        })
      ).run;
      const runId = run.info.run_id as string;
      runIds[spec.name] = runId;
      await ok('POST', 'runs/log-batch', {
        run_id: runId,
        params: [{ key: 'lr', value: spec.lr }],
        metrics: spec.loss.map((value, step) => ({ key: 'loss', value, timestamp: 10 + step, step })),
      });
    }
    await ok('POST', 'runs/update', { run_id: runIds.gamma, status: 'KILLED', end_time: 5000 });
    const other = (await ok('POST', 'runs/create', { experiment_id: otherExperimentId, run_name: 'delta' })).run;
    runIds.delta = other.info.run_id;
  });
  afterAll(async () => {
    await t?.close();
  });

  async function names(body: Json): Promise<string[]> {
    const answer = await ok('POST', 'runs/search', { experiment_ids: [experimentId], ...body });
    return (answer.runs as Json[]).map((run) => run.info.run_name as string);
  }

  it('orders by start_time DESC by default and returns whole runs with latest metrics', async () => {
    const answer = await ok('POST', 'runs/search', { experiment_ids: [experimentId] });
    expect((answer.runs as Json[]).map((r) => r.info.run_name)).toEqual(['gamma', 'beta', 'alpha']);
    expect(answer.next_page_token).toBeUndefined();
    const alpha = (answer.runs as Json[])[2] as Json;
    expect(alpha.data.metrics).toEqual([{ key: 'loss', value: 1, timestamp: 12, step: 2 }]);
    expect(alpha.data.params).toEqual([{ key: 'lr', value: '0.1' }]);
  });

  it('filters on metrics (latest value), params, tags and attributes', async () => {
    expect(await names({ filter: 'metrics.loss < 4.5' })).toEqual(['beta', 'alpha']);
    expect(await names({ filter: "params.lr = '0.01'" })).toEqual(['beta']);
    expect(await names({ filter: "tags.model LIKE 'cnn%'" })).toEqual(['alpha']);
    expect(await names({ filter: "tags.model ILIKE 'cnn%'" })).toEqual(['beta', 'alpha']);
    expect(await names({ filter: "attributes.status = 'KILLED'" })).toEqual(['gamma']);
    expect(await names({ filter: "attributes.status = 'RUNNING'" })).toEqual(['beta', 'alpha']);
    expect(await names({ filter: "run_name = 'beta' and metrics.loss >= 4" })).toEqual(['beta']);
    expect(await names({ filter: `attributes.run_id IN ('${runIds.alpha}', '${runIds.gamma}')` })).toEqual([
      'gamma',
      'alpha',
    ]);
    expect(await names({ filter: 'attributes.start_time > 1500' })).toEqual(['gamma', 'beta']);
    // A run lacking the field never matches, even a negated test.
    expect(await names({ filter: "params.missing != 'x'" })).toEqual([]);
  });

  it('orders by metrics, params and attributes', async () => {
    expect(await names({ order_by: ['metrics.loss ASC'] })).toEqual(['alpha', 'beta', 'gamma']);
    expect(await names({ order_by: ['metrics.loss DESC'] })).toEqual(['gamma', 'beta', 'alpha']);
    expect(await names({ order_by: ['attributes.run_name'] })).toEqual(['alpha', 'beta', 'gamma']);
    expect(await names({ order_by: ['params.lr DESC'] })).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('pages by token without repeating or skipping a run, GET and POST alike', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 5; i++) {
      const body: Json = { experiment_ids: [experimentId], max_results: 1, ...(token ? { page_token: token } : {}) };
      const answer = await ok(i % 2 === 0 ? 'POST' : 'GET', 'runs/search', body);
      seen.push(...(answer.runs as Json[]).map((r) => r.info.run_name as string));
      token = answer.next_page_token;
      if (!token) break;
    }
    expect(seen).toEqual(['gamma', 'beta', 'alpha']);
    expect(token).toBeUndefined();
  });

  it('spans several experiments and honours run_view_type', async () => {
    const both = await ok('POST', 'runs/search', { experiment_ids: [experimentId, otherExperimentId] });
    expect((both.runs as Json[]).map((r) => r.info.run_name).sort()).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    await ok('POST', 'runs/delete', { run_id: runIds.beta });
    expect(await names({})).toEqual(['gamma', 'alpha']);
    expect(await names({ run_view_type: 'DELETED_ONLY' })).toEqual(['beta']);
    expect(await names({ run_view_type: 'ALL' })).toEqual(['gamma', 'beta', 'alpha']);
    await ok('POST', 'runs/restore', { run_id: runIds.beta });
    expect(await ok('POST', 'runs/search', { experiment_ids: [] })).toEqual({ runs: [] });
  });

  it("answers bad input with MLflow's codes, and another tenant's experiment as absent", async () => {
    await fails(
      'POST',
      'runs/search',
      { experiment_ids: [experimentId], filter: 'metrics.loss ~ 1' },
      400,
      'INVALID_PARAMETER_VALUE',
    );
    await fails(
      'POST',
      'runs/search',
      { experiment_ids: [experimentId], filter: "foo.bar = 'x'" },
      400,
      'INVALID_PARAMETER_VALUE',
      /Invalid entity type/,
    );
    await fails(
      'POST',
      'runs/search',
      { experiment_ids: [experimentId], max_results: 50_001 },
      400,
      'INVALID_PARAMETER_VALUE',
      /It must be at most 50000/,
    );
    await fails(
      'POST',
      'runs/search',
      { experiment_ids: [experimentId], page_token: 'garbage' },
      400,
      'INVALID_PARAMETER_VALUE',
    );
    await fails(
      'POST',
      'runs/search',
      { experiment_ids: [experimentId] },
      404,
      'RESOURCE_DOES_NOT_EXIST',
      undefined,
      t.otherKey,
    );
  });
});
