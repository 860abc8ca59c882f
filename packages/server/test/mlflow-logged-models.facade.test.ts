import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/core/principal.js';
import { modelOutputsOf } from '../src/http/facades/mlflow/routes/logged-model.mapper.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const API = '/api/2.0/mlflow';
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

interface WireModel {
  info: {
    model_id: string;
    experiment_id: string;
    name: string;
    artifact_uri: string;
    status: string;
    source_run_id: string;
    model_type?: string;
    tags?: { key: string; value: string }[];
    creation_timestamp_ms: number;
    last_updated_timestamp_ms: number;
  };
  data: { params?: { key: string; value: string }[] };
}

describe.each(backends)('MLflow API: logged models (%s)', (backend) => {
  let t: TestContext;
  let principal: Principal;

  async function newRun(projectName = 'mlflow-models'): Promise<{ runId: string; experimentId: string }> {
    const view = await t.core.experiments.create(principal, { workspaceName: 'default', projectName });
    return { runId: view.experiment.id, experimentId: view.project.id };
  }

  async function createModel(body: Record<string, unknown>, key = t.adminKey) {
    return t.request('POST', `${API}/logged-models`, { key, body });
  }

  beforeAll(async () => {
    t = await createTestContext(backend);
    principal = await t.core.auth.authenticate(t.adminKey);
  });
  afterAll(async () => {
    await t?.close();
  });

  /**
   * What `mlflow.sklearn.log_model(model, name="model")` of mlflow 3.x sends for the model
   * itself (the run and metric calls it makes in between are the tracking API's): create, run
   * outputs, get (to learn where the files go), one PUT per file, finalize.
   */
  it('serves the 3.x log_model sequence', async () => {
    const { runId, experimentId } = await newRun();
    const created = await createModel({
      experiment_id: experimentId,
      name: 'model',
      source_run_id: runId,
      params: [{ key: 'alpha', value: '0.5' }],
      tags: [{ key: 'mlflow.user', value: 'me' }],
    });
    expect(created.statusCode, created.body).toBe(200);
    const model = created.json().model as WireModel;
    expect(model.info.model_id).toMatch(/^m-[0-9a-f]{32}$/);
    const modelId = model.info.model_id;
    expect(model.info).toMatchObject({
      experiment_id: experimentId,
      name: 'model',
      source_run_id: runId,
      status: 'LOGGED_MODEL_PENDING',
      artifact_uri: `mlflow-artifacts:/${experimentId}/models/${modelId}/artifacts`,
      tags: [{ key: 'mlflow.user', value: 'me' }],
    });
    expect(model.data.params).toEqual([{ key: 'alpha', value: '0.5' }]);

    expect(
      (
        await t.request('POST', `${API}/runs/outputs`, {
          body: { run_id: runId, models: [{ model_id: modelId, step: 0 }] },
        })
      ).statusCode,
    ).toBe(200);

    const fetched = await t.request('GET', `${API}/logged-models/${modelId}`);
    expect(fetched.json().model.info.artifact_uri).toBe(model.info.artifact_uri);

    const root = `${experimentId}/models/${modelId}/artifacts`;
    for (const [path, body] of [
      ['MLmodel', 'flavors: {}\n'],
      ['model.pkl', 'pickled'],
      ['metadata/requirements.txt', 'scikit-learn\n'],
    ] as const) {
      const put = await t.request('PUT', `${ARTIFACTS}/${root}/${path}`, {
        payload: body,
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(put.statusCode, put.body).toBe(200);
    }

    const finalized = await t.request('PATCH', `${API}/logged-models/${modelId}`, {
      body: { model_id: modelId, status: 'LOGGED_MODEL_READY' },
    });
    expect(finalized.statusCode, finalized.body).toBe(200);
    expect(finalized.json().model.info.status).toBe('LOGGED_MODEL_READY');

    // The files are the model's: through the artifact service, the model's routes, and Comet's model API.
    expect((await t.request('GET', `${ARTIFACTS}?path=${root}`)).json()).toEqual({
      files: [
        { path: 'MLmodel', is_dir: false, file_size: 12 },
        { path: 'metadata', is_dir: true },
        { path: 'model.pkl', is_dir: false, file_size: 7 },
      ],
    });
    const directories = await t.request(
      'GET',
      `${API}/logged-models/${modelId}/artifacts/directories?artifact_directory_path=metadata`,
    );
    expect(directories.json()).toEqual({
      root_uri: model.info.artifact_uri,
      files: [{ path: 'metadata/requirements.txt', is_dir: false, file_size: 13 }],
    });
    const file = await t.request(
      'GET',
      `/ajax-api/2.0/mlflow/logged-models/${modelId}/artifacts/files?artifact_file_path=model.pkl`,
    );
    expect(file.body).toBe('pickled');
    expect((await t.request('GET', `${ARTIFACTS}/${root}/MLmodel`)).body).toBe('flavors: {}\n');
    const { assets } = await t.core.assets.modelAssets(principal, runId, 'model');
    expect(assets.map((a) => a.fileName).sort()).toEqual(['MLmodel', 'metadata/requirements.txt', 'model.pkl']);
    // The run sees them under the model's folder.
    const runFiles = await t.request('GET', `${API}/artifacts/list?run_id=${runId}&path=model`);
    expect(runFiles.json().files.map((f: { path: string }) => f.path)).toEqual([
      'model/MLmodel',
      'model/metadata',
      'model/model.pkl',
    ]);

    // The run's outputs (for runs/get) come from its models.
    expect(modelOutputsOf(await t.core.assets.listModels(principal, runId))).toEqual([{ model_id: modelId, step: 0 }]);
    // …and runs/get shows them, as MLflow 3's client reads them back.
    const run = (await t.request('GET', `${API}/runs/get?run_id=${runId}`)).json();
    expect(run.run.outputs).toEqual({ model_outputs: [{ model_id: modelId, step: 0 }] });
  });

  it('keeps tags and params, searches by experiment and name with pages, deletes', async () => {
    const { runId, experimentId } = await newRun('mlflow-models-search');
    const ids: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      const response = await createModel({
        experiment_id: experimentId,
        name,
        source_run_id: runId,
        model_type: 'agent',
      });
      ids.push(response.json().model.info.model_id);
    }
    const [first, second, third] = ids as [string, string, string];

    expect(
      (
        await t.request('PATCH', `${API}/logged-models/${first}/tags`, {
          body: {
            tags: [
              { key: 'k', value: 'v' },
              { key: 'x', value: '1' },
            ],
          },
        })
      ).statusCode,
    ).toBe(200);
    expect((await t.request('DELETE', `${API}/logged-models/${first}/tags/x`)).statusCode).toBe(200);
    const missingTag = await t.request('DELETE', `${API}/logged-models/${first}/tags/nope`);
    expect(missingTag.json().error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(
      (
        await t.request('POST', `${API}/logged-models/${first}/params`, {
          body: { params: [{ key: 'lr', value: '0.1' }] },
        })
      ).statusCode,
    ).toBe(200);
    const changed = await t.request('POST', `${API}/logged-models/${first}/params`, {
      body: { params: [{ key: 'lr', value: '0.2' }] },
    });
    expect(changed.statusCode).toBe(400);
    expect(changed.json().message).toMatch(/^Changing param values is not allowed/);
    const got = (await t.request('GET', `${API}/logged-models/${first}`)).json().model as WireModel;
    expect(got.info.tags).toEqual([{ key: 'k', value: 'v' }]);
    expect(got.info.model_type).toBe('agent');
    expect(got.data.params).toEqual([{ key: 'lr', value: '0.1' }]);

    const search = (body: Record<string, unknown>) => t.request('POST', `${API}/logged-models/search`, { body });
    const page1 = await search({ experiment_ids: [experimentId], max_results: 2 });
    expect(page1.json().models.map((m: WireModel) => m.info.name)).toHaveLength(2);
    const page2 = await search({
      experiment_ids: [experimentId],
      max_results: 2,
      page_token: page1.json().next_page_token,
    });
    expect(page2.json().next_page_token).toBeUndefined();
    const all = [...page1.json().models, ...page2.json().models].map((m: WireModel) => m.info.model_id);
    expect(all.sort()).toEqual([...ids].sort());
    const byName = await search({ experiment_ids: [experimentId], filter: "name = 'b'" });
    expect(byName.json().models.map((m: WireModel) => m.info.model_id)).toEqual([second]);
    expect((await search({ experiment_ids: [experimentId], filter: 'metrics.x > 1' })).json().error_code).toBe(
      'INVALID_PARAMETER_VALUE',
    );
    expect((await search({ experiment_ids: [experimentId], max_results: 51 })).statusCode).toBe(400);
    expect((await search({ experiment_ids: [experimentId], page_token: 'garbage' })).statusCode).toBe(400);
    // Another tenant's experiment holds nothing for them.
    expect(
      (
        await t.request('POST', `${API}/logged-models/search`, {
          key: t.otherKey,
          body: { experiment_ids: [experimentId] },
        })
      ).json(),
    ).toEqual({});

    await t.request('PUT', `${ARTIFACTS}/${experimentId}/models/${third}/artifacts/w.bin`, {
      payload: 'w',
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect((await t.request('DELETE', `${API}/logged-models/${third}`)).statusCode).toBe(200);
    const gone = await t.request('GET', `${API}/logged-models/${third}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await t.core.assets.list(principal, runId)).filter((a) => a.groupingName === 'c')).toEqual([]);
  });

  it('answers bad requests and other tenants with MLflow errors', async () => {
    const { runId, experimentId } = await newRun('mlflow-models-errors');
    const noRun = await createModel({ experiment_id: experimentId, name: 'x' });
    expect(noRun.json()).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: "Missing value for required parameter 'source_run_id'.",
    });
    expect((await createModel({ name: 'x', source_run_id: runId })).json().message).toBe(
      "Missing value for required parameter 'experiment_id'.",
    );
    const other = await newRun('mlflow-models-elsewhere');
    const wrongExperiment = await createModel({ experiment_id: other.experimentId, name: 'x', source_run_id: runId });
    expect(wrongExperiment.statusCode).toBe(400);
    expect(
      (await createModel({ experiment_id: experimentId, name: 'x', source_run_id: 'f'.repeat(32) })).statusCode,
    ).toBe(404);

    const created = await createModel({ experiment_id: experimentId, name: 'dup', source_run_id: runId });
    const modelId = created.json().model.info.model_id as string;
    const duplicate = await createModel({ experiment_id: experimentId, name: 'dup', source_run_id: runId });
    expect(duplicate.json().error_code).toBe('RESOURCE_ALREADY_EXISTS');

    expect(
      (await t.request('PATCH', `${API}/logged-models/${modelId}`, { body: { status: 'BOGUS' } })).statusCode,
    ).toBe(400);
    expect(
      (await t.request('PATCH', `${API}/logged-models/${modelId}`, { body: { status: 3 } })).json().model.info.status,
    ).toBe('LOGGED_MODEL_UPLOAD_FAILED');

    for (const response of [
      await t.request('GET', `${API}/logged-models/${modelId}`, { key: t.otherKey }),
      await t.request('PATCH', `${API}/logged-models/${modelId}`, {
        key: t.otherKey,
        body: { status: 'LOGGED_MODEL_READY' },
      }),
      await t.request('DELETE', `${API}/logged-models/${modelId}`, { key: t.otherKey }),
      await t.request('PUT', `${ARTIFACTS}/${experimentId}/models/${modelId}/artifacts/x`, {
        key: t.otherKey,
        payload: 'x',
        headers: { 'content-type': 'text/plain' },
      }),
      await createModel({ experiment_id: experimentId, name: 'y', source_run_id: runId }, t.otherKey),
    ]) {
      expect(response.statusCode).toBe(404);
      expect(response.json().error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    }
    expect((await t.request('GET', `${API}/logged-models/m-${'0'.repeat(32)}`)).statusCode).toBe(404);
    expect((await t.request('GET', `${API}/logged-models/not-an-id`)).statusCode).toBe(404);

    await t.core.experiments.setArchived(principal, runId, true);
    const archived = await createModel({ experiment_id: experimentId, name: 'late', source_run_id: runId });
    expect(archived.json().error_code).toBe('INVALID_STATE');
  });
});
