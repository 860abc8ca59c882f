import { mkdtemp, rm } from 'node:fs/promises';
import { get, type IncomingMessage } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { InProcessLiveEvents } from '../src/core/in-process-live-events.js';
import { LIVE_POINTS_MAX } from '../src/core/metrics.service.js';
import { buildApp } from '../src/http/app.js';
import { startServer } from '../src/main.js';
import { SseClient } from './support/sse-client.js';
import { ADMIN_KEY, backends, createTestContext, PUBLIC_URL, type TestContext } from './support/test-context.js';

const API = '/api/cairn/v1';
const V2 = '/api/rest/v2';

async function eventually(condition: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

describe.each(backends)('Cairn live events (%s)', (backend) => {
  let t: TestContext;
  let base: string;
  const streams: SseClient[] = [];

  beforeAll(async () => {
    t = await createTestContext(backend);
    base = await listen(t.app);
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await t?.close();
  });

  const send = async (method: string, path: string, body?: unknown, key = t.adminKey) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} -> ${response.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  const follow = async (path: string, headers: Record<string, string> = {}, key = t.adminKey) => {
    const stream = await SseClient.open(`${base}${API}${path}`, { authorization: `Bearer ${key}`, ...headers });
    streams.push(stream);
    return stream;
  };
  const createExperiment = async (projectName = 'live') =>
    (await send('POST', `${V2}/write/experiment/create`, { workspaceName: 'default', projectName }))
      .experimentKey as string;

  it('delivers points of a Cairn bulk write and of a Comet write within a second of the commit', async () => {
    const key = await createExperiment();
    const stream = await follow(`/experiments/${key}/events`);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // The stream's position arrives first: the subscription is in place before anything is written.
    await stream.until(() => stream.lastEventId !== undefined);

    const bulkSent = performance.now();
    await send('POST', `${API}/experiments/${key}/metrics`, {
      allowNonFinite: true,
      series: [
        {
          name: 'loss',
          values: [0.5, 'NaN', 0.25],
          steps: [1, 2, 3],
          timestamps: [1000, 2000, 3000],
          epochs: [0, 0, 1],
        },
        { name: 'acc', context: 'val', values: [0.9], steps: [3] },
      ],
    });
    await stream.until(() => stream.of('points').length === 1);
    const bulk = stream.of('points')[0] as { data: { series: { offsets: number[] }[] }; at: number };
    expect(bulk.at - bulkSent).toBeLessThan(1000);
    expect(bulk.data).toEqual({
      experiment: key,
      truncated: false,
      series: [
        {
          name: 'loss',
          context: null,
          offsets: expect.any(Array),
          steps: [1, 2, 3],
          values: [0.5, 'NaN', 0.25],
          timestamps: [1000, 2000, 3000],
          epochs: [0, 0, 1],
        },
        {
          name: 'acc',
          context: 'val',
          offsets: expect.any(Array),
          steps: [3],
          values: [0.9],
          timestamps: [expect.any(Number)],
          epochs: [null],
        },
      ],
    });
    // The offsets are the stored points' own.
    const stored = await send('GET', `${API}/experiments/${key}/metrics/loss`);
    expect(bulk.data.series[0]?.offsets).toEqual(stored.offsets);

    const cometSent = performance.now();
    await send('POST', `${V2}/write/experiment/metric`, {
      experimentKey: key,
      metricName: 'lr',
      metricValue: 0.01,
      step: 7,
      epoch: 2,
      context: 'train',
      timestamp: 1_700_000_000_000,
    });
    await stream.until(() => stream.of('points').length === 2);
    const comet = stream.of('points')[1] as { data: unknown; at: number };
    expect(comet.at - cometSent).toBeLessThan(1000);
    expect(comet.data).toEqual({
      experiment: key,
      truncated: false,
      series: [
        {
          name: 'lr',
          context: 'train',
          offsets: (await send('GET', `${API}/experiments/${key}/metrics/lr`)).offsets,
          steps: [7],
          values: [0.01],
          timestamps: [1_700_000_000_000],
          epochs: [2],
        },
      ],
    });
  });

  it('announces a batch of more than 2,000 points as ranges that read back exactly its points', async () => {
    const key = await createExperiment();
    await send('POST', `${API}/experiments/${key}/metrics`, { series: [{ name: 'a', values: [1, 2, 3] }] });
    const stream = await follow(`/experiments/${key}/events`);
    const count = LIVE_POINTS_MAX;
    const steps = Array.from({ length: count }, (_, i) => i);
    await send('POST', `${API}/experiments/${key}/metrics`, {
      series: [
        { name: 'a', values: steps.map((s) => s / 2), steps },
        { name: 'b', values: [7], steps: [0] },
      ],
    });
    await stream.until(() => stream.of('points').length === 1);
    expect(stream.of('points')[0]?.data).toEqual({
      experiment: key,
      truncated: true,
      series: [
        { name: 'a', fromOffset: 3, count },
        { name: 'b', fromOffset: 0, count: 1 },
      ],
    });
    const page = await send('GET', `${API}/experiments/${key}/metrics/a?offset=3&limit=${count}`);
    expect(page.steps).toEqual(steps);
    expect(page.values).toEqual(steps.map((s) => s / 2));
  });

  it('streams heartbeats, status changes, values, tags, renames and assets', async () => {
    const key = await createExperiment();
    const stream = await follow(`/experiments/${key}/events`);
    await stream.until(() => stream.lastEventId !== undefined);

    await new Promise((resolve) => setTimeout(resolve, 5));
    await send('GET', `${V2}/write/experiment/set-status?experimentKey=${key}`);
    await stream.until(() => stream.of('heartbeat').length === 1);
    const beat = stream.of('heartbeat')[0]?.data as { experiment: string; lastHeartbeat: number };
    expect(beat.experiment).toBe(key);
    expect(beat.lastHeartbeat).toBeGreaterThan(Date.now() - 60_000);

    await send('POST', `${V2}/write/experiment/parameter`, {
      experimentKey: key,
      parameterName: 'lr',
      parameterValue: 0.1,
    });
    await send('POST', `${V2}/write/experiment/log-other`, { experimentKey: key, key: 'Name', value: 'renamed' });
    await send('POST', `${V2}/write/experiment/tags`, { experimentKey: key, addedTags: ['best'] });
    await send('POST', `${V2}/write/experiment/update-status`, {
      experimentKey: key,
      isAlive: false,
      hasCrashed: true,
    });
    await send('GET', `${V2}/write/experiment/archive?experimentKey=${key}`);
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('{"a":1}')]), 'file');
    const upload = await fetch(
      `${base}${V2}/write/experiment/upload-asset?experimentKey=${key}&fileName=conf.json&step=3`,
      { method: 'POST', headers: { authorization: t.adminKey }, body: form },
    );
    expect(upload.status, await upload.text()).toBe(200);

    await stream.until(() => stream.of('asset').length === 1);
    expect(stream.of('values').map((m) => m.data)).toEqual([
      { experiment: key, kind: 'param', names: ['lr'] },
      { experiment: key, kind: 'other', names: ['Name'] },
    ]);
    const experiments = stream
      .of('experiment')
      .map((m) => (m.data as { experiment: Record<string, unknown> }).experiment);
    // Rename, tag, end (crashed: FAILED), archive: one event each, in that order, each a whole experiment.
    expect(experiments.map((e) => [e.name, e.tags, e.status, e.running, e.archived])).toEqual([
      ['renamed', [], 'RUNNING', true, false],
      ['renamed', ['best'], 'RUNNING', true, false],
      ['renamed', ['best'], 'FAILED', false, false],
      ['renamed', ['best'], 'FAILED', false, true],
    ]);
    expect(experiments[3]).toMatchObject({ key, workspace: 'default', project: 'live', createdBy: 'admin' });
    expect(experiments[3]?.endTime).toEqual(expect.any(Number));
    expect(stream.of('asset')[0]?.data).toMatchObject({
      experiment: key,
      asset: { fileName: 'conf.json', size: 7, step: 3, contentType: 'application/json', remote: false },
    });
    // Event ids grow in the order the events were published.
    const ids = stream.messages.map((m) => Number(m.id?.split('-')[1]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });

  it("shows a project's new experiments and their points on the project stream", async () => {
    await createExperiment('watched');
    const stream = await follow('/workspaces/default/projects/watched/events');
    await stream.until(() => stream.lastEventId !== undefined);
    const key = await createExperiment('watched');
    const elsewhere = await createExperiment('not-watched');
    await send('POST', `${API}/experiments/${elsewhere}/metrics`, { series: [{ name: 'x', values: [1] }] });
    await send('POST', `${API}/experiments/${key}/metrics`, { series: [{ name: 'x', values: [2] }] });
    await stream.until(() => stream.of('points').length === 1);
    expect(stream.of('experiment').map((m) => (m.data as { experiment: { key: string } }).experiment.key)).toEqual([
      key,
    ]);
    expect(stream.of('experiment')[0]?.data).toMatchObject({
      experiment: { key, project: 'watched', status: 'RUNNING' },
    });
    expect(stream.of('points')[0]?.data).toMatchObject({ experiment: key, series: [{ name: 'x', values: [2] }] });
  });

  it('resumes after Last-Event-ID with exactly the missed events, and resets on an id it does not hold', async () => {
    const key = await createExperiment();
    const first = await follow(`/experiments/${key}/events`);
    await send('POST', `${API}/experiments/${key}/metrics`, { series: [{ name: 'x', values: [1] }] });
    await first.until(() => first.of('points').length === 1);
    const resumeFrom = first.lastEventId as string;
    first.close();

    // Missed while away: two batches and a tag, plus another experiment's batch that must not come.
    const other = await createExperiment();
    await send('POST', `${API}/experiments/${key}/metrics`, { series: [{ name: 'x', values: [2] }] });
    await send('POST', `${API}/experiments/${other}/metrics`, { series: [{ name: 'x', values: [9] }] });
    await send('POST', `${V2}/write/experiment/tags`, { experimentKey: key, addedTags: ['t'] });
    await send('POST', `${API}/experiments/${key}/metrics`, { series: [{ name: 'x', values: [3] }] });

    const resumed = await follow(`/experiments/${key}/events`, { 'last-event-id': resumeFrom });
    await resumed.until(() => resumed.messages.length === 3);
    expect(resumed.messages.map((m) => m.event)).toEqual(['points', 'experiment', 'points']);
    expect(resumed.of('points').map((m) => (m.data as { series: { values: number[] }[] }).series[0]?.values)).toEqual([
      [2],
      [3],
    ]);
    // Then live again, after the replay.
    await send('POST', `${API}/experiments/${key}/metrics`, { series: [{ name: 'x', values: [4] }] });
    await resumed.until(() => resumed.messages.length === 4);
    expect(resumed.messages[3]?.event).toBe('points');
    // Nothing missed: nothing replayed, and the position comes back.
    const caughtUp = await follow(`/experiments/${key}/events`, { 'last-event-id': resumed.lastEventId as string });
    await caughtUp.until(() => caughtUp.lastEventId !== undefined);
    expect(caughtUp.messages).toEqual([]);

    // An id of another server process (another boot id) or no id at all: reset first, then live.
    const [bootId] = resumeFrom.split('-');
    for (const stale of [`${bootId === 'aaaaaaaaaaaa' ? 'bbbbbbbbbbbb' : 'aaaaaaaaaaaa'}-1`, 'nonsense']) {
      const reset = await follow(`/experiments/${key}/events`, { 'last-event-id': stale });
      await reset.until(() => reset.messages.length === 1);
      expect(reset.messages[0]).toMatchObject({ event: 'reset', data: '{}' });
      expect(reset.messages[0]?.id).toMatch(new RegExp(`^${bootId}-\\d+$`));
    }
  });

  it('is 404 for what another tenant cannot read, 401 without a key', async () => {
    const key = await createExperiment('private');
    for (const path of [`/experiments/${key}/events`, '/workspaces/default/projects/private/events']) {
      const refused = await fetch(`${base}${API}${path}`, { headers: { authorization: t.otherKey } });
      expect(refused.status).toBe(404);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((await fetch(`${base}${API}${path}`)).status).toBe(401);
    }
    expect(
      (await fetch(`${base}${API}/experiments/${'0'.repeat(32)}/events`, { headers: { authorization: t.adminKey } }))
        .status,
    ).toBe(404);
    // The read scope is enough.
    const readOnly = await follow(`/experiments/${key}/events`, {}, t.readOnlyKey);
    expect(readOnly.response.status).toBe(200);
  });

  it('sends keepalive comments, and drops a client that stops reading instead of buffering for it', async () => {
    const app = await buildApp({
      core: t.core,
      config: { bodyLimitBytes: 8 * 1024 * 1024, publicUrl: PUBLIC_URL },
      live: { keepaliveMillis: 50, maxBufferedBytes: 256 * 1024 },
    });
    const url = await listen(app);
    const bus = t.core.events as InProcessLiveEvents;
    const before = bus.subscriberCount;
    try {
      const key = await createExperiment();
      const idle = await SseClient.open(`${url}${API}/experiments/${key}/events`, { authorization: t.adminKey });
      await idle.until(() => idle.comments >= 2, 2_000, 'two keepalive comments');
      expect(bus.subscriberCount).toBe(before + 1);
      idle.close();
      await eventually(() => bus.subscriberCount === before, 'the closed stream to unsubscribe');

      // A reader that never reads: its server-side buffer passes the limit, so it is cut off.
      // node:http rather than fetch: a paused response stops reading its socket, as a stuck client would.
      const stalled = await new Promise<IncomingMessage>((resolve, reject) => {
        get(`${url}${API}/experiments/${key}/events`, { headers: { authorization: t.adminKey } }, resolve).on(
          'error',
          reject,
        );
      });
      stalled.pause();
      const cutOff = new Promise<void>((resolve) => stalled.socket.once('close', () => resolve()));
      expect(stalled.statusCode).toBe(200);
      expect(bus.subscriberCount).toBe(before + 1);
      const steps = Array.from({ length: LIVE_POINTS_MAX }, (_, i) => i);
      for (let i = 0; i < 300 && bus.subscriberCount > before; i++) {
        await send('POST', `${API}/experiments/${key}/metrics`, {
          series: [{ name: 'big', values: steps.map((s) => s + i / 3), steps }],
        });
      }
      expect(bus.subscriberCount).toBe(before);
      // Reading again, the client finds its connection gone (a paused socket does not see it end).
      stalled.on('error', () => {});
      stalled.resume();
      await cutOff;
    } finally {
      await app.close();
    }
  });

  it('ends open streams when the server closes, without waiting for the clients', async () => {
    const own = await createTestContext(backend);
    try {
      const url = await listen(own.app);
      const key = (await (
        await fetch(`${url}${V2}/write/experiment/create`, {
          method: 'POST',
          headers: { authorization: own.adminKey, 'content-type': 'application/json' },
          body: JSON.stringify({ workspaceName: 'default', projectName: 'closing' }),
        })
      ).json()) as { experimentKey: string };
      const open = [
        await SseClient.open(`${url}${API}/experiments/${key.experimentKey}/events`, { authorization: own.adminKey }),
        await SseClient.open(`${url}${API}/workspaces/default/projects/closing/events`, {
          authorization: own.adminKey,
        }),
      ];
      for (const stream of open) await stream.until(() => stream.lastEventId !== undefined);
      // A connection that never carried a request (fetch keeps such spares) must not hold the close up either.
      const spare = connect(Number(new URL(url).port), '127.0.0.1');
      await new Promise((resolve) => spare.once('connect', resolve));
      const spareClosed = new Promise((resolve) => spare.once('close', resolve));
      const started = performance.now();
      await own.app.close();
      expect(performance.now() - started).toBeLessThan(2_000);
      for (const stream of open) await stream.until(() => stream.ended, 2_000, 'the end of the stream');
      await spareClosed;
      expect((own.core.events as InProcessLiveEvents).subscriberCount).toBe(0);
    } finally {
      await own.close();
    }
  });
});

describe('live events through the composition root (sqlite)', () => {
  it('stops the server promptly with event streams open', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cairn-live-'));
    const server = await startServer(
      loadConfig({
        CAIRN_DATA_DIR: dataDir,
        CAIRN_PORT: '0',
        CAIRN_LOG_LEVEL: 'silent',
        CAIRN_ADMIN_API_KEY: ADMIN_KEY,
        CAIRN_SQLITE_SYNCHRONOUS: 'normal',
      }),
    );
    try {
      const url = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
      const created = await fetch(`${url}${V2}/write/experiment/create`, {
        method: 'POST',
        headers: { authorization: ADMIN_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ workspaceName: 'default', projectName: 'stopping' }),
      });
      const { experimentKey } = (await created.json()) as { experimentKey: string };
      const stream = await SseClient.open(`${url}${API}/experiments/${experimentKey}/events`, {
        authorization: ADMIN_KEY,
      });
      await stream.until(() => stream.lastEventId !== undefined);
      const started = performance.now();
      await server.stop();
      expect(performance.now() - started).toBeLessThan(2_000);
      await stream.until(() => stream.ended, 2_000, 'the end of the stream');
    } finally {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
