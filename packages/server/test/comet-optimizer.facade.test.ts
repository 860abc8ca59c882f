import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const V2 = '/api/rest/v2';

describe.each(backends)('Comet optimizer: get-best-experiment (%s)', (backend) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function post(path: string, body: Record<string, unknown>, key?: string) {
    const response = await t.request('POST', `${V2}/${path}`, { ...(key === undefined ? {} : { key }), body });
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  }

  /** An experiment that joined the optimization the way comet_ml's Optimizer does: log-other optimizer_id. */
  async function trial(
    optimizationId: string | null,
    metrics: Record<string, number[]>,
    options: { key?: string; workspaceName?: string; projectName?: string } = {},
  ): Promise<string> {
    const { experimentKey } = await post(
      'write/experiment/create',
      { workspaceName: options.workspaceName ?? 'default', projectName: options.projectName ?? 'sweep' },
      options.key,
    );
    if (optimizationId !== null) {
      await post(
        'write/experiment/log-other',
        { experimentKey, key: 'optimizer_id', value: optimizationId },
        options.key,
      );
      await post('write/experiment/log-other', { experimentKey, key: 'optimizer_trial', value: 1 }, options.key);
    }
    for (const [metricName, values] of Object.entries(metrics)) {
      for (const [step, metricValue] of values.entries()) {
        await post('write/experiment/metric', { experimentKey, metricName, metricValue, step }, options.key);
      }
    }
    return experimentKey as string;
  }

  function best(optimizationId: string, metricName: string, goal: string, key?: string | null) {
    const query = new URLSearchParams({ optimizationId, metricName, goal });
    return t.request('GET', `${V2}/get-best-experiment?${query}`, key === undefined ? {} : { key });
  }

  const newOptimizationId = () => randomBytes(16).toString('hex');

  it('attaches experiments by log-other optimizer_id and shows it in their metadata', async () => {
    const optimizationId = newOptimizationId();
    const key = await trial(optimizationId, {});
    const metadata = await t.request('GET', `${V2}/experiment/metadata?experimentKey=${key}`);
    expect(metadata.json().optimizationId).toBe(optimizationId);
    const listed = await t.request('GET', `${V2}/experiments?workspaceName=default&projectName=sweep`);
    expect(listed.json().experiments).toContainEqual(expect.objectContaining({ experimentKey: key, optimizationId }));
  });

  it('ranks by the metric summary: lowest minimum for MIN, highest maximum for MAX', async () => {
    const optimizationId = newOptimizationId();
    const a = await trial(optimizationId, { loss: [0.9, 0.2, 0.5], acc: [0.1, 0.7] });
    const b = await trial(optimizationId, { loss: [0.8, 0.3, 0.95], acc: [0.6, 0.65] });
    await trial(optimizationId, { acc: [0.2] });
    await trial(newOptimizationId(), { loss: [-5], acc: [5] });
    await trial(null, { loss: [-6], acc: [6] });

    const min = await best(optimizationId, 'loss', 'MIN');
    expect(min.statusCode, min.body).toBe(200);
    expect(min.headers['content-type']).toBe('application/json');
    expect(min.json()).toEqual({ experimentKey: a, metricValue: 0.2, experimentCount: 3 });
    expect((await best(optimizationId, 'loss', 'MAX')).json()).toEqual({
      experimentKey: b,
      metricValue: 0.95,
      experimentCount: 3,
    });
    expect((await best(optimizationId, 'acc', 'max')).json()).toEqual({
      experimentKey: a,
      metricValue: 0.7,
      experimentCount: 3,
    });
    // A later, better point changes the answer: the summary is maintained on write.
    await post('write/experiment/metric', { experimentKey: b, metricName: 'loss', metricValue: 0.05, step: 9 });
    expect((await best(optimizationId, 'loss', 'Min')).json()).toMatchObject({ experimentKey: b, metricValue: 0.05 });
    // The alias root answers too.
    const alias = await t.request(
      'GET',
      `/clientlib/rest/v2/get-best-experiment?optimizationId=${optimizationId}&metricName=loss&goal=MIN`,
    );
    expect(alias.json()).toMatchObject({ experimentKey: b });
  });

  it('gives the first created experiment on ties and nulls when no trial logged the metric', async () => {
    const optimizationId = newOptimizationId();
    const first = await trial(optimizationId, { loss: [1] });
    // Creation times are milliseconds; keep the two apart so "first created" is well defined.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await trial(optimizationId, { loss: [1] });
    expect((await best(optimizationId, 'loss', 'MIN')).json()).toEqual({
      experimentKey: first,
      metricValue: 1,
      experimentCount: 2,
    });
    expect((await best(optimizationId, 'never-logged', 'MIN')).json()).toEqual({
      experimentKey: null,
      metricValue: null,
      experimentCount: 2,
    });
  });

  it('follows experiments that change optimization, are archived or are deleted', async () => {
    const from = newOptimizationId();
    const to = newOptimizationId();
    const mover = await trial(from, { loss: [0.1] });
    const stayer = await trial(from, { loss: [0.5] });
    await post('write/experiment/log-other', { experimentKey: mover, key: 'optimizer_id', value: to });
    expect((await best(from, 'loss', 'MIN')).json()).toEqual({
      experimentKey: stayer,
      metricValue: 0.5,
      experimentCount: 1,
    });
    expect((await best(to, 'loss', 'MIN')).json()).toMatchObject({ experimentKey: mover, experimentCount: 1 });

    // Archiving is reversible, so an archived trial still counts; a deleted one is gone.
    expect((await t.request('GET', `${V2}/write/experiment/archive?experimentKey=${mover}`)).statusCode).toBe(200);
    expect((await best(to, 'loss', 'MIN')).json()).toMatchObject({ experimentKey: mover, experimentCount: 1 });
    expect((await t.request('GET', `${V2}/write/experiment/delete?experimentKey=${mover}`)).statusCode).toBe(200);
    const gone = await best(to, 'loss', 'MIN');
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toMatchObject({ code: 404, sdk_error_code: 5124123, data: null });
  });

  it('answers an unknown optimization with sdk_error_code 5124123 and bad queries with 400', async () => {
    const unknown = await best(newOptimizationId(), 'loss', 'MIN');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toBe('application/json');
    expect(unknown.json()).toEqual({
      msg: expect.stringContaining('optimization'),
      code: 404,
      sdk_error_code: 5124123,
      data: null,
    });
    const optimizationId = newOptimizationId();
    await trial(optimizationId, { loss: [1] });
    for (const query of [
      `optimizationId=${optimizationId}&metricName=loss&goal=UP`,
      `optimizationId=${optimizationId}&metricName=loss`,
      `optimizationId=${optimizationId}&goal=MIN`,
      `metricName=loss&goal=MIN`,
    ]) {
      const response = await t.request('GET', `${V2}/get-best-experiment?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json()).toMatchObject({ code: 400, data: null });
    }
    expect((await best(optimizationId, 'loss', 'MIN', null)).statusCode).toBe(401);
  });

  it('never counts or offers another tenant’s experiments, even public ones with the same id', async () => {
    const optimizationId = newOptimizationId();
    const mine = await trial(optimizationId, { loss: [0.4] });
    const bobProject = await post(
      'write/project/create',
      { workspaceName: 'bob', projectName: 'bob-public', isPublic: true },
      t.otherKey,
    );
    expect(bobProject.projectId).toMatch(/^[0-9a-f]{32}$/);
    const theirs = await trial(
      optimizationId,
      { loss: [-100] },
      { key: t.otherKey, workspaceName: 'bob', projectName: 'bob-public' },
    );
    expect((await best(optimizationId, 'loss', 'MIN')).json()).toEqual({
      experimentKey: mine,
      metricValue: 0.4,
      experimentCount: 1,
    });
    expect((await best(optimizationId, 'loss', 'MIN', t.otherKey)).json()).toEqual({
      experimentKey: theirs,
      metricValue: -100,
      experimentCount: 1,
    });
    const onlyMine = newOptimizationId();
    await trial(onlyMine, { loss: [1] });
    expect((await best(onlyMine, 'loss', 'MIN', t.otherKey)).json().sdk_error_code).toBe(5124123);
    // The read-only key reads the ranking.
    expect((await best(optimizationId, 'loss', 'MIN', t.readOnlyKey)).json()).toMatchObject({ experimentKey: mine });
  });
});
