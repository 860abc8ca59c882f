import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Json, mlflowCaller } from './support/mlflow-wire.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const API = '/api/2.0/mlflow';
const AJAX = '/ajax-api/2.0/mlflow';

/**
 * MLflow's tracking API (experiments, runs, logging, history) over HTTP on both stores, with the
 * Comet view of MLflow-logged runs and the MLflow view of Comet-logged experiments.
 */
describe.each(backends)('MLflow tracking facade (%s)', (backend) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  const { call, ok, fails } = mlflowCaller(() => t);

  let seq = 0;
  const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${seq++}`;

  async function newExperiment(name = unique('exp')): Promise<string> {
    return (await ok('POST', 'experiments/create', { name })).experiment_id as string;
  }

  async function newRun(experimentId: string, extra: Json = {}): Promise<Json> {
    return (await ok('POST', 'runs/create', { experiment_id: experimentId, start_time: 1000, ...extra })).run as Json;
  }

  const tagsOf = (run: Json) => Object.fromEntries((run.data.tags as Json[]).map((t) => [t.key, t.value]));
  const paramsOf = (run: Json) => Object.fromEntries((run.data.params as Json[]).map((t) => [t.key, t.value]));
  const metricsOf = (run: Json) => Object.fromEntries((run.data.metrics as Json[]).map((m) => [m.key, m]));

  describe('experiments', () => {
    it('creates, gets by id and by name, with tags and the default artifact location', async () => {
      const name = unique('create');
      const { experiment_id: id } = await ok('POST', 'experiments/create', {
        name,
        tags: [{ key: 'team', value: 'vision' }],
      });
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      const { experiment } = await ok('GET', 'experiments/get', { experiment_id: id });
      expect(experiment).toMatchObject({
        experiment_id: id,
        name,
        artifact_location: `mlflow-artifacts:/${id}`,
        lifecycle_stage: 'active',
        tags: [{ key: 'team', value: 'vision' }],
      });
      expect(experiment.creation_time).toBeGreaterThan(0);
      const byName = await ok('GET', 'experiments/get-by-name', { experiment_name: name });
      expect(byName.experiment.experiment_id).toBe(id);
    });

    it('keeps a custom artifact location verbatim and refuses runs: locations', async () => {
      const id = (await ok('POST', 'experiments/create', { name: unique('loc'), artifact_location: 's3://b/x' }))
        .experiment_id;
      expect((await ok('GET', 'experiments/get', { experiment_id: id })).experiment.artifact_location).toBe('s3://b/x');
      await fails(
        'POST',
        'experiments/create',
        { name: unique('loc'), artifact_location: 'runs:/x' },
        400,
        'INVALID_PARAMETER_VALUE',
      );
    });

    it('answers MLflow errors for bad input, duplicates and unknown experiments', async () => {
      await fails(
        'POST',
        'experiments/create',
        {},
        400,
        'INVALID_PARAMETER_VALUE',
        "Missing value for required parameter 'name'.",
      );
      await fails('POST', 'experiments/create', { name: 'a/b' }, 400, 'INVALID_PARAMETER_VALUE');
      await fails('POST', 'experiments/create', { name: 'x'.repeat(501) }, 400, 'INVALID_PARAMETER_VALUE');
      const name = unique('dup');
      await newExperiment(name);
      await fails(
        'POST',
        'experiments/create',
        { name },
        400,
        'RESOURCE_ALREADY_EXISTS',
        /^Experiment\(name=.*\) already exists/,
      );
      const missing = 'f'.repeat(32);
      await fails(
        'GET',
        'experiments/get',
        { experiment_id: missing },
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `No Experiment with id=${missing} exists`,
      );
      await fails(
        'GET',
        'experiments/get',
        { experiment_id: '12' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
        'No Experiment with id=12 exists',
      );
      await fails(
        'GET',
        'experiments/get-by-name',
        { experiment_name: 'nope-nope' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
        "Could not find experiment with name 'nope-nope'",
      );
      await fails(
        'GET',
        'experiments/get',
        {},
        400,
        'INVALID_PARAMETER_VALUE',
        "Missing value for required parameter 'experiment_id'.",
      );
    });

    it('serves experiment "0" as the Default project, created on first use', async () => {
      const { experiment } = await ok('GET', 'experiments/get', { experiment_id: '0' });
      expect(experiment).toMatchObject({
        experiment_id: '0',
        name: 'Default',
        artifact_location: 'mlflow-artifacts:/0',
      });
      await fails(
        'POST',
        'experiments/delete',
        { experiment_id: '0' },
        400,
        'INVALID_PARAMETER_VALUE',
        /Cannot delete the default experiment/,
      );
      await fails(
        'POST',
        'experiments/update',
        { experiment_id: '0', new_name: 'Other' },
        400,
        'INVALID_PARAMETER_VALUE',
      );
    });

    it('renames, and refuses renaming a deleted experiment', async () => {
      const id = await newExperiment();
      const renamed = unique('renamed');
      const before = (await ok('GET', 'experiments/get', { experiment_id: id })).experiment;
      await ok('POST', 'experiments/update', { experiment_id: id, new_name: renamed });
      const after = (await ok('GET', 'experiments/get', { experiment_id: id })).experiment;
      expect(after.name).toBe(renamed);
      expect(after.last_update_time).toBeGreaterThanOrEqual(before.last_update_time);
      await ok('POST', 'experiments/delete', { experiment_id: id });
      await fails(
        'POST',
        'experiments/update',
        { experiment_id: id, new_name: unique('x') },
        400,
        'INVALID_STATE',
        'Cannot rename a non-active experiment.',
      );
    });

    it('deletes and restores an experiment with its runs; its name stays taken; Comet may not log to it', async () => {
      const name = unique('trash');
      const id = await newExperiment(name);
      const run = await newRun(id);
      const runId = run.info.run_id as string;
      await ok('POST', 'experiments/delete', { experiment_id: id });
      expect((await ok('GET', 'experiments/get', { experiment_id: id })).experiment.lifecycle_stage).toBe('deleted');
      expect((await ok('GET', 'experiments/get-by-name', { experiment_name: name })).experiment.lifecycle_stage).toBe(
        'deleted',
      );
      expect((await ok('GET', 'runs/get', { run_id: runId })).run.info.lifecycle_stage).toBe('deleted');
      await fails('POST', 'experiments/delete', { experiment_id: id }, 404, 'RESOURCE_DOES_NOT_EXIST');
      await fails('POST', 'experiments/create', { name }, 400, 'RESOURCE_ALREADY_EXISTS');
      await fails(
        'POST',
        'runs/create',
        { experiment_id: id },
        400,
        'INVALID_STATE',
        `The experiment ${id} must be in the 'active' state. Current state is deleted.`,
      );
      await fails(
        'POST',
        'runs/log-metric',
        { run_id: runId, key: 'm', value: 1, timestamp: 1 },
        400,
        'INVALID_STATE',
        `The run ${runId} must be in the 'active' state. Current state is deleted.`,
      );
      // Comet: the project is left out of listings, and logging to it is refused.
      const projects = await t.request('GET', '/api/rest/v2/projects?workspaceName=default');
      expect(projects.statusCode).toBe(200);
      expect(JSON.stringify(projects.json())).not.toContain(name);
      const comet = await t.request('POST', '/api/rest/v2/write/experiment/create', {
        body: { workspaceName: 'default', projectName: name },
      });
      expect(comet.statusCode).toBeGreaterThanOrEqual(400);
      expect(comet.body).toContain('trash');

      await ok('POST', 'experiments/restore', { experiment_id: id });
      await fails('POST', 'experiments/restore', { experiment_id: id }, 404, 'RESOURCE_DOES_NOT_EXIST');
      expect((await ok('GET', 'experiments/get', { experiment_id: id })).experiment.lifecycle_stage).toBe('active');
      expect((await ok('GET', 'runs/get', { run_id: runId })).run.info.lifecycle_stage).toBe('active');
    });

    it('sets and deletes experiment tags', async () => {
      const id = await newExperiment();
      await ok('POST', 'experiments/set-experiment-tag', { experiment_id: id, key: 'a', value: '1' });
      await ok('POST', 'experiments/set-experiment-tag', { experiment_id: id, key: 'a', value: '2' });
      await ok('POST', 'experiments/set-experiment-tag', { experiment_id: id, key: 'b', value: '' });
      expect((await ok('GET', 'experiments/get', { experiment_id: id })).experiment.tags).toEqual([
        { key: 'a', value: '2' },
        { key: 'b', value: '' },
      ]);
      await ok('POST', 'experiments/delete-experiment-tag', { experiment_id: id, key: 'a' });
      expect((await ok('GET', 'experiments/get', { experiment_id: id })).experiment.tags).toEqual([
        { key: 'b', value: '' },
      ]);
      await fails(
        'POST',
        'experiments/delete-experiment-tag',
        { experiment_id: id, key: 'a' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      await fails(
        'POST',
        'experiments/set-experiment-tag',
        { experiment_id: id, key: 'k', value: 'v'.repeat(5001) },
        400,
        'INVALID_PARAMETER_VALUE',
      );
      await fails(
        'POST',
        'experiments/set-experiment-tag',
        { experiment_id: id },
        400,
        'INVALID_PARAMETER_VALUE',
        "Missing value for required parameter 'key'.",
      );
    });

    it('searches with view types, a name filter, order and pages', async () => {
      const prefix = unique('search');
      const ids: string[] = [];
      for (const suffix of ['a', 'b', 'c']) ids.push(await newExperiment(`${prefix}-${suffix}`));
      await ok('POST', 'experiments/delete', { experiment_id: ids[2] });
      const all = await ok('POST', 'experiments/search', { max_results: 1000 });
      const names = (all.experiments as Json[]).map((e) => e.name);
      expect(names).toContain(`${prefix}-a`);
      expect(names).not.toContain(`${prefix}-c`);
      expect(names).toContain('Default');
      expect(all.next_page_token).toBeUndefined();
      const deleted = await ok('POST', 'experiments/search', { view_type: 'DELETED_ONLY' });
      expect((deleted.experiments as Json[]).map((e) => e.name)).toContain(`${prefix}-c`);
      const byNumber = await ok('POST', 'experiments/search', { view_type: 3, filter: `name = '${prefix}-c'` });
      expect((byNumber.experiments as Json[]).map((e) => e.experiment_id)).toEqual([ids[2]]);
      const filtered = await ok('POST', 'experiments/search', { filter: `name = '${prefix}-b'` });
      expect((filtered.experiments as Json[]).map((e) => e.experiment_id)).toEqual([ids[1]]);

      const first = await ok('POST', 'experiments/search', { max_results: 1, order_by: ['name ASC'] });
      expect(first.experiments).toHaveLength(1);
      expect(typeof first.next_page_token).toBe('string');
      const second = await ok('GET', 'experiments/search', {
        max_results: 1,
        order_by: 'name ASC',
        page_token: first.next_page_token,
      });
      expect(second.experiments[0].name > first.experiments[0].name).toBe(true);

      await fails(
        'POST',
        'experiments/search',
        { max_results: 50001 },
        400,
        'INVALID_PARAMETER_VALUE',
        "Invalid value 50001 for parameter 'max_results' supplied. It must be at most 50000",
      );
      await fails('POST', 'experiments/search', { page_token: '!!' }, 400, 'INVALID_PARAMETER_VALUE');
      await fails('POST', 'experiments/search', { view_type: 'SOMETIMES' }, 400, 'INVALID_PARAMETER_VALUE');
    });
  });

  describe('runs', () => {
    let experimentId: string;
    beforeAll(async () => {
      experimentId = await newExperiment();
    });

    it('creates a run RUNNING with its name, user, tags and artifact uri, and gets it', async () => {
      const run = await newRun(experimentId, {
        run_name: 'first',
        user_id: 'alice',
        tags: [
          { key: 'mlflow.source.name', value: 'train.py' },
          { key: 'mlflow.runName', value: 'first' },
        ],
      });
      const id = run.info.run_id as string;
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(run.info).toEqual({
        run_id: id,
        run_uuid: id,
        run_name: 'first',
        experiment_id: experimentId,
        user_id: 'alice',
        status: 'RUNNING',
        start_time: 1000,
        artifact_uri: `mlflow-artifacts:/${experimentId}/${id}/artifacts`,
        lifecycle_stage: 'active',
      });
      expect(tagsOf(run)).toEqual({
        'mlflow.source.name': 'train.py',
        'mlflow.user': 'alice',
        'mlflow.runName': 'first',
      });
      expect((await ok('GET', 'runs/get', { run_id: id })).run).toEqual(run);
      expect((await ok('GET', 'runs/get', { run_uuid: id })).run.info.run_id).toBe(id);
    });

    it('names a run from the tag, generates a name otherwise, refuses conflicting names', async () => {
      const tagged = await newRun(experimentId, { tags: [{ key: 'mlflow.runName', value: 'from-tag' }] });
      expect(tagged.info.run_name).toBe('from-tag');
      const generated = await newRun(experimentId);
      expect(generated.info.run_name).toMatch(/^[a-z]+-[a-z]+-\d+$/);
      expect(tagsOf(generated)['mlflow.runName']).toBe(generated.info.run_name);
      expect(generated.info.user_id).toBe('admin');
      await fails(
        'POST',
        'runs/create',
        { experiment_id: experimentId, run_name: 'a', tags: [{ key: 'mlflow.runName', value: 'b' }] },
        400,
        'INVALID_PARAMETER_VALUE',
        "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='a', mlflow.runName='b').",
      );
    });

    it('creates runs in experiment "0" when none is named', async () => {
      const run = (await ok('POST', 'runs/create', {})).run;
      expect(run.info.experiment_id).toBe('0');
      expect(run.info.artifact_uri).toBe(`mlflow-artifacts:/0/${run.info.run_id}/artifacts`);
      await fails('POST', 'runs/create', { experiment_id: 'e'.repeat(32) }, 404, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('updates status, end time and name; maps KILLED and SCHEDULED', async () => {
      const id = (await newRun(experimentId)).info.run_id;
      const { run_info } = await ok('POST', 'runs/update', { run_id: id, status: 'FINISHED', end_time: 5000 });
      expect(run_info).toMatchObject({ status: 'FINISHED', end_time: 5000 });
      await ok('POST', 'runs/update', { run_id: id, run_name: 'renamed' });
      const run = (await ok('GET', 'runs/get', { run_id: id })).run;
      expect(run.info).toMatchObject({ run_name: 'renamed', status: 'FINISHED', end_time: 5000 });
      expect(tagsOf(run)['mlflow.runName']).toBe('renamed');
      for (const status of ['KILLED', 'SCHEDULED', 'FAILED', 'RUNNING'] as const) {
        expect((await ok('POST', 'runs/update', { run_uuid: id, status })).run_info.status).toBe(status);
      }
      expect((await ok('POST', 'runs/update', { run_id: id, status: 5 })).run_info.status).toBe('KILLED');
      await fails('POST', 'runs/update', { run_id: id, status: 'DONE' }, 400, 'INVALID_PARAMETER_VALUE');
      await fails(
        'POST',
        'runs/update',
        {},
        400,
        'INVALID_PARAMETER_VALUE',
        "Missing value for required parameter 'run_id'.",
      );
    });

    it('deletes and restores runs; a deleted run refuses writes but is still read', async () => {
      const id = (await newRun(experimentId)).info.run_id as string;
      await ok('POST', 'runs/delete', { run_id: id });
      expect((await ok('GET', 'runs/get', { run_id: id })).run.info.lifecycle_stage).toBe('deleted');
      const state = `The run ${id} must be in the 'active' state. Current state is deleted.`;
      await fails('POST', 'runs/log-parameter', { run_id: id, key: 'p', value: '1' }, 400, 'INVALID_STATE', state);
      await fails('POST', 'runs/set-tag', { run_id: id, key: 't', value: '1' }, 400, 'INVALID_STATE', state);
      await fails('POST', 'runs/update', { run_id: id, status: 'FINISHED' }, 400, 'INVALID_STATE', state);
      await fails('POST', 'runs/log-batch', { run_id: id }, 400, 'INVALID_STATE', state);
      await ok('POST', 'runs/restore', { run_id: id });
      expect((await ok('GET', 'runs/get', { run_id: id })).run.info.lifecycle_stage).toBe('active');
      await ok('POST', 'runs/log-parameter', { run_id: id, key: 'p', value: '1' });
    });

    it('answers unknown runs with MLflow not-found', async () => {
      const missing = 'a'.repeat(32);
      await fails(
        'GET',
        'runs/get',
        { run_id: missing },
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `Run with id=${missing} not found`,
      );
      await fails(
        'POST',
        'runs/log-metric',
        { run_id: missing, key: 'm', value: 1, timestamp: 1 },
        404,
        'RESOURCE_DOES_NOT_EXIST',
      );
      await fails('POST', 'runs/delete', { run_id: missing }, 404, 'RESOURCE_DOES_NOT_EXIST');
    });
  });

  describe('logging', () => {
    let experimentId: string;
    beforeAll(async () => {
      experimentId = await newExperiment();
    });

    it('logs metrics with NaN and infinities; data.metrics holds the latest by (step, timestamp, value)', async () => {
      const id = (await newRun(experimentId)).info.run_id;
      await ok('POST', 'runs/log-metric', { run_id: id, key: 'loss', value: 3, timestamp: 10, step: 5 });
      await ok('POST', 'runs/log-metric', { run_id: id, key: 'loss', value: 1, timestamp: 20, step: 2 });
      await ok('POST', 'runs/log-metric', { run_id: id, key: 'nan', value: 'NaN', timestamp: 1 });
      await ok('POST', 'runs/log-metric', { run_uuid: id, key: 'inf', value: 'Infinity', timestamp: '2', step: '1' });
      const metrics = metricsOf((await ok('GET', 'runs/get', { run_id: id })).run);
      expect(metrics.loss).toEqual({ key: 'loss', value: 3, timestamp: 10, step: 5 });
      expect(metrics.nan).toEqual({ key: 'nan', value: 'NaN', timestamp: 1, step: 0 });
      expect(metrics.inf).toEqual({ key: 'inf', value: 'Infinity', timestamp: 2, step: 1 });
      await fails(
        'POST',
        'runs/log-metric',
        { run_id: id, key: 'm', value: 1 },
        400,
        'INVALID_PARAMETER_VALUE',
        "Missing value for required parameter 'timestamp'.",
      );
      await fails(
        'POST',
        'runs/log-metric',
        { run_id: id, key: 'm', value: 'abc', timestamp: 1 },
        400,
        'INVALID_PARAMETER_VALUE',
        /Invalid value "abc" for parameter 'value' supplied/,
      );
      await fails(
        'POST',
        'runs/log-metric',
        { run_id: id, key: 'bad*key', value: 1, timestamp: 1 },
        400,
        'INVALID_PARAMETER_VALUE',
        /Invalid metric name/,
      );
    });

    it('drops exact duplicate points, within a request and against stored points', async () => {
      const id = (await newRun(experimentId)).info.run_id;
      const point = { key: 'acc', value: 0.5, timestamp: 100, step: 1 };
      await ok('POST', 'runs/log-metric', { run_id: id, ...point });
      await ok('POST', 'runs/log-metric', { run_id: id, key: 'acc', value: 0.9, timestamp: 200, step: 3 });
      // Not beyond the latest: compared with the stored points.
      await ok('POST', 'runs/log-metric', { run_id: id, ...point });
      await ok('POST', 'runs/log-batch', { run_id: id, metrics: [point, point, { ...point, value: 0.6 }] });
      await ok('POST', 'runs/log-batch', {
        run_id: id,
        metrics: [
          { key: 'nanny', value: 'NaN', timestamp: 1 },
          { key: 'nanny', value: 'NaN', timestamp: 1 },
        ],
      });
      await ok('POST', 'runs/log-metric', { run_id: id, key: 'nanny', value: 'NaN', timestamp: 1 });
      const history = await ok('GET', 'metrics/get-history', { run_id: id, metric_key: 'acc' });
      expect(history.metrics).toEqual([
        { key: 'acc', value: 0.5, timestamp: 100, step: 1 },
        { key: 'acc', value: 0.6, timestamp: 100, step: 1 },
        { key: 'acc', value: 0.9, timestamp: 200, step: 3 },
      ]);
      expect((await ok('GET', 'metrics/get-history', { run_id: id, metric_key: 'nanny' })).metrics).toHaveLength(1);
    });

    it('keeps params write-once with MLflow messages; "" is a value', async () => {
      const id = (await newRun(experimentId)).info.run_id;
      await ok('POST', 'runs/log-parameter', { run_id: id, key: 'lr', value: '0.1' });
      await ok('POST', 'runs/log-parameter', { run_id: id, key: 'lr', value: '0.1' });
      await ok('POST', 'runs/log-parameter', { run_id: id, key: 'empty', value: '' });
      await fails(
        'POST',
        'runs/log-parameter',
        { run_id: id, key: 'lr', value: '0.2' },
        400,
        'INVALID_PARAMETER_VALUE',
        `Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' for run ID='${id}'. Attempted logging new value '0.2'.`,
      );
      expect(paramsOf((await ok('GET', 'runs/get', { run_id: id })).run)).toEqual({ empty: '', lr: '0.1' });
    });

    it('upserts and deletes tags; mlflow.runName renames the run', async () => {
      const id = (await newRun(experimentId, { run_name: 'tagged' })).info.run_id;
      await ok('POST', 'runs/set-tag', { run_id: id, key: 'stage', value: 'a' });
      await ok('POST', 'runs/set-tag', { run_id: id, key: 'stage', value: 'b' });
      await ok('POST', 'runs/set-tag', { run_id: id, key: 'mlflow.runName', value: 'retagged' });
      let run = (await ok('GET', 'runs/get', { run_id: id })).run;
      expect(run.info.run_name).toBe('retagged');
      expect(tagsOf(run)).toMatchObject({ stage: 'b', 'mlflow.runName': 'retagged' });
      await ok('POST', 'runs/delete-tag', { run_id: id, key: 'stage' });
      run = (await ok('GET', 'runs/get', { run_id: id })).run;
      expect(tagsOf(run).stage).toBeUndefined();
      await fails(
        'POST',
        'runs/delete-tag',
        { run_id: id, key: 'stage' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `No tag with name: stage in run with id ${id}`,
      );
    });

    it('logs a batch atomically, with MLflow limits and messages', async () => {
      const id = (await newRun(experimentId)).info.run_id;
      await ok('POST', 'runs/log-batch', {
        run_id: id,
        metrics: [
          { key: 'm', value: 1, timestamp: 1, step: 0 },
          { key: 'm', value: 2, timestamp: 2, step: 1 },
        ],
        params: [{ key: 'p', value: 'x' }],
        tags: [
          { key: 't', value: '1' },
          { key: 't', value: '2' },
        ],
      });
      let run = (await ok('GET', 'runs/get', { run_id: id })).run;
      expect(metricsOf(run).m).toMatchObject({ value: 2, step: 1 });
      expect(paramsOf(run)).toEqual({ p: 'x' });
      expect(tagsOf(run).t).toBe('2');

      // One bad entry and nothing of the batch lands.
      await fails(
        'POST',
        'runs/log-batch',
        { run_id: id, metrics: [{ key: 'n', value: 1, timestamp: 1 }], params: [{ key: 'p', value: 'y' }] },
        400,
        'INVALID_PARAMETER_VALUE',
        /Changing param values is not allowed/,
      );
      run = (await ok('GET', 'runs/get', { run_id: id })).run;
      expect(metricsOf(run).n).toBeUndefined();

      await fails(
        'POST',
        'runs/log-batch',
        { run_id: id, metrics: [{ key: 'n', value: 1 }] },
        400,
        'INVALID_PARAMETER_VALUE',
        "Missing value for required parameter 'metrics[0].timestamp'.",
      );
      await fails(
        'POST',
        'runs/log-batch',
        {
          run_id: id,
          params: [
            { key: 'a', value: '1' },
            { key: 'a', value: '1' },
          ],
        },
        400,
        'INVALID_PARAMETER_VALUE',
        "Duplicate parameter keys have been submitted: ['a']. Please ensure the request contains only one param value per param key.",
      );
      const many = Array.from({ length: 1001 }, (_, i) => ({ key: 'k', value: i, timestamp: i }));
      await fails(
        'POST',
        'runs/log-batch',
        { run_id: id, metrics: many },
        400,
        'INVALID_PARAMETER_VALUE',
        'A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.',
      );
      const params = Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: '1' }));
      await fails(
        'POST',
        'runs/log-batch',
        { run_id: id, params },
        400,
        'INVALID_PARAMETER_VALUE',
        /at most 100 params/,
      );
      await fails(
        'POST',
        'runs/log-batch',
        {},
        400,
        'INVALID_PARAMETER_VALUE',
        "Missing value for required parameter 'run_id'.",
      );
    });

    it('logs 1000 metrics in one batch fast', async () => {
      const id = (await newRun(experimentId)).info.run_id;
      const metrics = Array.from({ length: 1000 }, (_, i) => ({
        key: `k${i % 10}`,
        value: i,
        timestamp: 1000 + i,
        step: i,
      }));
      const started = performance.now();
      const rounds = 5;
      for (let r = 0; r < rounds; r++) {
        await ok('POST', 'runs/log-batch', {
          run_id: id,
          metrics: metrics.map((m) => ({ ...m, step: m.step + r * 1000 })),
        });
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(`log-batch (${backend}): ${Math.round((rounds * 1000) / seconds)} points/s`);
      const history = await ok('GET', 'metrics/get-history', { run_id: id, metric_key: 'k3' });
      expect(history.metrics).toHaveLength(500);
    });

    it('logs dataset inputs once per (name, digest)', async () => {
      const id = (await newRun(experimentId)).info.run_id;
      const dataset = { name: 'mnist', digest: 'abc', source_type: 'local', source: '/data', schema: '{"x":1}' };
      await ok('POST', 'runs/log-inputs', {
        run_id: id,
        datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset }],
      });
      await ok('POST', 'runs/log-inputs', {
        run_id: id,
        datasets: [
          { tags: [{ key: 'mlflow.data.context', value: 'eval' }], dataset },
          { tags: [], dataset: { ...dataset, digest: 'def' } },
        ],
      });
      const run = (await ok('GET', 'runs/get', { run_id: id })).run;
      expect(run.inputs.dataset_inputs).toEqual([
        { tags: [{ key: 'mlflow.data.context', value: 'train' }], dataset },
        { tags: [], dataset: { ...dataset, digest: 'def' } },
      ]);
      await fails(
        'POST',
        'runs/log-inputs',
        { run_id: id, datasets: [{ dataset: { name: 'x' } }] },
        400,
        'INVALID_PARAMETER_VALUE',
        "Missing value for required parameter 'datasets[0].dataset.digest'.",
      );
    });
  });

  describe('concurrent log-batches', () => {
    it('commit together across runs; a refused batch stores nothing, the others everything', async () => {
      const experimentId = await newExperiment();
      const runs = await Promise.all([1, 2, 3, 4].map(() => newRun(experimentId)));
      const ids = runs.map((run) => run.info.run_id as string);
      const refusedId = ids[3] as string;
      await ok('POST', 'runs/log-parameter', { run_id: refusedId, key: 'lr', value: '0.1' });
      const metrics = (value: number) =>
        Array.from({ length: 50 }, (_, step) => ({ key: 'loss', value: value + step, timestamp: 100 + step, step }));
      const answers = await Promise.all(
        ids.map((runId, i) =>
          call('POST', 'runs/log-batch', {
            run_id: runId,
            metrics: metrics(i * 1000),
            params: [{ key: 'lr', value: i === 3 ? '0.2' : '0.1' }],
            tags: [{ key: 'writer', value: String(i) }],
          }),
        ),
      );
      expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 400]);
      expect(answers[3]?.json().message).toMatch(/^Changing param values is not allowed/);
      for (const [i, runId] of ids.entries()) {
        const run = (await ok('GET', 'runs/get', { run_id: runId })).run as Json;
        const history = await ok('GET', 'metrics/get-history', { run_id: runId, metric_key: 'loss' });
        if (i === 3) {
          expect(history).toEqual({});
          expect(tagsOf(run).writer).toBeUndefined();
        } else {
          expect((history.metrics as Json[]).map((m) => m.value)).toEqual(metrics(i * 1000).map((m) => m.value));
          expect(tagsOf(run).writer).toBe(String(i));
          expect(paramsOf(run).lr).toBe('0.1');
        }
      }
    });
  });

  describe('metric history', () => {
    let runId: string;
    let otherRunId: string;
    beforeAll(async () => {
      const experimentId = await newExperiment();
      runId = (await newRun(experimentId)).info.run_id;
      otherRunId = (await newRun(experimentId)).info.run_id;
      const metrics = Array.from({ length: 30 }, (_, i) => ({ key: 'x', value: i, timestamp: 1000 - i, step: i }));
      await ok('POST', 'runs/log-batch', { run_id: runId, metrics });
      await ok('POST', 'runs/log-batch', {
        run_id: otherRunId,
        metrics: [0, 10, 20, 100].map((step) => ({ key: 'x', value: step, timestamp: 5, step })),
      });
    });

    it('returns every point in (timestamp, step, value) order, paged by max_results', async () => {
      const all = await ok('GET', 'metrics/get-history', { run_id: runId, metric_key: 'x' });
      expect(all.metrics).toHaveLength(30);
      expect(all.metrics[0]).toEqual({ key: 'x', value: 29, timestamp: 971, step: 29 });
      expect(all.next_page_token).toBeUndefined();
      const pages: Json[] = [];
      let token: string | undefined;
      do {
        const page = await ok('GET', 'metrics/get-history', {
          run_id: runId,
          metric_key: 'x',
          max_results: 12,
          ...(token ? { page_token: token } : {}),
        });
        pages.push(...(page.metrics as Json[]));
        token = page.next_page_token;
      } while (token);
      expect(pages).toEqual(all.metrics);
      expect(await ok('GET', 'metrics/get-history', { run_id: runId, metric_key: 'none' })).toEqual({});
      await fails(
        'GET',
        'metrics/get-history',
        { run_id: runId },
        400,
        'INVALID_PARAMETER_VALUE',
        "Missing value for required parameter 'metric_key'.",
      );
    });

    it('samples steps across runs for get-history-bulk-interval', async () => {
      const full = await ok('GET', 'metrics/get-history-bulk-interval', {
        run_ids: [runId, otherRunId],
        metric_key: 'x',
      });
      expect((full.metrics as Json[]).filter((m) => m.run_id === runId)).toHaveLength(30);
      expect((full.metrics as Json[]).filter((m) => m.run_id === otherRunId).map((m) => m.step)).toEqual([
        0, 10, 20, 100,
      ]);
      const sampled = await ok('GET', 'metrics/get-history-bulk-interval', {
        run_ids: [runId, otherRunId],
        metric_key: 'x',
        max_results: 5,
      });
      const steps = (sampled.metrics as Json[]).filter((m) => m.run_id === runId).map((m) => m.step);
      // 31 distinct steps (0..29 and 100) thinned to 5 evenly spaced, plus the last, plus each run's ends.
      expect(steps).toEqual([0, 6, 12, 18, 24, 29]);
      const ranged = await ok('GET', 'metrics/get-history-bulk-interval', {
        run_ids: otherRunId,
        metric_key: 'x',
        start_step: 5,
        end_step: 50,
      });
      expect((ranged.metrics as Json[]).map((m) => m.step)).toEqual([10, 20]);
      await fails(
        'GET',
        'metrics/get-history-bulk-interval',
        { run_ids: runId, metric_key: 'x', start_step: 1 },
        400,
        'INVALID_PARAMETER_VALUE',
      );
      await fails(
        'GET',
        'metrics/get-history-bulk-interval',
        { run_ids: runId, metric_key: 'x', max_results: 2501 },
        400,
        'INVALID_PARAMETER_VALUE',
      );
      await fails(
        'GET',
        'metrics/get-history-bulk-interval',
        { metric_key: 'x' },
        400,
        'INVALID_PARAMETER_VALUE',
        "Missing value for required parameter 'run_ids'.",
      );
    });

    it('serves get-history-bulk under /ajax-api only', async () => {
      const url = `${AJAX}/metrics/get-history-bulk?run_id=${otherRunId}&run_id=${runId}&metric_key=x&max_results=6`;
      const response = await t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${t.adminKey}` } });
      expect(response.statusCode, response.body).toBe(200);
      const metrics = (response.json() as Json).metrics as Json[];
      expect(metrics.map((m) => m.run_id)).toEqual([otherRunId, otherRunId, otherRunId, otherRunId, runId, runId]);
      const plain = await call('GET', 'metrics/get-history-bulk', { run_id: runId, metric_key: 'x' });
      expect(plain.statusCode).toBe(404);
      expect((plain.json() as Json).error_code).toBe('ENDPOINT_NOT_FOUND');
    });
  });

  describe('access', () => {
    it('accepts Basic credentials whose password is the key, and answers 401 without a key', async () => {
      const basic = Buffer.from(`anyone:${t.adminKey}`).toString('base64');
      const response = await t.app.inject({
        method: 'GET',
        url: `${API}/experiments/get?experiment_id=0`,
        headers: { authorization: `Basic ${basic}` },
      });
      expect(response.statusCode, response.body).toBe(200);
      await fails('GET', 'experiments/get', { experiment_id: '0' }, 401, 'UNAUTHENTICATED', undefined, null);
    });

    it('refuses writes with a read-only key', async () => {
      await fails(
        'POST',
        'experiments/create',
        { name: unique('ro') },
        403,
        'PERMISSION_DENIED',
        undefined,
        t.readOnlyKey,
      );
    });

    it('hides another tenant’s experiments and runs as absent', async () => {
      const id = await newExperiment();
      const runId = (await newRun(id)).info.run_id;
      await fails(
        'GET',
        'experiments/get',
        { experiment_id: id },
        404,
        'RESOURCE_DOES_NOT_EXIST',
        undefined,
        t.otherKey,
      );
      await fails(
        'GET',
        'runs/get',
        { run_id: runId },
        404,
        'RESOURCE_DOES_NOT_EXIST',
        `Run with id=${runId} not found`,
        t.otherKey,
      );
      await fails(
        'POST',
        'runs/log-metric',
        { run_id: runId, key: 'm', value: 1, timestamp: 1 },
        404,
        'RESOURCE_DOES_NOT_EXIST',
        undefined,
        t.otherKey,
      );
      await fails(
        'GET',
        'metrics/get-history',
        { run_id: runId, metric_key: 'm' },
        404,
        'RESOURCE_DOES_NOT_EXIST',
        undefined,
        t.otherKey,
      );
      // Bob's "0" is his own workspace's Default, not the admin's.
      await ok('POST', 'experiments/set-experiment-tag', { experiment_id: '0', key: 'owner', value: 'admin' });
      const bobDefault = await ok('GET', 'experiments/get', { experiment_id: '0' }, t.otherKey);
      expect(bobDefault.experiment).toMatchObject({ experiment_id: '0', name: 'Default', tags: [] });
      const bobSearch = await ok('POST', 'experiments/search', {}, t.otherKey);
      expect((bobSearch.experiments as Json[]).map((e) => e.experiment_id)).not.toContain(id);
    });

    it('works in the workspace X-MLFLOW-WORKSPACE names', async () => {
      const workspace = (
        await t.core.projects.createWorkspace(await t.core.auth.authenticate(t.adminKey), unique('ws'))
      ).name;
      const name = unique('in-ws');
      const headers = { authorization: `Bearer ${t.adminKey}`, 'x-mlflow-workspace': workspace };
      const response = await t.app.inject({
        method: 'POST',
        url: `${API}/experiments/create`,
        headers,
        payload: { name },
      });
      expect(response.statusCode, response.body).toBe(200);
      const found = await t.app.inject({
        method: 'GET',
        url: `${API}/experiments/get-by-name?experiment_name=${name}`,
        headers,
      });
      expect(found.statusCode).toBe(200);
      await fails('GET', 'experiments/get-by-name', { experiment_name: name }, 404, 'RESOURCE_DOES_NOT_EXIST');
      const unknown = await t.app.inject({
        method: 'GET',
        url: `${API}/experiments/get?experiment_id=0`,
        headers: { ...headers, 'x-mlflow-workspace': 'no-such-workspace' },
      });
      expect(unknown.statusCode).toBe(404);
    });

    it('answers unknown paths with ENDPOINT_NOT_FOUND', async () => {
      for (const url of [`${API}/runs/nope`, `${AJAX}/experiments/nope`]) {
        const response = await t.app.inject({
          method: 'POST',
          url,
          headers: { authorization: `Bearer ${t.adminKey}` },
        });
        expect(response.statusCode).toBe(404);
        expect(response.json()).toEqual({ error_code: 'ENDPOINT_NOT_FOUND', message: 'Not found' });
      }
    });
  });

  describe('across APIs', () => {
    it('shows an MLflow-logged run through Comet’s REST routes', async () => {
      const name = unique('cross');
      const experimentId = await newExperiment(name);
      const runId = (await newRun(experimentId, { run_name: 'mlflow-run' })).info.run_id;
      await ok('POST', 'runs/log-batch', {
        run_id: runId,
        metrics: [{ key: 'loss', value: 0.25, timestamp: 1234, step: 3 }],
        params: [{ key: 'lr', value: '0.01' }],
        tags: [{ key: 'owner', value: 'team-a' }],
      });
      const get = async (path: string) => {
        const response = await t.request('GET', `/api/rest/v2/${path}`);
        expect(response.statusCode, `${path}: ${response.body}`).toBe(200);
        return response.json() as Json;
      };
      const experiments = await get(`experiments?workspaceName=default&projectName=${name}`);
      expect(JSON.stringify(experiments)).toContain(runId);
      const params = await get(`experiment/parameters?experimentKey=${runId}`);
      expect(params.values).toEqual([expect.objectContaining({ name: 'lr', valueCurrent: '0.01' })]);
      const others = await get(`experiment/log-other?experimentKey=${runId}`);
      expect(others.values).toEqual([expect.objectContaining({ name: 'owner', valueCurrent: 'team-a' })]);
      const metrics = await get(`experiment/metrics/get-metric?experimentKey=${runId}&metricName=loss`);
      expect(metrics.metrics).toEqual([
        expect.objectContaining({ metricName: 'loss', metricValue: 0.25, step: 3, timestamp: 1234 }),
      ]);
    });

    it('reads and searches a Comet-logged experiment through MLflow', async () => {
      const project = unique('comet-proj');
      const post = async (path: string, body: Json) => {
        const response = await t.request('POST', `/api/rest/v2/${path}`, { body });
        expect(response.statusCode, `${path}: ${response.body}`).toBe(200);
        return response.json() as Json;
      };
      const { experimentKey } = await post('write/experiment/create', {
        workspaceName: 'default',
        projectName: project,
        experimentName: 'comet-run',
      });
      await post('write/experiment/metric', {
        experimentKey,
        metricName: 'acc',
        metricValue: 0.5,
        step: 1,
        timestamp: 10,
      });
      await post('write/experiment/metric', {
        experimentKey,
        metricName: 'acc',
        metricValue: 0.7,
        step: 2,
        timestamp: 20,
      });
      await post('write/experiment/parameter', { experimentKey, parameterName: 'batch', parameterValue: 64 });
      await post('write/experiment/tags', { experimentKey, addedTags: ['baseline'] });
      const { experiment } = await ok('GET', 'experiments/get-by-name', { experiment_name: project });
      const found = await ok('POST', 'experiments/search', { filter: `name = '${project}'` });
      expect(found.experiments.map((e: Json) => e.experiment_id)).toEqual([experiment.experiment_id]);
      const run = (await ok('GET', 'runs/get', { run_id: experimentKey })).run;
      expect(run.info).toMatchObject({
        run_id: experimentKey,
        run_name: 'comet-run',
        experiment_id: experiment.experiment_id,
        user_id: 'admin',
      });
      expect(['RUNNING', 'FINISHED']).toContain(run.info.status);
      expect(metricsOf(run).acc).toEqual({ key: 'acc', value: 0.7, timestamp: 20, step: 2 });
      expect(paramsOf(run)).toEqual({ batch: '64' });
      expect(tagsOf(run)).toEqual({ baseline: '', 'mlflow.runName': 'comet-run' });
      // A Comet label is a tag to MLflow, and deleting it removes the label.
      await ok('POST', 'runs/delete-tag', { run_id: experimentKey, key: 'baseline' });
      const tags = await t.request('GET', `/api/rest/v2/experiment/tags?experimentKey=${experimentKey}`);
      expect((tags.json() as Json).tags).toEqual([]);
    });
  });
});
