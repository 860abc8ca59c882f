import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExperiment, experimentWithModel, register, V2 } from './support/registry-fixtures.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const API = '/api/2.0/mlflow';

let unique = 0;
/** A registered model name no other test uses, in MLflow's own spelling (capitals and spaces kept). */
function modelName(base: string): string {
  unique += 1;
  return `${base} Model_${unique}.${Math.random().toString(36).slice(2, 6)}`;
}

describe.each(backends)('MLflow model registry (%s)', (backend) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, input: object = {}, key = t.adminKey) => {
    const headers = { authorization: `Bearer ${key}` };
    if (method === 'GET') {
      const query = new URLSearchParams();
      for (const [name, value] of Object.entries(input)) {
        for (const item of Array.isArray(value) ? value : [value]) query.append(name, String(item));
      }
      return t.request('GET', `${API}/${path}?${query}`, { key: null, headers });
    }
    return t.request(method, `${API}/${path}`, { key: null, headers, body: input });
  };
  const ok = async (response: Awaited<ReturnType<typeof call>>) => {
    expect(response.statusCode, response.body).toBe(200);
    return response.json();
  };
  const error = (response: Awaited<ReturnType<typeof call>>, status: number, code: string) => {
    expect(response.statusCode, response.body).toBe(status);
    expect(response.json().error_code).toBe(code);
    return response.json().message as string;
  };

  /** A run (Comet experiment) with plain files under `model/`, as an MLflow client uploads them. */
  async function runWithModelFiles(key = t.adminKey) {
    const runId = await createExperiment(t, `mlflow-reg-${Math.random().toString(36).slice(2, 8)}`, key);
    for (const [fileName, text] of [
      ['model/MLmodel', 'flavors: {}'],
      ['model/model.pkl', 'bytes'],
      ['other.txt', 'not the model'],
    ]) {
      const form = new FormData();
      form.append('file', new Blob([text as string]), 'file');
      const response = new Response(form);
      const upload = await t.request(
        'POST',
        `${V2}/write/experiment/upload-asset?${new URLSearchParams({ experimentKey: runId, fileName: fileName as string })}`,
        {
          key,
          payload: Buffer.from(await response.arrayBuffer()),
          headers: { 'content-type': response.headers.get('content-type') ?? '' },
        },
      );
      expect(upload.statusCode, upload.body).toBe(200);
    }
    const experiment = await t.core.store.experiments.get(runId);
    return { runId, experimentId: experiment?.projectId as string };
  }

  it('runs a registered model through its whole life', async () => {
    const name = modelName('Life');
    const created = await ok(
      await call('POST', 'registered-models/create', {
        name,
        description: 'first',
        tags: [{ key: 'team', value: 'a' }],
      }),
    );
    expect(created.registered_model).toMatchObject({
      name,
      description: 'first',
      tags: [{ key: 'team', value: 'a' }],
      latest_versions: [],
      aliases: [],
      user_id: 'admin',
    });
    const again = error(await call('POST', 'registered-models/create', { name }), 400, 'RESOURCE_ALREADY_EXISTS');
    expect(again).toBe(`Registered Model (name=${name}) already exists.`);

    const { runId, experimentId } = await runWithModelFiles();
    const v1 = (
      await ok(await call('POST', 'model-versions/create', { name, source: `runs:/${runId}/model`, run_id: runId }))
    ).model_version;
    expect(v1).toMatchObject({
      name,
      version: '1',
      current_stage: 'None',
      status: 'READY',
      source: `runs:/${runId}/model`,
      run_id: runId,
      tags: [],
      aliases: [],
    });
    // The run's loose files under model/ became the files of its experiment model "model".
    const models = await t.request('GET', `${V2}/experiment/model?experimentKey=${runId}`);
    expect(models.json().models.map((m: { modelName: string }) => m.modelName)).toEqual(['model']);
    const assets = await t.core.store.assets.list(runId, { groupingName: 'model' });
    expect(assets.map((a) => a.fileName).sort()).toEqual(['MLmodel', 'model.pkl']);
    expect((await ok(await call('GET', 'model-versions/get-download-uri', { name, version: 1 }))).artifact_uri).toBe(
      `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model`,
    );

    const v2source = `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model`;
    const v2 = (
      await ok(
        await call('POST', 'model-versions/create', {
          name,
          source: v2source,
          description: 'second',
          tags: [{ key: 'k', value: 'v' }],
        }),
      )
    ).model_version;
    expect(v2).toMatchObject({
      version: '2',
      source: v2source,
      run_id: runId,
      description: 'second',
      tags: [{ key: 'k', value: 'v' }],
    });
    const v3 = (await ok(await call('POST', 'model-versions/create', { name, source: 's3://bucket/elsewhere' })))
      .model_version;
    expect(v3.version).toBe('3');
    expect(v3.run_id).toBeUndefined();
    expect((await ok(await call('GET', 'model-versions/get-download-uri', { name, version: '3' }))).artifact_uri).toBe(
      's3://bucket/elsewhere',
    );

    // Stages: archive_existing_versions moves the other Production version to Archived.
    await ok(
      await call('POST', 'model-versions/transition-stage', {
        name,
        version: '1',
        stage: 'production',
        archive_existing_versions: false,
      }),
    );
    const moved = await ok(
      await call('POST', 'model-versions/transition-stage', {
        name,
        version: '2',
        stage: 'Production',
        archive_existing_versions: true,
      }),
    );
    expect(moved.model_version.current_stage).toBe('Production');
    expect((await ok(await call('GET', 'model-versions/get', { name, version: 1 }))).model_version.current_stage).toBe(
      'Archived',
    );
    const latest = await ok(await call('POST', 'registered-models/get-latest-versions', { name }));
    expect(
      latest.model_versions.map((v: { version: string; current_stage: string }) => [v.version, v.current_stage]),
    ).toEqual([
      ['3', 'None'],
      ['2', 'Production'],
      ['1', 'Archived'],
    ]);
    const staged = await ok(
      await call('GET', 'registered-models/get-latest-versions', { name, stages: ['production', 'Staging'] }),
    );
    expect(staged.model_versions.map((v: { version: string }) => v.version)).toEqual(['2']);

    // Aliases: one version each, moved by setting again, gone with their version.
    await ok(await call('POST', 'registered-models/alias', { name, alias: 'champion', version: '2' }));
    const byAlias = await ok(await call('GET', 'registered-models/alias', { name, alias: 'champion' }));
    expect(byAlias.model_version).toMatchObject({ version: '2', aliases: ['champion'] });
    expect(
      (await ok(await call('GET', 'registered-models/alias', { name, alias: 'Latest' }))).model_version.version,
    ).toBe('3');
    await ok(await call('POST', 'registered-models/alias', { name, alias: 'champion', version: '3' }));
    expect((await ok(await call('GET', 'registered-models/get', { name }))).registered_model.aliases).toEqual([
      { alias: 'champion', version: '3' },
    ]);
    await ok(await call('DELETE', 'model-versions/delete', { name, version: '3' }));
    error(await call('GET', 'model-versions/get', { name, version: '3' }), 404, 'RESOURCE_DOES_NOT_EXIST');
    const gone = error(
      await call('GET', 'registered-models/alias', { name, alias: 'champion' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    expect(gone).toBe('Registered model alias champion not found.');
    await ok(await call('POST', 'registered-models/alias', { name, alias: 'old', version: '1' }));
    await ok(await call('DELETE', 'registered-models/alias', { name, alias: 'old' }));
    expect((await ok(await call('GET', 'registered-models/get', { name }))).registered_model.aliases).toEqual([]);

    // Tags and descriptions.
    await ok(await call('POST', 'registered-models/set-tag', { name, key: 'team', value: 'b' }));
    await ok(await call('POST', 'registered-models/set-tag', { name, key: 'tier', value: '1' }));
    await ok(await call('DELETE', 'registered-models/delete-tag', { name, key: 'team' }));
    await ok(await call('POST', 'model-versions/set-tag', { name, version: '1', key: 'checked', value: 'yes' }));
    await ok(await call('DELETE', 'model-versions/delete-tag', { name, version: '2', key: 'k' }));
    await ok(await call('PATCH', 'registered-models/update', { name, description: 'changed' }));
    const updated = await ok(
      await call('PATCH', 'model-versions/update', { name, version: '1', description: 'v1 notes' }),
    );
    expect(updated.model_version).toMatchObject({ description: 'v1 notes', tags: [{ key: 'checked', value: 'yes' }] });
    const model = (await ok(await call('GET', 'registered-models/get', { name }))).registered_model;
    expect(model).toMatchObject({ description: 'changed', tags: [{ key: 'tier', value: '1' }] });
    expect(model.latest_versions.map((v: { version: string }) => v.version)).toEqual(['2', '1']);
    expect((await ok(await call('GET', 'model-versions/get', { name, version: '2' }))).model_version.tags).toEqual([]);

    // A deleted highest version's number is given again, as the next one.
    const v3again = (await ok(await call('POST', 'model-versions/create', { name, source: 's3://bucket/again' })))
      .model_version;
    expect(v3again.version).toBe('3');

    // Rename, then delete with everything.
    const renamed = `${name} renamed`;
    expect(
      (await ok(await call('POST', 'registered-models/rename', { name, new_name: renamed }))).registered_model.name,
    ).toBe(renamed);
    const missing = error(await call('GET', 'registered-models/get', { name }), 404, 'RESOURCE_DOES_NOT_EXIST');
    expect(missing).toBe(`Registered Model with name=${name} not found`);
    await ok(await call('DELETE', 'registered-models/delete', { name: renamed }));
    error(await call('GET', 'registered-models/get', { name: renamed }), 404, 'RESOURCE_DOES_NOT_EXIST');
    error(await call('GET', 'model-versions/get', { name: renamed, version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('registers a logged model (models:/m-…) and serves its files for download', async () => {
    const name = modelName('Logged');
    const source = await experimentWithModel(t, 'sk-model', {
      MLmodel: Buffer.from('flavors:\n  sklearn: {}\n'),
      'data/model.pkl': Buffer.from([1, 2, 3]),
    });
    const loggedModelId = `m-${'ab'.repeat(16)}${unique}`.slice(0, 34);
    // Logged models are made by the MLflow artifacts branch; here the experiment model is marked directly.
    const db = (t.store as unknown as { db: Kysely<unknown> }).db;
    await sql`update experiment_models set logged_model_id = ${loggedModelId} where id = ${source.experimentModelId}`.execute(
      db,
    );
    const experimentId = (await t.core.store.experiments.get(source.experimentKey))?.projectId;
    await ok(await call('POST', 'registered-models/create', { name }));
    const version = (
      await ok(
        await call('POST', 'model-versions/create', {
          name,
          source: `models:/${loggedModelId}`,
          model_id: loggedModelId,
        }),
      )
    ).model_version;
    expect(version).toMatchObject({
      version: '1',
      source: `models:/${loggedModelId}`,
      run_id: source.experimentKey,
      model_id: loggedModelId,
    });
    expect((await ok(await call('GET', 'model-versions/get-download-uri', { name, version: 1 }))).artifact_uri).toBe(
      `mlflow-artifacts:/${experimentId}/models/${loggedModelId}/artifacts`,
    );
    const file = await call('GET', 'model-versions/get-artifact', { name, version: 1, path: 'data/model.pkl' });
    expect(file.statusCode, file.body).toBe(200);
    expect(file.rawPayload).toEqual(Buffer.from([1, 2, 3]));
    expect(file.headers['content-disposition']).toContain('model.pkl');
    error(
      await call('GET', 'model-versions/get-artifact', { name, version: 1, path: 'absent' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    error(
      await call('POST', 'model-versions/create', { name, source: `models:/m-${'0'.repeat(32)}` }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    // Another tenant cannot register the logged model under a model of its own.
    await ok(await call('POST', 'registered-models/create', { name }, t.otherKey));
    error(
      await call('POST', 'model-versions/create', { name, source: `models:/${loggedModelId}` }, t.otherKey),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
  });

  it('numbers versions created concurrently without gaps or clashes, and reads double-encoded bodies', async () => {
    const name = modelName('Race');
    const created = await t.request('POST', `${API}/registered-models/create`, {
      key: null,
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
      payload: JSON.stringify(JSON.stringify({ name })),
    });
    expect(created.statusCode, created.body).toBe(200);
    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, i) => call('POST', 'model-versions/create', { name, source: `s3://bucket/${i}` })),
    );
    const numbers = await Promise.all(responses.map(async (r) => (await ok(r)).model_version.version));
    expect(numbers.map(Number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    const racing = await Promise.all(
      Array.from({ length: 3 }, () => call('POST', 'registered-models/create', { name: `${name}-twin` })),
    );
    expect(racing.map((r) => r.statusCode).sort()).toEqual([200, 400, 400]);
  });

  it('searches registered models and versions with filters and page tokens', async () => {
    const prefix = `Search${Math.random().toString(36).slice(2, 8)}`;
    for (const suffix of ['b', 'a', 'c'])
      await ok(await call('POST', 'registered-models/create', { name: `${prefix}-${suffix}` }));
    for (let i = 0; i < 3; i += 1) {
      await ok(await call('POST', 'model-versions/create', { name: `${prefix}-a`, source: `s3://bucket/${i}` }));
    }
    const first = await ok(
      await call('GET', 'registered-models/search', { filter: `name LIKE '${prefix}%'`, max_results: 2 }),
    );
    expect(first.registered_models.map((m: { name: string }) => m.name)).toEqual([`${prefix}-a`, `${prefix}-b`]);
    expect(first.registered_models[0].latest_versions.map((v: { version: string }) => v.version)).toEqual(['3']);
    expect(first.next_page_token).toEqual(expect.any(String));
    const second = await ok(
      await call('GET', 'registered-models/search', {
        filter: `name LIKE '${prefix}%'`,
        max_results: 2,
        page_token: first.next_page_token,
      }),
    );
    expect(second.registered_models.map((m: { name: string }) => m.name)).toEqual([`${prefix}-c`]);
    expect(second).not.toHaveProperty('next_page_token');
    const desc = await ok(
      await call('GET', 'registered-models/search', { filter: `name LIKE '${prefix}%'`, order_by: ['name DESC'] }),
    );
    expect(desc.registered_models.map((m: { name: string }) => m.name)).toEqual([
      `${prefix}-c`,
      `${prefix}-b`,
      `${prefix}-a`,
    ]);

    // MLflow 3 clients append the prompt exclusion to every registry search; untagged models pass it.
    await ok(await call('POST', 'registered-models/set-tag', { name: `${prefix}-b`, key: 'team', value: 'x' }));
    const tagged = await ok(
      await call('GET', 'registered-models/search', {
        filter: `name LIKE '${prefix}%' AND tag.\`mlflow.prompt.is_prompt\` != 'true'`,
      }),
    );
    expect(tagged.registered_models).toHaveLength(3);
    const team = await ok(await call('GET', 'registered-models/search', { filter: `tags.team = 'x'` }));
    expect(team.registered_models.map((m: { name: string }) => m.name)).toEqual([`${prefix}-b`]);

    const versions = await ok(await call('GET', 'model-versions/search', { filter: `name='${prefix}-a'` }));
    expect(versions.model_versions.map((v: { version: string }) => v.version)).toEqual(['3', '2', '1']);
    expect(versions).not.toHaveProperty('next_page_token');
    error(await call('GET', 'registered-models/search', { max_results: 1001 }), 400, 'INVALID_PARAMETER_VALUE');
    error(await call('GET', 'registered-models/search', { page_token: 'not a token' }), 400, 'INVALID_PARAMETER_VALUE');
  });

  it('answers bad input with MLflow error codes and messages', async () => {
    const name = modelName('Errors');
    await ok(await call('POST', 'registered-models/create', { name }));
    await ok(await call('POST', 'model-versions/create', { name, source: 's3://bucket/x' }));
    expect(error(await call('POST', 'registered-models/create', {}), 400, 'INVALID_PARAMETER_VALUE')).toBe(
      "Missing value for required parameter 'name'.",
    );
    expect(error(await call('POST', 'registered-models/create', { name: 'a/b' }), 400, 'INVALID_PARAMETER_VALUE')).toBe(
      "Invalid model name 'a/b'. Names cannot contain '/' or ':'.",
    );
    expect(
      error(await call('GET', 'model-versions/get', { name, version: 'one' }), 400, 'INVALID_PARAMETER_VALUE'),
    ).toBe("Parameter 'version' must be an integer, got 'one'.");
    expect(error(await call('GET', 'model-versions/get', { name, version: 7 }), 404, 'RESOURCE_DOES_NOT_EXIST')).toBe(
      `Model Version (name=${name}, version=7) not found`,
    );
    const alias = (a: string) => call('POST', 'registered-models/alias', { name, alias: a, version: '1' });
    expect(error(await alias('has space'), 400, 'INVALID_PARAMETER_VALUE')).toMatch(/^Invalid alias name: 'has space'/);
    expect(error(await alias('latest'), 400, 'INVALID_PARAMETER_VALUE')).toBe(
      "'latest' alias name (case insensitive) is reserved.",
    );
    expect(error(await alias('v12'), 400, 'INVALID_PARAMETER_VALUE')).toBe("Version alias name 'v12' is reserved.");
    error(await alias('x'.repeat(256)), 400, 'INVALID_PARAMETER_VALUE');
    const stage = (s: string, archive = false) =>
      call('POST', 'model-versions/transition-stage', {
        name,
        version: '1',
        stage: s,
        archive_existing_versions: archive,
      });
    expect(error(await stage('Shipping'), 400, 'INVALID_PARAMETER_VALUE')).toBe(
      'Invalid Model Version stage: Shipping. Value must be one of None, Staging, Production, Archived.',
    );
    expect(error(await stage('Archived', true), 400, 'INVALID_PARAMETER_VALUE')).toBe(
      "Model version transition cannot archive existing model versions because 'Archived' is not an Active stage. Valid stages are ['Staging', 'Production']",
    );
    error(
      await call('GET', 'registered-models/get-latest-versions', { name, stages: ['bogus'] }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    error(
      await call('POST', 'model-versions/create', { name, source: '/tmp/local/model' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    error(
      await call('POST', 'model-versions/create', { name, source: 'runs:/abc/../x' }),
      400,
      'INVALID_PARAMETER_VALUE',
    );
    error(
      await call('POST', 'model-versions/create', { name: modelName('Absent'), source: 's3://x' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    error(
      await call('POST', 'model-versions/create', { name, source: 'runs:/0123456789abcdef0123456789abcdef/model' }),
      404,
      'RESOURCE_DOES_NOT_EXIST',
    );
    error(
      await call('POST', 'registered-models/create', { name: modelName('ReadOnly') }, t.readOnlyKey),
      403,
      'PERMISSION_DENIED',
    );
  });

  it("answers another tenant's models and runs as absent", async () => {
    const name = modelName('Tenant');
    await ok(await call('POST', 'registered-models/create', { name }));
    const { runId } = await runWithModelFiles();
    error(await call('GET', 'registered-models/get', { name }, t.otherKey), 404, 'RESOURCE_DOES_NOT_EXIST');
    // Naming the admin's workspace ("default") does not reach it: Bob lands in his own.
    const named = await t.request('GET', `${API}/registered-models/get?name=${encodeURIComponent(name)}`, {
      key: null,
      headers: { authorization: `Bearer ${t.otherKey}`, 'x-mlflow-workspace': 'default' },
    });
    expect(named.statusCode, named.body).toBe(404);
    // A read-only key of the owner reads.
    expect((await ok(await call('GET', 'registered-models/get', { name }, t.readOnlyKey))).registered_model.name).toBe(
      name,
    );
    error(await call('DELETE', 'registered-models/delete', { name }, t.otherKey), 404, 'RESOURCE_DOES_NOT_EXIST');
    const search = await ok(await call('GET', 'registered-models/search', { filter: `name='${name}'` }, t.otherKey));
    expect(search.registered_models).toEqual([]);
    // Bob's own model of the same name cannot take files from the admin's run.
    await ok(await call('POST', 'registered-models/create', { name }, t.otherKey));
    const stolen = call('POST', 'model-versions/create', { name, source: `runs:/${runId}/model` }, t.otherKey);
    expect(error(await stolen, 404, 'RESOURCE_DOES_NOT_EXIST')).toBe(`Run with id=${runId} not found`);
    expect((await ok(await call('GET', 'registered-models/get', { name }))).registered_model.latest_versions).toEqual(
      [],
    );
  });

  it('shows a version registered through MLflow to Comet as n.0.0 with its stage', async () => {
    const name = modelName('ToComet');
    await ok(await call('POST', 'registered-models/create', { name }));
    const { runId } = await runWithModelFiles();
    await ok(
      await call('POST', 'model-versions/create', { name, source: `runs:/${runId}/model`, description: 'from mlflow' }),
    );
    await ok(
      await call('POST', 'model-versions/transition-stage', {
        name,
        version: '1',
        stage: 'Staging',
        archive_existing_versions: false,
      }),
    );
    const details = await t.request(
      'GET',
      `${V2}/registry-model/details?${new URLSearchParams({ workspaceName: 'default', modelName: name })}`,
    );
    expect(details.statusCode, details.body).toBe(200);
    expect(details.json()).toMatchObject({ modelName: name, numberOfVersions: 1 });
    expect(details.json().versions[0]).toMatchObject({
      version: '1.0.0',
      comment: 'from mlflow',
      stages: ['Staging'],
      experimentModel: { experimentModelName: 'model', experimentKey: runId },
    });
    expect(
      details
        .json()
        .versions[0].assets.map((a: { fileName: string }) => a.fileName)
        .sort(),
    ).toEqual(['MLmodel', 'model.pkl']);
  });

  it('shows versions registered through Comet to MLflow with numbers, stage and source', async () => {
    const name = `comet-${Math.random().toString(36).slice(2, 8)}`;
    const source = await experimentWithModel(t, 'net', { 'weights.bin': Buffer.from('w') });
    const registered = await register(t, {
      experimentModelId: source.experimentModelId,
      registryModelName: name,
      version: '3.1.0',
      stages: ['qa', 'production'],
    });
    expect(registered.statusCode, registered.body).toBe(200);
    const second = await register(
      t,
      { experimentModelId: source.experimentModelId, registryModelName: name, version: '0.5.0' },
      { item: true },
    );
    expect(second.statusCode, second.body).toBe(200);
    const experimentId = (await t.core.store.experiments.get(source.experimentKey))?.projectId;

    const first = (await ok(await call('GET', 'model-versions/get', { name, version: '1' }))).model_version;
    expect(first).toMatchObject({
      name,
      version: '1',
      current_stage: 'Production',
      run_id: source.experimentKey,
      source: `mlflow-artifacts:/${experimentId}/${source.experimentKey}/artifacts/net`,
      status: 'READY',
    });
    expect(
      (await ok(await call('GET', 'model-versions/get', { name, version: '2' }))).model_version.current_stage,
    ).toBe('None');
    // A version created through MLflow after them is number 3, Comet version 3.0.0.
    const next = (
      await ok(await call('POST', 'model-versions/create', { name, source: `runs:/${source.experimentKey}/net` }))
    ).model_version;
    expect(next.version).toBe('3');
    const details = await t.request('GET', `${V2}/registry-model/details?workspaceName=default&modelName=${name}`);
    expect(details.json().versions.map((v: { version: string }) => v.version)).toEqual(['0.5.0', '3.0.0', '3.1.0']);
    // Moving to Staging replaces production and keeps Comet's own stage.
    await ok(
      await call('POST', 'model-versions/transition-stage', {
        name,
        version: '1',
        stage: 'Staging',
        archive_existing_versions: false,
      }),
    );
    const after = await t.request('GET', `${V2}/registry-model/details?workspaceName=default&modelName=${name}`);
    expect(after.json().versions.find((v: { version: string }) => v.version === '3.1.0').stages).toEqual([
      'qa',
      'Staging',
    ]);
  });

  it("fires Comet's stage webhooks on a transition", async () => {
    const name = modelName('Hooks');
    await ok(await call('POST', 'registered-models/create', { name }));
    await ok(await call('POST', 'model-versions/create', { name, source: 's3://bucket/hooked' }));
    const config = await t.request('POST', `${V2}/webhooks/config`, {
      body: {
        webhookConfigs: [
          { workspaceName: 'default', modelName: null, webhookUrls: [{ url: 'https://hooks.example/' }] },
        ],
      },
    });
    expect(config.statusCode, config.body).toBe(200);
    await ok(
      await call('POST', 'model-versions/transition-stage', {
        name,
        version: '1',
        stage: 'Production',
        archive_existing_versions: false,
      }),
    );
    await ok(
      await call('POST', 'model-versions/transition-stage', {
        name,
        version: '1',
        stage: 'None',
        archive_existing_versions: false,
      }),
    );
    const deliveries = (await t.rows('webhook_deliveries')).filter((row) => String(row.payload).includes(name));
    expect(deliveries.map((row) => [row.event_type, JSON.parse(String(row.payload)).stages])).toEqual([
      ['STAGE_ADDED', ['Production']],
      ['STAGE_REMOVED', []],
    ]);
  });
});
