import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

const V2 = '/api/rest/v2';
const CLIENTLIB = '/clientlib/rest/v2';
const UNKNOWN_KEY = 'f'.repeat(32);
const T0 = 1_700_000_000_000;

/** Every key of a system-details read (spec §3.4 #25, plus those comet_ml also indexes). */
const SYSTEM_DETAILS_KEYS = [
  'experimentKey',
  'user',
  'pythonVersion',
  'pythonVersionVerbose',
  'pid',
  'osType',
  'os',
  'ip',
  'hostname',
  'gpuStaticInfoList',
  'logAdditionalSystemInfoList',
  'systemMetricNames',
  'maxTotalMemory',
  'networkInterfaceIps',
  'command',
  'executable',
  'osPackages',
  'installedPackages',
  'osRelease',
  'machine',
  'processor',
  'totalRam',
  'env',
];

/** One valid body per write endpoint, for the permission and unknown-key checks. */
const WRITES: { method: 'POST' | 'PUT'; path: string; body: Record<string, unknown> }[] = [
  { method: 'POST', path: 'write/experiment/metric', body: { metricName: 'loss', metricValue: 1 } },
  { method: 'POST', path: 'write/experiment/parameter', body: { parameterName: 'lr', parameterValue: 0.1 } },
  { method: 'POST', path: 'write/experiment/log-other', body: { key: 'Name', value: 'renamed' } },
  { method: 'POST', path: 'write/experiment/tags', body: { addedTags: ['t'] } },
  { method: 'POST', path: 'write/experiment/html', body: { html: '<p>', override: false } },
  { method: 'POST', path: 'write/experiment/output', body: { runContext: null, outputLines: [{ output: 'x\n' }] } },
  { method: 'POST', path: 'write/experiment/code', body: { code: 'print(1)' } },
  { method: 'POST', path: 'write/experiment/graph', body: { graph: 'g' } },
  { method: 'POST', path: 'write/experiment/git/metadata', body: { user: 'u', branch: 'main' } },
  { method: 'POST', path: 'write/experiment/system-details', body: { hostname: 'h' } },
  { method: 'POST', path: 'write/experiment/cloud-details', body: { provider: 'aws', metadata: {} } },
  { method: 'PUT', path: 'write/experiment/dependencies', body: { logDependencies: [{ name: 'a', version: '1' }] } },
  { method: 'POST', path: 'write/experiment/gpu-metrics', body: { gpus: [{ gpuId: 0, usedMemory: 1 }] } },
  { method: 'POST', path: 'write/experiment/cpu-metrics', body: { cpuPercentUtilization: [10] } },
  { method: 'POST', path: 'write/experiment/ram-metrics', body: { totalRam: 2, usedRam: 1 } },
  { method: 'POST', path: 'write/experiment/load-metrics', body: { loadAverage: 1 } },
];

const READS = [
  'experiment/metrics/get-metric?metricName=loss&',
  'experiment/metrics/summary?',
  'experiment/parameters?',
  'experiment/log-other?',
  'experiment/tags?',
  'experiment/html?',
  'experiment/code?',
  'experiment/graph?',
  'experiment/output?',
  'experiment/git/metadata?',
  'experiment/system-details?',
  'experiment/cloud-details?',
];

