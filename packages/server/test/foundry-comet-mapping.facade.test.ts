import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentWithModel, register } from './support/registry-fixtures.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const V2 = '/api/rest/v2';

/** One experiment, two faces: the RIDs Comet rows carry open the same experiment in Foundry. */
describe.each(backends)('Comet and Foundry views of one experiment (%s)', (backend) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('exposes stable RIDs on Comet rows that resolve in the Foundry API', async () => {
    const created = await t.request('POST', `${V2}/write/experiment/create`, {
      body: { workspaceName: 'default', projectName: 'two-faces', experimentName: 'run-1' },
    });
    const key = created.json().experimentKey as string;
    await t.request('POST', `${V2}/write/experiment/metric`, {
      body: { experimentKey: key, metricName: 'train/loss', metricValue: 0.25, step: 3 },
    });
    await t.request('POST', `${V2}/write/experiment/parameter`, {
      body: { experimentKey: key, parameterName: 'epochs', parameterValue: 20 },
    });
    await t.request('POST', `${V2}/write/experiment/git/metadata`, {
      body: { experimentKey: key, user: 'ada', root: '/r', branch: 'feature-x', parent: 'abc', origin: 'o' },
    });

    const metadata = (await t.request('GET', `${V2}/experiment/metadata?experimentKey=${key}`)).json();
    const project = (await t.request('GET', `${V2}/project?projectId=${metadata.projectId}`)).json();
    expect(metadata.experimentRid).toBe(`ri.models.main.experiment.${key}`);
    expect(metadata.modelRid).toMatch(
      /^ri\.models\.main\.model\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    expect(project.modelRid).toBe(metadata.modelRid);
    expect(metadata.modelRid.replace('ri.models.main.model.', '').replaceAll('-', '')).toBe(metadata.projectId);

    const foundry = await t.request(
      'GET',
      `/api/v2/models/${metadata.modelRid}/experiments/${metadata.experimentRid}?preview=true`,
      { headers: { authorization: `Bearer ${t.adminKey}` }, key: null },
    );
    expect(foundry.statusCode, foundry.body).toBe(200);
    expect(foundry.json()).toMatchObject({
      rid: metadata.experimentRid,
      modelRid: metadata.modelRid,
      name: 'run-1',
      status: 'RUNNING',
      branch: 'feature-x',
      source: { type: 'sdk' },
      parameters: [{ name: 'epochs', value: { type: 'integer', value: 20 } }],
      series: [{ name: 'train/loss', length: 1, value: { type: 'double', min: 0.25, max: 0.25, last: 0.25 } }],
      summaryMetrics: [
        { seriesName: 'train/loss', aggregation: 'MIN', value: 0.25 },
        { seriesName: 'train/loss', aggregation: 'MAX', value: 0.25 },
        { seriesName: 'train/loss', aggregation: 'LAST', value: 0.25 },
      ],
      artifacts: {},
      tags: [],
    });
    expect(foundry.json().createdTime).toMatch(/Z$/);
    expect(foundry.json().createdBy).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('links an experiment to the newest registry version made from its models', async () => {
    const { experimentKey, experimentModelId } = await experimentWithModel(t, 'net', { 'model.bin': Buffer.from('w') });
    const metadata = (await t.request('GET', `${V2}/experiment/metadata?experimentKey=${experimentKey}`)).json();
    const url = `/api/v2/models/${metadata.modelRid}/experiments/${metadata.experimentRid}?preview=true`;
    const get = () => t.request('GET', url, { headers: { authorization: `Bearer ${t.adminKey}` }, key: null });
    expect((await get()).json().linkedModelVersion).toBeUndefined();
    const first = await register(t, { experimentModelId, registryModelName: 'net', version: '1.0.0' });
    expect(first.statusCode, first.body).toBe(200);
    const second = await register(t, { experimentModelId, registryModelName: 'net', version: '1.1.0' }, { item: true });
    const itemId = second.json().registryModelItemId as string;
    expect((await get()).json().linkedModelVersion).toBe(
      `ri.models.main.model-version.${itemId.slice(0, 8)}-${itemId.slice(8, 12)}-${itemId.slice(12, 16)}-${itemId.slice(16, 20)}-${itemId.slice(20)}`,
    );
  });

  it('reads the branch of a git ref as comet_ml logs it (refs/heads/…), in results and in filters', async () => {
    const created = await t.request('POST', `${V2}/write/experiment/create`, {
      body: { workspaceName: 'default', projectName: 'refs', experimentName: 'r' },
    });
    const key = created.json().experimentKey as string;
    await t.request('POST', `${V2}/write/experiment/git/metadata`, {
      body: { experimentKey: key, user: 'ada', root: 'abc', branch: 'refs/heads/release', parent: 'abc', origin: 'o' },
    });
    const metadata = (await t.request('GET', `${V2}/experiment/metadata?experimentKey=${key}`)).json();
    const auth = { headers: { authorization: `Bearer ${t.adminKey}` }, key: null };
    const got = await t.request(
      'GET',
      `/api/v2/models/${metadata.modelRid}/experiments/${metadata.experimentRid}?preview=true`,
      auth,
    );
    expect(got.json().branch).toBe('release');
    const found = await t.request('POST', `/api/v2/models/${metadata.modelRid}/experiments/search?preview=true`, {
      ...auth,
      body: { where: { type: 'eq', field: 'BRANCH', value: 'release' } },
    });
    expect(found.json().data.map((e: { rid: string }) => e.rid)).toEqual([metadata.experimentRid]);
  });
});
