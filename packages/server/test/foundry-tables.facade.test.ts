import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParquet } from '../src/http/parquet.js';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const V2 = '/api/rest/v2';

/** Foundry E4–E6 (series Parquet, artifact table JSON and Parquet) and the `artifacts` map, on both stores. */
describe.each(backends)('Foundry series Parquet and artifact tables (%s)', (backend) => {
  let t: TestContext;
  let key: string;
  let base: string;

  const foundry = (path: string, query = 'preview=true') =>
    t.app.inject({
      method: 'GET',
      url: `${base}${path ? `/${path}` : ''}${query ? `?${query}` : ''}`,
      headers: { authorization: `Bearer ${t.adminKey}` },
    });

  beforeAll(async () => {
    t = await createTestContext(backend);
    key = (
      await t.request('POST', `${V2}/write/experiment/create`, {
        body: { workspaceName: 'default', projectName: 'tables', experimentName: 'run' },
      })
    ).json().experimentKey;
    // 300 points, the last 100 logged without a step: Foundry steps are required, so those take their position.
    for (let i = 0; i < 300; i++) {
      await t.request('POST', `${V2}/write/experiment/metric`, {
        body: {
          experimentKey: key,
          metricName: 'train/loss',
          metricValue: 1 / (i + 1),
          timestamp: 1_700_000_000_000 + i,
          ...(i < 200 ? { step: i } : {}),
        },
      });
    }
    const put = await t.request('PUT', `/api/cairn/v1/experiments/${key}/tables/eval%2Fpredictions`, {
      key: null,
      headers: { authorization: `Bearer ${t.adminKey}` },
      body: {
        description: 'Validation predictions',
        columns: [
          { name: 'id', type: 'integer' },
          { name: 'label', type: 'string' },
          { name: 'score', type: 'double' },
        ],
        rows: Array.from({ length: 150 }, (_, i) => [i, i % 2 ? 'cat' : null, i / 4]),
      },
    });
    expect(put.statusCode, put.body).toBe(201);
    const metadata = (await t.request('GET', `${V2}/experiment/metadata?experimentKey=${key}`)).json();
    base = `/api/v2/models/${metadata.modelRid}/experiments/${metadata.experimentRid}`;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lists table artifacts with their size and row count', async () => {
    const experiment = (await foundry('')).json();
    expect(experiment.artifacts).toEqual({
      'eval/predictions': {
        name: 'eval/predictions',
        description: 'Validation predictions',
        sizeBytes: expect.any(Number),
        details: { type: 'table', rowCount: 150 },
      },
    });
    expect(experiment.artifacts['eval/predictions'].sizeBytes).toBeGreaterThan(0);
  });

  it('streams a whole series as Parquet: value, timestamp, step', async () => {
    const response = await foundry('series/train%2Floss/parquet');
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    const table = await readParquet(response.rawPayload, { maxCells: 10_000 });
    expect(table.columns.map((c) => [c.name, c.type])).toEqual([
      ['value', 'double'],
      ['timestamp', 'integer'],
      ['step', 'integer'],
    ]);
    expect(table.rows).toHaveLength(300);
    expect(table.rows[0]).toEqual([1, 1_700_000_000_000, 0]);
    expect(table.rows[299]).toEqual([1 / 300, 1_700_000_000_299, 299]);
    const missing = await foundry('series/nope/parquet');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ errorName: 'ExperimentSeriesNotFound', parameters: { seriesName: 'nope' } });
  });

  it('pages a table as JSON row objects: 10 by default, at most 100', async () => {
    const first = await foundry('artifactTables/eval%2Fpredictions/json');
    expect(first.statusCode, first.body).toBe(200);
    const rows = JSON.parse(first.body) as Record<string, unknown>[];
    expect(rows).toHaveLength(10);
    expect(rows[0]).toEqual({ id: 0, label: null, score: 0 });
    expect(rows[1]).toEqual({ id: 1, label: 'cat', score: 0.25 });
    const clamped = JSON.parse(
      (await foundry('artifactTables/eval%2Fpredictions/json', 'preview=true&pageSize=1000')).body,
    );
    expect(clamped).toHaveLength(100);
    const tail = JSON.parse(
      (await foundry('artifactTables/eval%2Fpredictions/json', 'preview=true&offset=145&pageSize=50')).body,
    );
    expect(tail.map((r: { id: number }) => r.id)).toEqual([145, 146, 147, 148, 149]);
    const past = JSON.parse((await foundry('artifactTables/eval%2Fpredictions/json', 'preview=true&offset=500')).body);
    expect(past).toEqual([]);
    const bad = await foundry('artifactTables/eval%2Fpredictions/json', 'preview=true&pageSize=0');
    expect(bad.json()).toMatchObject({ errorName: 'InvalidPageSize' });
  });

  it('streams a whole table as Parquet', async () => {
    const response = await foundry('artifactTables/eval%2Fpredictions/parquet');
    expect(response.statusCode, response.body).toBe(200);
    const table = await readParquet(response.rawPayload, { maxCells: 10_000 });
    expect(table.columns).toEqual([
      { name: 'id', type: 'integer' },
      { name: 'label', type: 'string' },
      { name: 'score', type: 'double' },
    ]);
    expect(table.rows).toHaveLength(150);
    expect(table.rows[149]).toEqual([149, 'cat', 149 / 4]);
  });

  it('answers ExperimentArtifactNotFound for an unknown table, before any byte is streamed', async () => {
    for (const format of ['json', 'parquet']) {
      const response = await foundry(`artifactTables/nope/${format}`);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({
        errorCode: 'NOT_FOUND',
        errorName: 'ExperimentArtifactNotFound',
        parameters: { artifactName: 'nope' },
      });
    }
  });
});
