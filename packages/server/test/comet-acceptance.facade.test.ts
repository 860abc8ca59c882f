import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const V2 = '/api/rest/v2';
const METRICS = ['loss', 'accuracy', 'lr', 'grad_norm', 'val/loss'];
const STEPS = 1000;

/** Deterministic, varied values so exact read-back is meaningful (not all integers, some negative). */
function pointValue(experiment: number, metric: number, step: number): number {
  return Math.sin(step / 37 + metric) * (experiment + 1) + step / 1000;
}

async function multipart(fields: Record<string, string | Blob>): Promise<{ payload: Buffer; contentType: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, value, 'file');
  }
  const response = new Response(form);
  return {
    payload: Buffer.from(await response.arrayBuffer()),
    contentType: response.headers.get('content-type') as string,
  };
}

/**
 * Issue #2's acceptance scenario: three experiments logged entirely through the Comet write
 * endpoints read back exactly through the read endpoints, and invisible to another tenant.
 */
describe.each(backends)('Comet write → read acceptance (%s)', (backend) => {
  let t: TestContext;
  const keys: string[] = [];

  beforeAll(async () => {
    t = await createTestContext(backend);
    for (let e = 0; e < 3; e++) {
      const created = await t.request('POST', `${V2}/write/experiment/create`, {
        body: { workspaceName: 'default', projectName: 'acceptance', experimentName: `run-${e}` },
      });
      expect(created.statusCode).toBe(200);
      const key = created.json().experimentKey as string;
      keys.push(key);
      // Metrics are written concurrently, each one's steps in order: the read-back order is the
      // logging order, so a metric's own writes must not race each other.
      await Promise.all(
        METRICS.map(async (metricName, m) => {
          for (let step = 0; step < STEPS; step++) {
            const r = await t.request('POST', `${V2}/write/experiment/metric`, {
              body: {
                experimentKey: key,
                metricName,
                metricValue: pointValue(e, m, step),
                step,
                epoch: Math.floor(step / 100),
                timestamp: 1_700_000_000_000 + step,
              },
            });
            expect(r.statusCode).toBe(200);
          }
        }),
      );
      for (const [name, value] of [
        ['lr', 0.001],
        ['optimizer', 'adam'],
        ['batch_size', 64 + e],
      ] as const) {
        const r = await t.request('POST', `${V2}/write/experiment/parameter`, {
          body: { experimentKey: key, parameterName: name, parameterValue: value },
        });
        expect(r.statusCode).toBe(200);
      }
      expect(
        (
          await t.request('POST', `${V2}/write/experiment/tags`, {
            body: { experimentKey: key, addedTags: ['baseline', `seed-${e}`] },
          })
        ).statusCode,
      ).toBe(200);
      expect(
        (
          await t.request('POST', `${V2}/write/experiment/html`, {
            body: { experimentKey: key, html: `<b>run ${e}</b>`, override: true },
          })
        ).statusCode,
      ).toBe(200);
      expect(
        (
          await t.request('POST', `${V2}/write/experiment/git/metadata`, {
            body: {
              experimentKey: key,
              user: 'ada',
              root: '/src/model',
              branch: 'main',
              parent: 'a'.repeat(40),
              origin: 'git@example.com:ml/model.git',
            },
          })
        ).statusCode,
      ).toBe(200);
      const asset = await multipart({ file: new Blob([`weights of run ${e}\n`]) });
      const uploaded = await t.request(
        'POST',
        `${V2}/write/experiment/upload-asset?experimentKey=${key}&fileName=weights-${e}.txt&step=10`,
        { payload: asset.payload, headers: { 'content-type': asset.contentType } },
      );
      expect(uploaded.statusCode).toBe(200);
      const patch = await multipart({ file: new Blob([`diff --git a/x b/x\n+run ${e}\n`]) });
      const patched = await t.request('POST', `${V2}/write/experiment/git/patch?experimentKey=${key}`, {
        payload: patch.payload,
        headers: { 'content-type': patch.contentType },
      });
      expect(patched.statusCode).toBe(200);
    }
  }, 240_000);

  afterAll(async () => {
    await t?.close();
  });

  it('lists the three experiments with their metadata', async () => {
    const list = await t.request('GET', `${V2}/experiments?workspaceName=default&projectName=acceptance`);
    expect(list.statusCode).toBe(200);
    const rows = list.json().experiments as { experimentKey: string; experimentName: string; archived: boolean }[];
    expect(rows.map((r) => r.experimentKey).sort()).toEqual([...keys].sort());
    expect(rows.map((r) => r.experimentName).sort()).toEqual(['run-0', 'run-1', 'run-2']);
    expect(rows.every((r) => r.archived === false)).toBe(true);
  });

  it('reads every metric point back exactly, in order', async () => {
    for (const [e, key] of keys.entries()) {
      for (const [m, name] of METRICS.entries()) {
        const r = await t.request(
          'GET',
          `${V2}/experiment/metrics/get-metric?experimentKey=${key}&metricName=${encodeURIComponent(name)}`,
        );
        expect(r.statusCode).toBe(200);
        const points = r.json().metrics as {
          metricName: string;
          metricValue: number | string;
          step: number;
          epoch: number;
          timestamp: number;
        }[];
        expect(points).toHaveLength(STEPS);
        points.forEach((p, step) => {
          expect(p.metricName).toBe(name);
          expect(Number(p.metricValue)).toBe(pointValue(e, m, step));
          expect(p.step).toBe(step);
          expect(p.epoch).toBe(Math.floor(step / 100));
          expect(p.timestamp).toBe(1_700_000_000_000 + step);
        });
      }
    }
  });

  it('summarises metrics and parameters exactly', async () => {
    const key = keys[1] as string;
    const summary = await t.request('GET', `${V2}/experiment/metrics/summary?experimentKey=${key}`);
    const rows = summary.json().values as {
      name: string;
      valueMin: string;
      valueMax: string;
      valueCurrent: string;
      stepCurrent: number;
    }[];
    expect(rows.map((r) => r.name).sort()).toEqual([...METRICS].sort());
    const loss = rows.find((r) => r.name === 'loss');
    const values = Array.from({ length: STEPS }, (_, step) => pointValue(1, 0, step));
    expect(Number(loss?.valueMin)).toBe(Math.min(...values));
    expect(Number(loss?.valueMax)).toBe(Math.max(...values));
    expect(Number(loss?.valueCurrent)).toBe(values[STEPS - 1]);
    expect(loss?.stepCurrent).toBe(STEPS - 1);

    const params = await t.request('GET', `${V2}/experiment/parameters?experimentKey=${key}`);
    const byName = Object.fromEntries(
      (params.json().values as { name: string; valueCurrent: string }[]).map((p) => [p.name, p.valueCurrent]),
    );
    expect(byName).toEqual({ lr: '0.001', optimizer: 'adam', batch_size: '65' });
  });

  it('reads tags, html, git metadata, git patch and the asset back', async () => {
    const key = keys[2] as string;
    expect((await t.request('GET', `${V2}/experiment/tags?experimentKey=${key}`)).json()).toEqual({
      tags: ['baseline', 'seed-2'],
    });
    expect((await t.request('GET', `${V2}/experiment/html?experimentKey=${key}`)).json()).toEqual({
      html: '<b>run 2</b>',
    });
    expect((await t.request('GET', `${V2}/experiment/git/metadata?experimentKey=${key}`)).json()).toEqual({
      user: 'ada',
      root: '/src/model',
      branch: 'main',
      parent: 'a'.repeat(40),
      origin: 'git@example.com:ml/model.git',
    });
    const patch = await t.request('GET', `${V2}/experiment/git/patch?experimentKey=${key}`);
    expect(patch.headers['content-type']).toBe('application/octet-stream');
    expect(patch.body).toBe('diff --git a/x b/x\n+run 2\n');

    const assets = (await t.request('GET', `${V2}/experiment/asset/list?experimentKey=${key}&type=all`)).json()
      .assets as { assetId: string; fileName: string; fileSize: number; step: number }[];
    expect(assets).toHaveLength(1);
    expect(assets[0]).toMatchObject({ fileName: 'weights-2.txt', fileSize: 'weights of run 2\n'.length, step: 10 });
    const bytes = await t.request(
      'GET',
      `${V2}/experiment/asset/get-asset?experimentKey=${key}&assetId=${assets[0]?.assetId}`,
    );
    expect(bytes.body).toBe('weights of run 2\n');
  });

  it('shows none of it to another tenant', async () => {
    const other = { key: t.otherKey };
    expect((await t.request('GET', `${V2}/workspaces`, other)).json()).toEqual({ workspaceNames: ['bob'] });
    expect((await t.request('GET', `${V2}/projects?workspaceName=default`, other)).json()).toEqual({ projects: [] });
    expect(
      (await t.request('GET', `${V2}/experiments?workspaceName=default&projectName=acceptance`, other)).statusCode,
    ).toBe(404);
    for (const key of keys) {
      for (const path of [
        `experiment/metadata?experimentKey=${key}`,
        `experiment/metrics/summary?experimentKey=${key}`,
        `experiment/metrics/get-metric?experimentKey=${key}&metricName=loss`,
        `experiment/parameters?experimentKey=${key}`,
        `experiment/tags?experimentKey=${key}`,
        `experiment/html?experimentKey=${key}`,
        `experiment/git/metadata?experimentKey=${key}`,
        `experiment/git/patch?experimentKey=${key}`,
        `experiment/asset/list?experimentKey=${key}`,
      ]) {
        const r = await t.request('GET', `${V2}/${path}`, other);
        expect(r.statusCode, path).toBe(404);
        expect(r.json().msg).toMatch(/not found/);
      }
    }
  });
});
