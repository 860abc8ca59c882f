import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const CHART = '/api/rest/v2/experiments/multi-metric-chart';

describe.each(backends)('Comet multi-metric chart (%s)', (backend) => {
  let t: TestContext;
  const keys: string[] = [];
  const N = 5_000;
  const spike = (e: number) => 1_000 + e;

  beforeAll(async () => {
    t = await createTestContext(backend);
    const principal = await t.core.auth.authenticate(t.adminKey);
    for (let e = 0; e < 2; e++) {
      const key = (await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'charts' }))
        .experiment.id;
      keys.push(key);
      const steps = Array.from({ length: N }, (_, i) => i);
      await t.core.metrics.logSeries(principal, key, [
        {
          name: 'loss',
          steps,
          values: steps.map((s) => (s === spike(e) ? 1e9 : Math.exp(-s / 1000))),
          timestamps: steps.map((s) => 1_000_000 + s * 10),
        },
        // Only every other step: a correlated chart keeps the shared ones.
        {
          name: 'acc',
          steps: steps.filter((s) => s % 2 === 0),
          values: steps.filter((s) => s % 2 === 0).map((s) => s / N),
        },
      ]);
      await t.core.experiments.logValues(principal, key, 'param', [{ name: 'lr', value: 0.01 * (e + 1) }]);
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  it('samples each metric to about 500 points keeping the spikes, with params and durations', async () => {
    const response = await t.request('POST', CHART, {
      body: {
        targetedExperiments: keys,
        metrics: ['loss', 'acc'],
        params: ['lr'],
        independentMetrics: true,
        fetchFull: false,
      },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    const body = response.json();
    expect(body.empty).toBe(false);
    for (const [e, key] of keys.entries()) {
      const chart = body.experiments[key];
      expect(chart.params).toEqual({ lr: String(0.01 * (e + 1)) });
      const loss = chart.metrics.find((m: { metricName: string }) => m.metricName === 'loss');
      expect(loss.values.length).toBeLessThanOrEqual(500);
      expect(loss.values.length).toBeGreaterThan(200);
      expect(loss.values).toContain(1e9);
      expect(loss.steps[loss.values.indexOf(1e9)]).toBe(spike(e));
      expect(loss.durations[0]).toBe(0);
      loss.durations.slice(1).forEach((d: number, i: number) => {
        expect(d).toBe(loss.timestamps[i + 1] - loss.timestamps[i]);
      });
      expect(chart.steps).toEqual([...chart.steps].sort((a: number, b: number) => a - b));
    }
  });

  it('returns every point with fetchFull, and only shared steps when correlated', async () => {
    const full = (
      await t.request('POST', CHART, { body: { targetedExperiments: [keys[0]], metrics: ['loss'], fetchFull: true } })
    ).json();
    const loss = full.experiments[keys[0] as string].metrics[0];
    expect(loss.steps).toEqual(Array.from({ length: N }, (_, i) => i));

    const correlated = (
      await t.request('POST', CHART, {
        body: { targetedExperiments: [keys[0]], metrics: ['loss', 'acc'], independentMetrics: false, fetchFull: true },
      })
    ).json().experiments[keys[0] as string];
    const evenSteps = Array.from({ length: N / 2 }, (_, i) => i * 2);
    expect(correlated.steps).toEqual(evenSteps);
    for (const metric of correlated.metrics) expect(metric.steps).toEqual(evenSteps);
  });

  it('lists every user metric when none is named, and leaves out experiments the caller cannot read', async () => {
    const all = (await t.request('POST', CHART, { body: { targetedExperiments: [...keys, 'f'.repeat(32)] } })).json();
    expect(Object.keys(all.experiments).sort()).toEqual([...keys].sort());
    expect(all.experiments[keys[1] as string].metrics.map((m: { metricName: string }) => m.metricName).sort()).toEqual([
      'acc',
      'loss',
    ]);
    expect(all.experiments[keys[1] as string].params).toBeNull();

    const other = await t.request('POST', CHART, { key: t.otherKey, body: { targetedExperiments: keys } });
    expect(other.json()).toEqual({ experiments: {}, empty: true });
    const bad = await t.request('POST', CHART, { body: { targetedExperiments: [{ key: 1 }] } });
    expect(bad.statusCode).toBe(400);
  });
});
