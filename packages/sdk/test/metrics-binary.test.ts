import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError, Cairn } from '../src/node.js';
import { encodeMetricsBinary, metricsJsonBody } from '../src/resources/metrics-binary.js';
import { startTestServer, type TestServer } from './support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

/** Every request's content type, and a server that refuses the binary body when `binary415`. */
function recordingFetch(sent: string[], binary415 = false): typeof fetch {
  return async (input, init) => {
    const type = new Headers(init?.headers).get('content-type') ?? '';
    sent.push(type);
    if (binary415 && type === 'application/vnd.cairn.metrics') {
      return new Response(
        JSON.stringify({ type: 'about:blank', title: 'Unsupported Media Type', status: 415, detail: 'no' }),
        {
          status: 415,
          headers: { 'content-type': 'application/problem+json' },
        },
      );
    }
    return fetch(input, init);
  };
}

const client = (fetchImpl: typeof fetch) =>
  new Cairn({ url: server.url, apiKey: server.apiKey, fetch: fetchImpl, writer: { exitHandlers: false } });

describe('metrics.logColumns: the binary bulk body', () => {
  const columns = () => [
    {
      name: 'loss',
      values: Float64Array.from([0.5, Number.NaN, 0.125, Number.POSITIVE_INFINITY]),
      steps: Float64Array.from([0, 1, Number.NaN, 3]),
      timestamps: Float64Array.from([1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002, Number.NaN]),
    },
    { name: 'acc', context: 'val', values: [0.25, 0.75], epochs: [1, 2] },
  ];

  it('sends application/vnd.cairn.metrics and the server stores exactly those points', async () => {
    const sent: string[] = [];
    const cairn = client(recordingFetch(sent));
    const { key } = await cairn.experiments.create('default', 'binary-sdk');
    await expect(cairn.metrics.logColumns(key, columns())).rejects.toBeInstanceOf(BadRequestError);
    const result = await cairn.metrics.logColumns(key, columns(), { allowNonFinite: true, idempotencyKey: 'b:1' });
    expect(result).toEqual({ points: 6, duplicate: false });
    expect(await cairn.metrics.logColumns(key, columns(), { allowNonFinite: true, idempotencyKey: 'b:1' })).toEqual({
      points: 6,
      duplicate: true,
    });
    expect(sent.filter((t) => t === 'application/vnd.cairn.metrics')).toHaveLength(3);
    const loss = await cairn.metrics.points(key, 'loss');
    expect(loss.values).toEqual([0.5, 'NaN', 0.125, 'Infinity']);
    expect(loss.steps).toEqual([0, 1, null, 3]);
    expect(loss.timestamps.slice(0, 3)).toEqual([1_700_000_000_000, 1_700_000_000_001, 1_700_000_000_002]);
    const acc = await cairn.metrics.points(key, 'acc');
    expect(acc).toMatchObject({ values: [0.25, 0.75], epochs: [1, 2], contexts: ['val', 'val'] });
  });

  it('falls back to the JSON body when the server answers 415, storing the same points', async () => {
    const sent: string[] = [];
    const cairn = client(recordingFetch(sent, true));
    const { key } = await cairn.experiments.create('default', 'binary-sdk');
    expect(await cairn.metrics.logColumns(key, columns(), { allowNonFinite: true })).toEqual({
      points: 6,
      duplicate: false,
    });
    expect(sent.slice(-2)).toEqual(['application/vnd.cairn.metrics', 'application/json']);
    const loss = await cairn.metrics.points(key, 'loss');
    expect(loss.values).toEqual([0.5, 'NaN', 0.125, 'Infinity']);
    expect(loss.steps).toEqual([0, 1, null, 3]);
  });

  it('lays out the header, padding and float64 columns as documented, and refuses ragged columns', () => {
    const bytes = encodeMetricsBinary([{ name: 'a', values: [1.5, -2], steps: [0, Number.NaN] }]);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLength = view.getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength)));
    expect(header).toEqual({ series: [{ name: 'a', length: 2, steps: true }] });
    const start = Math.ceil((4 + headerLength) / 8) * 8;
    expect(bytes.subarray(4 + headerLength, start).every((b) => b === 0)).toBe(true);
    expect(bytes.length).toBe(start + 32);
    expect([0, 1, 2, 3].map((i) => view.getFloat64(start + 8 * i, true))).toEqual([1.5, -2, 0, Number.NaN]);
    expect(() => encodeMetricsBinary([{ name: 'a', values: [1, 2], steps: [0] }])).toThrow(/steps has 1 entries/);
    expect(metricsJsonBody([{ name: 'a', values: [1, Number.NaN], steps: [0, Number.NaN] }])).toEqual({
      series: [{ name: 'a', values: [1, 'NaN'], steps: [0, null] }],
    });
  });
});