describe.each(backends)('Comet experiment data (%s)', (backend) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function newExperiment(name = 'run'): Promise<string> {
    const principal = await t.core.auth.authenticate(t.adminKey);
    const view = await t.core.experiments.create(principal, {
      workspaceName: 'default',
      projectName: 'data',
      experimentName: name,
    });
    return view.experiment.id;
  }

  function post(path: string, body: unknown, key?: string) {
    return t.request('POST', `${V2}/${path}`, { body, ...(key ? { key } : {}) });
  }

  /** A read that must succeed: checks status and the exact content type comet_ml requires. */
  async function read(pathAndQuery: string, experimentKey: string) {
    const response = await t.request('GET', `${V2}/${pathAndQuery}experimentKey=${experimentKey}`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    return response.json();
  }

  async function expectWriteOk(response: Awaited<ReturnType<typeof post>>) {
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json()).toEqual({ msg: 'Saved', code: 200, sdk_error_code: 0, data: null });
  }

  function expectBadRequest(response: Awaited<ReturnType<typeof post>>) {
    expect(response.statusCode, response.body).toBe(400);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.json()).toMatchObject({ code: 400, data: null });
    expect(typeof response.json().msg).toBe('string');
  }

  describe('metrics', () => {
    // One request per point, sequentially, so "logging order" is well defined: slower than the default timeout allows.
    it('reads 1000 logged steps back exactly, in logging order', { timeout: 120_000 }, async () => {
      const key = await newExperiment();
      for (let i = 0; i < 1000; i++) {
        const response = await post('write/experiment/metric', {
          experimentKey: key,
          metricName: 'loss',
          metricValue: i / 7,
          step: i,
          epoch: Math.floor(i / 100),
          context: i % 2 === 0 ? 'train' : null,
          timestamp: T0 + i,
        });
        expect(response.statusCode).toBe(200);
      }
      const { metrics } = await read('experiment/metrics/get-metric?metricName=loss&', key);
      expect(metrics).toHaveLength(1000);
      let previousOffset = -1;
      metrics.forEach((point: Record<string, unknown>, i: number) => {
        expect(point).toEqual({
          metricName: 'loss',
          metricValue: i / 7,
          epoch: Math.floor(i / 100),
          timestamp: T0 + i,
          step: i,
          runContext: i % 2 === 0 ? 'train' : null,
          offset: expect.any(Number),
        });
        expect(point.offset as number).toBeGreaterThan(previousOffset);
        previousOffset = point.offset as number;
      });
    });

    it('accepts numeric strings (Java SDK) and truncates a fractional epoch (comet_ml passes timestamps there)', async () => {
      const key = await newExperiment();
      await expectWriteOk(
        await post('write/experiment/metric', {
          experimentKey: key,
          metricName: 'acc',
          metricValue: '0.25',
          epoch: 1_700_000_000.75,
        }),
      );
      const { metrics } = await read('experiment/metrics/get-metric?metricName=acc&', key);
      expect(metrics).toEqual([expect.objectContaining({ metricValue: 0.25, epoch: 1_700_000_000, step: null })]);
      expect(metrics[0].timestamp).toBeGreaterThan(T0);
    });

    it('summarises min, max and current with the point that supplied each, excluding system metrics', async () => {
      const key = await newExperiment();
      const points = [
        { metricValue: 5, step: 0, context: 'train', timestamp: T0 },
        { metricValue: 2, step: 1, context: null, timestamp: T0 + 1 },
        { metricValue: 9, step: 2, context: 'val', timestamp: T0 + 2 },
        { metricValue: 2, step: 3, context: 'val', timestamp: T0 + 3 },
        { metricValue: 4.5, step: 4, context: 'train', timestamp: T0 + 4 },
      ];
      for (const point of points) {
        await expectWriteOk(
          await post('write/experiment/metric', { experimentKey: key, metricName: 'loss', ...point }),
        );
      }
      await expectWriteOk(
        await post('write/experiment/metric', { experimentKey: key, metricName: 'acc', metricValue: 0.5, step: 7 }),
      );
      await expectWriteOk(
        await post('write/experiment/cpu-metrics', { experimentKey: key, cpuPercentUtilization: [10, 30] }),
      );

      const { values } = await read('experiment/metrics/summary?', key);
      expect(values.map((v: { name: string }) => v.name)).toEqual(['acc', 'loss']);
      expect(values[1]).toEqual({
        name: 'loss',
        valueMax: '9',
        valueMin: '2',
        valueCurrent: '4.5',
        timestampMax: T0 + 2,
        timestampMin: T0 + 1,
        timestampCurrent: T0 + 4,
        runContextMax: 'val',
        runContextMin: null,
        runContextCurrent: 'train',
        stepMax: 2,
        stepMin: 1,
        stepCurrent: 4,
        editable: false,
      });
      expect(values[0]).toMatchObject({ valueMax: '0.5', valueMin: '0.5', valueCurrent: '0.5', stepCurrent: 7 });
    });

    it('rejects bad values and types with 400 and stores nothing', async () => {
      const key = await newExperiment();
      const bad: Record<string, unknown>[] = [
        { metricValue: 'NaN' },
        { metricValue: 'Infinity' },
        { metricValue: '-Infinity' },
        { metricValue: 'nan' },
        { metricValue: 'abc' },
        { metricValue: '' },
        { metricValue: null },
        { metricValue: true },
        { metricValue: { value: 1 } },
        { metricValue: [1, 2] },
        { metricValue: 1, step: 1.5 },
        { metricValue: 1, step: 'x' },
        { metricValue: 1, timestamp: 'yesterday' },
        { metricValue: 1, metricName: { name: 'loss' } },
        { metricValue: 1, metricName: '' },
        { metricValue: 1, experimentKey: undefined },
      ];
      for (const fields of bad) {
        const body = { experimentKey: key, metricName: 'loss', ...fields };
        expectBadRequest(await post('write/experiment/metric', body));
      }
      const malformed = await t.request('POST', `${V2}/write/experiment/metric`, {
        payload: '{"experimentKey":',
        headers: { 'content-type': 'application/json' },
      });
      expectBadRequest(malformed);
      expect(await read('experiment/metrics/get-metric?metricName=loss&', key)).toEqual({ metrics: [] });
      expect(await read('experiment/metrics/summary?', key)).toEqual({ values: [] });
      const noName = await t.request('GET', `${V2}/experiment/metrics/get-metric?experimentKey=${key}`);
      expectBadRequest(noName);
    });
  });

  describe('system metrics', () => {
    it('stores GPU, CPU, RAM and load samples as sys.* series listed in system details', async () => {
      const key = await newExperiment();
      await expectWriteOk(
        await post('write/experiment/gpu-metrics', {
          experimentKey: key,
          gpus: [
            { gpuId: 0, freeMemory: 100, usedMemory: 28, gpuUtilization: 75, totalMemory: 128 },
            { gpuId: 1, freeMemory: null, usedMemory: 64 },
          ],
        }),
      );
      await expectWriteOk(
        await post('write/experiment/cpu-metrics', {
          experimentKey: key,
          cpuPercentUtilization: [10, 20, 60],
          step: 3,
          timestamp: T0,
        }),
      );
      await expectWriteOk(await post('write/experiment/ram-metrics', { experimentKey: key, totalRam: 16, usedRam: 4 }));
      await expectWriteOk(await post('write/experiment/load-metrics', { experimentKey: key, loadAverage: 1.5 }));

      const value = async (name: string) => {
        const { metrics } = await read(`experiment/metrics/get-metric?metricName=${name}&`, key);
        return metrics.map((m: { metricValue: number }) => m.metricValue);
      };
      expect(await value('sys.gpu.0.used_memory')).toEqual([28]);
      expect(await value('sys.gpu.0.gpu_utilization')).toEqual([75]);
      expect(await value('sys.gpu.1.used_memory')).toEqual([64]);
      expect(await value('sys.gpu.1.free_memory')).toEqual([]);
      expect(await value('sys.cpu.percent.03')).toEqual([60]);
      expect(await value('sys.cpu.percent.avg')).toEqual([30]);
      expect(await value('sys.ram.used')).toEqual([4]);
      expect(await value('sys.load.avg')).toEqual([1.5]);
      const cpu = await read('experiment/metrics/get-metric?metricName=sys.cpu.percent.01&', key);
      expect(cpu.metrics).toEqual([expect.objectContaining({ metricValue: 10, step: 3, timestamp: T0 })]);

      const details = await read('experiment/system-details?', key);
      expect(details.systemMetricNames).toEqual([
        'sys.cpu.percent.01',
        'sys.cpu.percent.02',
        'sys.cpu.percent.03',
        'sys.cpu.percent.avg',
        'sys.gpu.0.free_memory',
        'sys.gpu.0.gpu_utilization',
        'sys.gpu.0.total_memory',
        'sys.gpu.0.used_memory',
        'sys.gpu.1.used_memory',
        'sys.load.avg',
        'sys.ram.total',
        'sys.ram.used',
      ]);
      expect(await read('experiment/metrics/summary?', key)).toEqual({ values: [] });
    });

    it('averages huge CPU readings without overflowing to Infinity', async () => {
      const key = await newExperiment();
      const huge = -Number.MAX_VALUE;
      await expectWriteOk(
        await post('write/experiment/cpu-metrics', { experimentKey: key, cpuPercentUtilization: [huge, huge, 0, 0] }),
      );
      const { metrics } = await read('experiment/metrics/get-metric?metricName=sys.cpu.percent.avg&', key);
      expect(metrics.map((m: { metricValue: number }) => m.metricValue)).toEqual([huge / 2]);
    });

    it('rejects bad samples with 400 and stores nothing', async () => {
      const key = await newExperiment();
      const bad: [string, Record<string, unknown>][] = [
        ['write/experiment/cpu-metrics', { cpuPercentUtilization: ['busy'] }],
        ['write/experiment/cpu-metrics', { cpuPercentUtilization: [{ core: 1 }] }],
        ['write/experiment/gpu-metrics', { gpus: [{ gpuId: -1, usedMemory: 1 }] }],
        ['write/experiment/gpu-metrics', { gpus: [{ gpuId: 0, usedMemory: 'lots' }] }],
        ['write/experiment/ram-metrics', { totalRam: 'NaN', usedRam: 1 }],
        ['write/experiment/load-metrics', { loadAverage: 1, step: 0.5 }],
      ];
      for (const [path, fields] of bad) expectBadRequest(await post(path, { experimentKey: key, ...fields }));
      expect((await read('experiment/system-details?', key)).systemMetricNames).toEqual([]);
    });
  });

  describe('parameters and others', () => {
    it('summarises parameters numerically, keeps strings and JSON text, and renames on log-other Name', async () => {
      const key = await newExperiment('before');
      const logs = [
        { parameterName: 'lr', parameterValue: 0.3, step: 0, timestamp: T0 },
        { parameterName: 'lr', parameterValue: 0.01, step: 1, timestamp: T0 + 1 },
        { parameterName: 'lr', parameterValue: 0.1, step: 2, context: 'tune', timestamp: T0 + 2 },
        { parameterName: 'layers', parameterValue: [64, 32] },
        { parameterName: 'optimizer', parameterValue: 'adam' },
        { parameterName: 'shuffle', parameterValue: true },
      ];
      for (const log of logs)
        await expectWriteOk(await post('write/experiment/parameter', { experimentKey: key, ...log }));

      const { values } = await read('experiment/parameters?', key);
      expect(values.map((v: { name: string }) => v.name)).toEqual(['layers', 'lr', 'optimizer', 'shuffle']);
      expect(values[1]).toEqual({
        name: 'lr',
        valueMax: '0.3',
        valueMin: '0.01',
        valueCurrent: '0.1',
        timestampMax: T0,
        timestampMin: T0 + 1,
        timestampCurrent: T0 + 2,
        runContextMax: null,
        runContextMin: null,
        runContextCurrent: 'tune',
        stepMax: 0,
        stepMin: 1,
        stepCurrent: 2,
        editable: false,
      });
      expect(values[0].valueCurrent).toBe('[64,32]');
      expect(values[2].valueCurrent).toBe('adam');
      expect(values[3].valueCurrent).toBe('true');

      await expectWriteOk(
        await post('write/experiment/log-other', { experimentKey: key, key: 'Name', value: 'after' }),
      );
      await expectWriteOk(
        await post('write/experiment/log-other', { experimentKey: key, key: 'seed', value: 42, timestamp: T0 }),
      );
      const others = await read('experiment/log-other?', key);
      expect(others.values).toEqual([
        expect.objectContaining({ name: 'Name', valueCurrent: 'after', valueMin: 'after', valueMax: 'after' }),
        expect.objectContaining({ name: 'seed', valueCurrent: '42', timestampCurrent: T0, stepCurrent: null }),
      ]);
      const principal = await t.core.auth.authenticate(t.adminKey);
      expect((await t.core.experiments.get(principal, key)).experiment.name).toBe('after');
    });

    it('rejects bad parameters and others with 400 and stores nothing', async () => {
      const key = await newExperiment();
      const bad: [string, Record<string, unknown>][] = [
        ['write/experiment/parameter', { parameterName: { n: 1 }, parameterValue: 1 }],
        ['write/experiment/parameter', { parameterName: 'lr' }],
        ['write/experiment/parameter', { parameterName: '', parameterValue: 1 }],
        ['write/experiment/parameter', { parameterName: 'lr', parameterValue: 1, step: 'first' }],
        ['write/experiment/log-other', { key: ['a', 'b'], value: 1 }],
        ['write/experiment/log-other', { value: 1 }],
        ['write/experiment/log-other', { key: 'Name', value: 1, timestamp: -5 }],
      ];
      for (const [path, fields] of bad) expectBadRequest(await post(path, { experimentKey: key, ...fields }));
      expect(await read('experiment/parameters?', key)).toEqual({ values: [] });
      expect(await read('experiment/log-other?', key)).toEqual({ values: [] });
    });
  });

  describe('tags', () => {
    it('adds tags as a set union, in first-added order', async () => {
      const key = await newExperiment();
      expect(await read('experiment/tags?', key)).toEqual({ tags: [] });
      await expectWriteOk(await post('write/experiment/tags', { experimentKey: key, addedTags: ['a', 'b'] }));
      await expectWriteOk(await post('write/experiment/tags', { experimentKey: key, addedTags: ['b', 'c', 'c'] }));
      expect(await read('experiment/tags?', key)).toEqual({ tags: ['a', 'b', 'c'] });
    });

    it('rejects bad tags with 400 and stores nothing', async () => {
      const key = await newExperiment();
      for (const addedTags of [[{ tag: 'a' }], { a: 1 }, ['ok', ''], ['bad\u0001tag']]) {
        expectBadRequest(await post('write/experiment/tags', { experimentKey: key, addedTags }));
      }
      expectBadRequest(await post('write/experiment/tags', { experimentKey: key }));
      expect(await read('experiment/tags?', key)).toEqual({ tags: [] });
    });
  });

  describe('html, code and graph', () => {
    it('appends HTML unless override, and reads "" before anything is logged', async () => {
      const key = await newExperiment();
      expect(await read('experiment/html?', key)).toEqual({ html: '' });
      await expectWriteOk(await post('write/experiment/html', { experimentKey: key, html: '<h1>a</h1>' }));
      await expectWriteOk(
        await post('write/experiment/html', { experimentKey: key, html: '<p>b</p>', override: false, timestamp: T0 }),
      );
      expect(await read('experiment/html?', key)).toEqual({ html: '<h1>a</h1><p>b</p>' });
      await expectWriteOk(
        await post('write/experiment/html', { experimentKey: key, html: '<i>c</i>', override: true }),
      );
      expect(await read('experiment/html?', key)).toEqual({ html: '<i>c</i>' });
    });

    it('replaces code and graph', async () => {
      const key = await newExperiment();
      expect(await read('experiment/code?', key)).toEqual({ code: '' });
      expect(await read('experiment/graph?', key)).toEqual({ graph: '' });
      await expectWriteOk(await post('write/experiment/code', { experimentKey: key, code: 'print(1)\n' }));
      await expectWriteOk(await post('write/experiment/code', { experimentKey: key, code: 'print("ü")\n' }));
      await expectWriteOk(await post('write/experiment/graph', { experimentKey: key, graph: 'Linear(2, 1)' }));
      expect(await read('experiment/code?', key)).toEqual({ code: 'print("ü")\n' });
      expect(await read('experiment/graph?', key)).toEqual({ graph: 'Linear(2, 1)' });
    });

    it('rejects bad documents with 400 and stores nothing', async () => {
      const key = await newExperiment();
      const bad: [string, Record<string, unknown>][] = [
        ['write/experiment/html', {}],
        ['write/experiment/html', { html: { tag: 'p' } }],
        ['write/experiment/html', { html: '<p>', override: 'sometimes' }],
        ['write/experiment/code', { code: ['a', 'b'] }],
        ['write/experiment/graph', {}],
      ];
      for (const [path, fields] of bad) expectBadRequest(await post(path, { experimentKey: key, ...fields }));
      expect(await read('experiment/html?', key)).toEqual({ html: '' });
      expect(await read('experiment/code?', key)).toEqual({ code: '' });
      expect(await read('experiment/graph?', key)).toEqual({ graph: '' });
    });
  });

  describe('output', () => {
    it('accepts a gzip-encoded body on /clientlib and reads stdout and stderr in logging order', async () => {
      const key = await newExperiment();
      const first = {
        experimentKey: key,
        runContext: 'train',
        outputLines: [
          { output: 'epoch 2\n', stderr: false, localTimestamp: T0 + 2, offset: 1 },
          { output: 'epoch 1\n', stderr: false, localTimestamp: T0 + 1, offset: 0 },
          { output: 'warning\n', stderr: true, localTimestamp: T0 + 3, offset: 2 },
        ],
      };
      const gzipped = await t.request('POST', `${CLIENTLIB}/write/experiment/output`, {
        payload: gzipSync(Buffer.from(JSON.stringify(first))),
        headers: { 'content-type': 'application/json;charset=utf-8', 'content-encoding': 'gzip' },
      });
      await expectWriteOk(gzipped);
      // comet_ml restarts offsets in each call; a later call must still come after the first.
      await expectWriteOk(
        await post('write/experiment/output', {
          experimentKey: key,
          runContext: null,
          outputLines: [{ output: 'done\n', stderr: false, localTimestamp: T0 + 4, offset: 0 }],
        }),
      );
      // The R SDK sends `context`, bare lines and no stderr flag.
      await expectWriteOk(
        await post('write/experiment/output', {
          experimentKey: key,
          context: 'r',
          outputLines: [
            { offset: 1, output: 'r line 1' },
            { offset: 2, output: 'r line 2' },
          ],
        }),
      );
      // Newer comet_ml sends a print's text and its newline as two chunks: no blank line between.
      await expectWriteOk(
        await post('write/experiment/output', {
          experimentKey: key,
          outputLines: [
            { offset: 0, output: 'split' },
            { offset: 1, output: '\n' },
            { offset: 2, output: 'after\n' },
          ],
        }),
      );
      expect(await read('experiment/output?', key)).toEqual({
        output: 'epoch 1\nepoch 2\nwarning\ndone\nr line 1\nr line 2\nsplit\nafter\n',
      });
      const principal = await t.core.auth.authenticate(t.adminKey);
      const lines = await t.core.experiments.getOutput(principal, key);
      expect(lines.map((l) => [l.text, l.stderr, l.context, l.timestamp, l.clientOffset])).toEqual([
        ['epoch 1\n', false, 'train', T0 + 1, 0],
        ['epoch 2\n', false, 'train', T0 + 2, 1],
        ['warning\n', true, 'train', T0 + 3, 2],
        ['done\n', false, null, T0 + 4, 0],
        ['r line 1', false, 'r', expect.any(Number), 1],
        ['r line 2', false, 'r', expect.any(Number), 2],
        ['split', false, null, expect.any(Number), 0],
        ['\n', false, null, expect.any(Number), 1],
        ['after\n', false, null, expect.any(Number), 2],
      ]);
    });

    it('reads "" before any output and rejects bad output with 400, storing nothing', async () => {
      const key = await newExperiment();
      expect(await read('experiment/output?', key)).toEqual({ output: '' });
      const bad: Record<string, unknown>[] = [
        {},
        { outputLines: 'text' },
        { outputLines: [{ stderr: true }] },
        { outputLines: [{ output: 'a\n', offset: 'first' }] },
        { outputLines: [{ output: 'a\n', stderr: 'maybe' }] },
        { outputLines: [{ output: 'a\n', localTimestamp: -1 }] },
      ];
      for (const fields of bad)
        expectBadRequest(await post('write/experiment/output', { experimentKey: key, ...fields }));
      const corrupt = await t.request('POST', `${CLIENTLIB}/write/experiment/output`, {
        payload: Buffer.from('not gzip at all'),
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      });
      expect(corrupt.statusCode).toBe(400);
      expect(await read('experiment/output?', key)).toEqual({ output: '' });
    });
  });

  describe('git metadata', () => {
    it('reads every key (null when unset) and replaces the whole record on write', async () => {
      const key = await newExperiment();
      expect(await read('experiment/git/metadata?', key)).toEqual({
        user: null,
        root: null,
        branch: null,
        parent: null,
        origin: null,
      });
      await expectWriteOk(
        await post('write/experiment/git/metadata', {
          experimentKey: key,
          user: 'ada',
          root: '/src',
          branch: 'main',
          parent: 'abc123',
          origin: 'git@example.com:ada/repo.git',
        }),
      );
      expect(await read('experiment/git/metadata?', key)).toEqual({
        user: 'ada',
        root: '/src',
        branch: 'main',
        parent: 'abc123',
        origin: 'git@example.com:ada/repo.git',
      });
      await expectWriteOk(
        await post('write/experiment/git/metadata', { experimentKey: key, branch: 'dev', parent: null }),
      );
      expect(await read('experiment/git/metadata?', key)).toEqual({
        user: null,
        root: null,
        branch: 'dev',
        parent: null,
        origin: null,
      });
      expectBadRequest(await post('write/experiment/git/metadata', { experimentKey: key, branch: { name: 'x' } }));
      expect((await read('experiment/git/metadata?', key)).branch).toBe('dev');
    });
  });

  describe('system details', () => {
    it('returns every key with nulls before anything is set', async () => {
      const key = await newExperiment();
      const details = await read('experiment/system-details?', key);
      expect(Object.keys(details).sort()).toEqual([...SYSTEM_DETAILS_KEYS].sort());
      expect(details).toMatchObject({
        experimentKey: key,
        user: null,
        pid: null,
        gpuStaticInfoList: [],
        logAdditionalSystemInfoList: [],
        systemMetricNames: [],
        maxTotalMemory: null,
        networkInterfaceIps: null,
        installedPackages: null,
        totalRam: null,
        env: null,
      });
    });

    it('merges one field per call, and additional info by key', async () => {
      const key = await newExperiment();
      const calls: Record<string, unknown>[] = [
        { user: 'ada', pid: 4923, osType: 'Linux', os: 'Linux-6.1', pythonVersion: '3.11.4' },
        { hostname: 'box', ip: '10.0.0.2', osRelease: '6.1.0', machine: 'x86_64', processor: 'x86_64' },
        { command: ['train.py', '--lr', '0.1'], executable: '/usr/bin/python3', totalRam: 17179869184 },
        { networkInterfaceIps: ['10.0.0.2'], osPackages: ['libc6'], installedPackages: ['numpy==1.26.0'] },
        { env: { HOME: '/root' }, pythonVersionVerbose: '3.11.4 (main)' },
        { gpuStaticInfoList: [{ gpuIndex: 0, name: 'A100', uuid: 'GPU-1', totalMemory: 42, powerLimit: 400 }] },
        { logAdditionalSystemInfoList: [{ key: 'cuda', value: '12.1' }] },
        { logAdditionalSystemInfoList: [{ key: 'nodes', value: 2 }] },
        { logAdditionalSystemInfoList: [{ key: 'cuda', value: '12.2' }] },
        { user: null, hostname: null },
      ];
      for (const call of calls) {
        const response = await t.request('POST', `${CLIENTLIB}/write/experiment/system-details`, {
          body: { experimentKey: key, ...call },
        });
        await expectWriteOk(response);
      }
      expect(await read('experiment/system-details?', key)).toEqual({
        experimentKey: key,
        user: 'ada',
        pythonVersion: '3.11.4',
        pythonVersionVerbose: '3.11.4 (main)',
        pid: 4923,
        osType: 'Linux',
        os: 'Linux-6.1',
        osRelease: '6.1.0',
        machine: 'x86_64',
        processor: 'x86_64',
        ip: '10.0.0.2',
        hostname: 'box',
        env: { HOME: '/root' },
        gpuStaticInfoList: [{ gpuIndex: 0, name: 'A100', uuid: 'GPU-1', totalMemory: 42, powerLimit: 400 }],
        logAdditionalSystemInfoList: [
          { key: 'cuda', value: '12.2' },
          { key: 'nodes', value: '2' },
        ],
        systemMetricNames: [],
        maxTotalMemory: null,
        networkInterfaceIps: ['10.0.0.2'],
        command: ['train.py', '--lr', '0.1'],
        executable: '/usr/bin/python3',
        osPackages: ['libc6'],
        installedPackages: ['numpy==1.26.0'],
        totalRam: 17179869184,
      });
    });

    it('keeps every field when one-field calls arrive concurrently', async () => {
      const key = await newExperiment();
      const calls = [
        { user: 'ada' },
        { hostname: 'box' },
        { ip: '10.0.0.2' },
        { pid: 7 },
        { executable: '/usr/bin/python3' },
        ...Array.from({ length: 5 }, (_, i) => ({ logAdditionalSystemInfoList: [{ key: `k${i}`, value: `v${i}` }] })),
      ];
      const responses = await Promise.all(
        calls.map((call) => post('write/experiment/system-details', { experimentKey: key, ...call })),
      );
      for (const response of responses) expect(response.statusCode, response.body).toBe(200);
      const details = await read('experiment/system-details?', key);
      expect(details).toMatchObject({ user: 'ada', hostname: 'box', ip: '10.0.0.2', pid: 7 });
      expect(details.executable).toBe('/usr/bin/python3');
      expect(details.logAdditionalSystemInfoList.map((e: { key: string }) => e.key).sort()).toEqual([
        'k0',
        'k1',
        'k2',
        'k3',
        'k4',
      ]);
    });

    it('rejects bad system details with 400 and changes nothing', async () => {
      const key = await newExperiment();
      const bad: Record<string, unknown>[] = [
        { pid: 'one' },
        { pid: 1.5 },
        { command: [{ arg: 1 }] },
        { gpuStaticInfoList: [{ gpuIndex: 'zero' }] },
        { logAdditionalSystemInfoList: [{ value: 'no key' }] },
        { logAdditionalSystemInfoList: [{ key: '', value: 'empty key' }] },
        { env: { HOME: { nested: true } } },
      ];
      for (const fields of bad) {
        expectBadRequest(await post('write/experiment/system-details', { experimentKey: key, ...fields }));
      }
      const details = await read('experiment/system-details?', key);
      expect(details).toMatchObject({ pid: null, command: null, gpuStaticInfoList: [], env: null });
      expect(details.logAdditionalSystemInfoList).toEqual([]);
    });
  });

  describe('cloud details and dependencies', () => {
    it('reads all-null cloud details until set, then the provider and metadata', async () => {
      const key = await newExperiment();
      expect(await read('experiment/cloud-details?', key)).toEqual({
        experimentKey: null,
        provider: null,
        metadata: null,
      });
      const metadata = { instance: 'p4d.24xlarge', zone: 'us-east-1a', tags: ['a'], spot: true };
      await expectWriteOk(
        await post('write/experiment/cloud-details', { experimentKey: key, provider: 'aws', metadata }),
      );
      expect(await read('experiment/cloud-details?', key)).toEqual({ experimentKey: key, provider: 'aws', metadata });
      expectBadRequest(await post('write/experiment/cloud-details', { experimentKey: key, metadata: 'flat' }));
      expect((await read('experiment/cloud-details?', key)).metadata).toEqual(metadata);
    });

    it('upserts dependencies by name', async () => {
      const key = await newExperiment();
      const put = (body: Record<string, unknown>) =>
        t.request('PUT', `${V2}/write/experiment/dependencies`, { body: { experimentKey: key, ...body } });
      await expectWriteOk(
        await put({
          timestamp: T0,
          logDependencies: [
            { name: 'numpy', version: '1.26.0' },
            { name: 'torch', version: '2.1.0' },
          ],
        }),
      );
      await expectWriteOk(await put({ logDependencies: [{ name: 'numpy', version: '2.0.0' }, { name: 'tqdm' }] }));
      expectBadRequest(await put({ logDependencies: [{ version: '1' }] }));
      expectBadRequest(await put({ logDependencies: 'numpy' }));
      const principal = await t.core.auth.authenticate(t.adminKey);
      const stored = await t.core.experiments.getDocument(principal, key, 'dependencies');
      expect(JSON.parse(stored ?? 'null')).toEqual([
        { name: 'numpy', version: '2.0.0' },
        { name: 'torch', version: '2.1.0' },
        { name: 'tqdm', version: null },
      ]);
    });
  });

  describe('access', () => {
    it('answers 404 with sdk_error_code 90211 for an unknown experiment, on every write and read', async () => {
      for (const write of WRITES) {
        const response = await t.request(write.method, `${V2}/${write.path}`, {
          body: { experimentKey: UNKNOWN_KEY, ...write.body },
        });
        expect(response.statusCode, write.path).toBe(404);
        expect(response.headers['content-type']).toBe('application/json');
        expect(response.json()).toMatchObject({ code: 404, sdk_error_code: 90211, data: null });
      }
      for (const path of READS) {
        const response = await t.request('GET', `${V2}/${path}experimentKey=${UNKNOWN_KEY}`);
        expect(response.statusCode, path).toBe(404);
        expect(response.headers['content-type']).toBe('application/json');
        expect(response.json()).toMatchObject({ code: 404, sdk_error_code: 90211, data: null });
      }
    });

    it('hides an experiment from another tenant (404, never 403) and refuses writes with a read-only key', async () => {
      const key = await newExperiment('private');
      for (const write of WRITES) {
        const asOther = await t.request(write.method, `${V2}/${write.path}`, {
          key: t.otherKey,
          body: { experimentKey: key, ...write.body },
        });
        expect(asOther.statusCode, write.path).toBe(404);
        expect(asOther.json()).toMatchObject({ code: 404, sdk_error_code: 90211 });
        const readOnly = await t.request(write.method, `${V2}/${write.path}`, {
          key: t.readOnlyKey,
          body: { experimentKey: key, ...write.body },
        });
        expect(readOnly.statusCode, write.path).toBe(403);
        expect(readOnly.headers['content-type']).toBe('application/json');
        expect(readOnly.json()).toMatchObject({ code: 403, data: null });
      }
      for (const path of READS) {
        const asOther = await t.request('GET', `${V2}/${path}experimentKey=${key}`, { key: t.otherKey });
        expect(asOther.statusCode, path).toBe(404);
        const readOnly = await t.request('GET', `${V2}/${path}experimentKey=${key}`, { key: t.readOnlyKey });
        expect(readOnly.statusCode, path).toBe(200);
        expect(readOnly.headers['content-type']).toBe('application/json');
      }
      // Nothing of the refused writes reached the experiment.
      expect(await read('experiment/metrics/get-metric?metricName=loss&', key)).toEqual({ metrics: [] });
      expect(await read('experiment/parameters?', key)).toEqual({ values: [] });
      expect(await read('experiment/log-other?', key)).toEqual({ values: [] });
      expect(await read('experiment/tags?', key)).toEqual({ tags: [] });
      expect(await read('experiment/html?', key)).toEqual({ html: '' });
      expect(await read('experiment/output?', key)).toEqual({ output: '' });
      expect(await read('experiment/code?', key)).toEqual({ code: '' });
      expect((await read('experiment/git/metadata?', key)).user).toBeNull();
      expect(await read('experiment/system-details?', key)).toMatchObject({ hostname: null, systemMetricNames: [] });
      expect((await read('experiment/cloud-details?', key)).provider).toBeNull();
      const principal = await t.core.auth.authenticate(t.adminKey);
      expect((await t.core.experiments.get(principal, key)).experiment.name).toBe('private');
      expect(await t.core.experiments.getDocument(principal, key, 'dependencies')).toBeNull();
    });

    it('accepts every write from the owner (the same bodies the access checks use)', async () => {
      const key = await newExperiment();
      for (const write of WRITES) {
        const response = await t.request(write.method, `${V2}/${write.path}`, {
          body: { experimentKey: key, ...write.body },
        });
        await expectWriteOk(response);
      }
      expect((await read('experiment/tags?', key)).tags).toEqual(['t']);
    });
  });
});
