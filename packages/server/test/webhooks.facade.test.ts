import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createCore } from '../src/core/core.js';
import { type RunningServer, startServer } from '../src/main.js';
import { HttpWebhookSender } from '../src/outbound/http-webhook.sender.js';
import { WebhookAddressRules } from '../src/outbound/webhook-address-rules.js';
import { FileBlobStore } from '../src/storage/blob/file-blob.store.js';
import { experimentWithModel, register, V2 } from './support/registry-fixtures.js';
import { ADMIN_KEY, backends, createTestContext, type TestContext } from './support/test-context.js';

const BACKOFF_BASE = 100;
const MAX_ATTEMPTS = 3;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  at: number;
}

type Answer = number | 'hang';

/** A local HTTP endpoint that records every POST and answers per path as told. */
class Receiver {
  readonly received: Received[] = [];
  private readonly answers = new Map<string, (attempt: number) => Answer>();
  private readonly hanging: ServerResponse[] = [];
  private readonly server: Server;
  private waiters: (() => void)[] = [];

  private constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        const attempt = this.received.filter((r) => r.path === path).length + 1;
        this.received.push({
          path,
          headers: request.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
          at: Date.now(),
        });
        for (const wake of this.waiters.splice(0)) wake();
        const answer = (this.answers.get(path) ?? (() => 200))(attempt);
        if (answer === 'hang') this.hanging.push(response);
        else response.writeHead(answer).end(answer < 300 ? 'ok' : 'no');
      });
    });
  }

  static async start(): Promise<Receiver> {
    const receiver = new Receiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  answer(path: string, answer: (attempt: number) => Answer): void {
    this.answers.set(path, answer);
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Waits until `path` has received `count` requests. */
  async waitFor(path: string, count: number, timeoutMillis = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMillis;
    while (this.at(path).length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${path} received ${this.at(path).length} requests, expected ${count}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.at(path);
  }

  release(status = 200): void {
    for (const response of this.hanging.splice(0)) if (!response.writableEnded) response.writeHead(status).end();
  }

  async close(): Promise<void> {
    for (const response of this.hanging.splice(0)) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A URL nothing listens on: a server bound to port 0, then closed. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/gone`;
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMillis = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface DeliveryRow {
  id: string;
  event: string;
  url: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  createdAt: number;
  payload: Record<string, unknown>;
}

/** The receivers here listen on 127.0.0.1: allowed as an operator allows an internal receiver. */
const LOCAL_RECEIVERS = WebhookAddressRules.parse('127.0.0.1');
const localSender = (timeoutMillis: number) => new HttpWebhookSender({ timeoutMillis, rules: LOCAL_RECEIVERS });

let unique = 0;
const modelName = (base: string) => `${base}-${++unique}-${Math.random().toString(36).slice(2, 6)}`;

describe.each(backends)('Comet registry webhooks (%s)', (backend) => {
  let t: TestContext;
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await Receiver.start();
    t = await createTestContext(backend, {
      webhooks: {
        sender: localSender(5_000),
        options: {
          backoffBaseMillis: BACKOFF_BASE,
          maxAttempts: MAX_ATTEMPTS,
          pollIntervalMillis: 50,
          leaseMillis: 10_000,
        },
      },
    });
    t.core.webhookDispatcher.start();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const get = (path: string, params: Record<string, string>, key?: string) =>
    t.request('GET', `${V2}/${path}?${new URLSearchParams(params)}`, key === undefined ? {} : { key });
  const setConfig = (webhookConfigs: unknown[], key?: string) =>
    t.request('POST', `${V2}/webhooks/config`, { body: { webhookConfigs }, ...(key ? { key } : {}) });
  const deliveries = async (workspaceName = 'default', extra = ''): Promise<DeliveryRow[]> => {
    const response = await t.request('GET', `/api/cairn/v1/webhooks/deliveries?workspaceName=${workspaceName}${extra}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().deliveries;
  };

  /** A registry model with one version, in `workspaceName`; returns the version's item id. */
  async function registeredModel(name: string, workspaceName = 'default', version = '1.0.0'): Promise<string> {
    const source = await experimentWithModel(t, 'net', { 'w.bin': Buffer.from('w') }, { workspaceName });
    const response = await register(t, {
      experimentModelId: source.experimentModelId,
      registryModelName: name,
      version,
    });
    expect(response.statusCode, response.body).toBe(200);
    return response.json().registryModelItemId;
  }

  it('stores, replaces and returns a model configuration and a workspace-wide one', async () => {
    const name = modelName('config');
    await registeredModel(name);
    const empty = await get('webhooks/config', { workspaceName: 'default', modelName: name });
    expect(empty.statusCode, empty.body).toBe(200);
    expect(empty.headers['content-type']).toBe('application/json');
    expect(empty.json()).toEqual({ workspaceName: 'default', modelName: name, webhookUrls: [] });

    const saved = await setConfig([
      {
        workspaceName: 'default',
        modelName: name,
        webhookUrls: [
          { url: 'https://ci.example/hook', header: { Authorization: 'secret', 'X-Other': 'y' }, name: 'ci' },
          { url: 'http://deploy.example/', triggers: ['stage_added', 'MODEL_VERSION_CREATED'] },
        ],
      },
    ]);
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json()).toMatchObject({ code: 200, sdk_error_code: 0 });
    expect((await get('webhooks/config', { workspaceName: 'default', modelName: name })).json()).toEqual({
      workspaceName: 'default',
      modelName: name,
      webhookUrls: [
        {
          url: 'https://ci.example/hook',
          header: { Authorization: 'secret', 'X-Other': 'y' },
          name: 'ci',
          triggers: [],
        },
        { url: 'http://deploy.example/', header: {}, name: null, triggers: ['STAGE_ADDED', 'MODEL_VERSION_CREATED'] },
      ],
    });

    // Posting again replaces the whole list.
    await setConfig([{ workspaceName: 'default', modelName: name, webhookUrls: [{ url: 'https://only.example/' }] }]);
    const replaced = (await get('webhooks/config', { workspaceName: 'default', modelName: name })).json();
    expect(replaced.webhookUrls.map((u: { url: string }) => u.url)).toEqual(['https://only.example/']);

    // No modelName (absent, null or empty) is the workspace-wide configuration.
    const ws = `hooks-${Math.random().toString(36).slice(2, 8)}`;
    expect((await t.request('POST', `${V2}/write/workspace/new`, { body: { name: ws } })).statusCode).toBe(200);
    await setConfig([{ workspaceName: ws, modelName: null, webhookUrls: [{ url: 'https://all.example/' }] }]);
    const wide = await get('webhooks/config', { workspaceName: ws });
    expect(wide.json()).toEqual({
      workspaceName: ws,
      modelName: null,
      webhookUrls: [{ url: 'https://all.example/', header: {}, name: null, triggers: [] }],
    });
    expect((await get('webhooks/config', { workspaceName: ws, modelName: '' })).json().webhookUrls).toHaveLength(1);
  });

  it('refuses configurations that could never work, and hides them from other tenants', async () => {
    const name = modelName('invalid');
    await registeredModel(name);
    const bad = async (url: Record<string, unknown>) =>
      (await setConfig([{ workspaceName: 'default', modelName: name, webhookUrls: [url] }])).statusCode;
    expect(await bad({ url: 'not a url' })).toBe(400);
    expect(await bad({ url: 'ftp://files.example/' })).toBe(400);
    expect(await bad({ url: 'https://ok.example/', triggers: ['ON_FULL_MOON'] })).toBe(400);
    expect(await bad({ url: 'https://ok.example/', header: { 'Bad Header': 'x' } })).toBe(400);
    expect(await bad({ url: 'https://ok.example/', header: { 'X-Injected': 'a\r\nb: c' } })).toBe(400);

    const unknownModel = await setConfig([
      { workspaceName: 'default', modelName: modelName('absent'), webhookUrls: [] },
    ]);
    expect(unknownModel.statusCode).toBe(404);
    expect(unknownModel.json().sdk_error_code).toBe(42008);

    // All or nothing: a valid first entry is not saved when the second fails.
    const partial = await setConfig([
      { workspaceName: 'default', modelName: name, webhookUrls: [{ url: 'https://first.example/' }] },
      { workspaceName: 'default', modelName: modelName('absent'), webhookUrls: [] },
    ]);
    expect(partial.statusCode).toBe(404);
    expect((await get('webhooks/config', { workspaceName: 'default', modelName: name })).json().webhookUrls).toEqual(
      [],
    );

    const foreign = await get('webhooks/config', { workspaceName: 'default', modelName: name }, t.otherKey);
    expect(foreign.statusCode).toBe(404);
    const foreignWrite = await setConfig(
      [{ workspaceName: 'default', webhookUrls: [{ url: 'https://x.example/' }] }],
      t.otherKey,
    );
    expect(foreignWrite.statusCode).toBe(404);
    const readOnly = await setConfig([{ workspaceName: 'default', modelName: name, webhookUrls: [] }], t.readOnlyKey);
    expect(readOnly.statusCode).toBe(403);
  });

  it('POSTs stage changes to the model and workspace-wide URLs with their headers, after the write returns', async () => {
    const ws = `fanout-${Math.random().toString(36).slice(2, 8)}`;
    expect((await t.request('POST', `${V2}/write/workspace/new`, { body: { name: ws } })).statusCode).toBe(200);
    const name = modelName('fanout');
    const other = modelName('neighbour');
    const item = await registeredModel(name, ws);
    const otherItem = await registeredModel(other, ws);
    const [modelUrl, wideUrl, slowUrl] = ['/model-hook', `/wide-${ws}`, `/slow-${ws}`];
    receiver.answer(slowUrl, () => 'hang');
    const saved = await setConfig([
      {
        workspaceName: ws,
        modelName: name,
        webhookUrls: [
          { url: receiver.url(modelUrl), header: { Authorization: 'Bearer hook-secret', 'X-Team': 'ml' } },
          { url: receiver.url(slowUrl) },
        ],
      },
      { workspaceName: ws, webhookUrls: [{ url: receiver.url(wideUrl), header: { 'X-Scope': 'workspace' } }] },
    ]);
    expect(saved.statusCode, saved.body).toBe(200);

    // The slow receiver never answers, yet the write returns: delivery is not part of it.
    const added = await get('write/registry-model/item/stage', { modelItemId: item, stage: 'production' });
    expect(added.statusCode, added.body).toBe(200);

    const [atModel] = await receiver.waitFor(modelUrl, 1);
    const [atWide] = await receiver.waitFor(wideUrl, 1);
    expect(atModel?.headers.authorization).toBe('Bearer hook-secret');
    expect(atModel?.headers['x-team']).toBe('ml');
    expect(atModel?.headers['content-type']).toBe('application/json');
    expect(atModel?.headers['x-cairn-event']).toBe('STAGE_ADDED');
    expect(atModel?.headers['x-cairn-delivery']).toMatch(/^[0-9a-f]{32}$/);
    expect(atWide?.headers['x-scope']).toBe('workspace');
    expect(atWide?.headers.authorization).toBeUndefined();
    const payload = atModel?.body;
    expect(Object.keys(payload ?? {}).slice(0, 4)).toEqual(['workspaceName', 'registryModelName', 'version', 'stages']);
    expect(payload).toEqual({
      workspaceName: ws,
      registryModelName: name,
      version: '1.0.0',
      stages: ['production'],
      event: 'STAGE_ADDED',
      stage: 'production',
      registryModelId: expect.stringMatching(/^[0-9a-f]{32}$/),
      registryModelItemId: item,
      userName: 'admin',
      timestamp: expect.any(Number),
    });
    expect(atWide?.body).toEqual(payload);
    await receiver.waitFor(slowUrl, 1);
    receiver.answer(slowUrl, () => 200);
    receiver.release();

    // Removal is an event too, carrying the stages left.
    await get('write/registry-model/item/stage', { modelItemId: item, stage: 'staging' });
    await get('write/registry-model/item/stage/delete', { modelItemId: item, stage: 'production' });
    const atModelAll = await receiver.waitFor(modelUrl, 3);
    const removed = atModelAll.find((r) => r.body.event === 'STAGE_REMOVED');
    expect(removed?.body).toMatchObject({ stage: 'production', stages: ['staging'] });

    // The neighbour model reaches the workspace-wide URL only.
    const beforeModel = receiver.at(modelUrl).length;
    await get('write/registry-model/item/stage', { modelItemId: otherItem, stage: 'qa' });
    const wide = await receiver.waitFor(wideUrl, 4);
    expect(wide.some((r) => r.body.registryModelName === other && r.body.stage === 'qa')).toBe(true);
    expect(receiver.at(modelUrl).length).toBe(beforeModel);

    // The log shows every delivery as delivered on its first attempt.
    const log = await eventually(async () => {
      const rows = (await deliveries(ws)).filter((d) => d.url !== receiver.url(slowUrl));
      // Three stage changes of the model reach two URLs each; the neighbour's reaches one.
      return rows.length === 7 && rows.every((d) => d.status === 'delivered') ? rows : undefined;
    });
    expect(log.every((d) => d.attempts === 1 && d.lastStatus === 200 && d.deliveredAt !== null)).toBe(true);
    expect(log.every((d) => d.nextAttemptAt === null && d.lastError === null)).toBe(true);
    expect(log[0]?.createdAt).toBeGreaterThanOrEqual(log[log.length - 1]?.createdAt ?? 0);
  });

  it('sends one event per URL when the model and the workspace configurations share it', async () => {
    const ws = `shared-${Math.random().toString(36).slice(2, 8)}`;
    await t.request('POST', `${V2}/write/workspace/new`, { body: { name: ws } });
    const name = modelName('shared');
    const item = await registeredModel(name, ws);
    const path = `/shared-${ws}`;
    await setConfig([
      { workspaceName: ws, modelName: name, webhookUrls: [{ url: receiver.url(path), header: { 'X-From': 'model' } }] },
      {
        workspaceName: ws,
        modelName: '',
        webhookUrls: [{ url: receiver.url(path), header: { 'X-From': 'workspace' } }],
      },
    ]);
    await get('write/registry-model/item/stage', { modelItemId: item, stage: 'production' });
    const [only] = await receiver.waitFor(path, 1);
    expect(only?.headers['x-from']).toBe('model');
    await eventually(async () => ((await deliveries(ws)).length === 1 ? true : undefined));
    expect(receiver.at(path)).toHaveLength(1);
  });

  it('honours triggers: version events only for URLs that ask, stage events by default', async () => {
    const name = modelName('triggers');
    const item = await registeredModel(name);
    const [versionsPath, stagesPath] = [`/versions-${name}`, `/stages-${name}`];
    await setConfig([
      {
        workspaceName: 'default',
        modelName: name,
        webhookUrls: [
          { url: receiver.url(versionsPath), triggers: ['MODEL_VERSION_CREATED', 'MODEL_VERSION_DELETED'] },
          { url: receiver.url(stagesPath) },
        ],
      },
    ]);
    const source = await experimentWithModel(t, 'net', { 'w.bin': Buffer.from('w') });
    const second = await register(
      t,
      { experimentModelId: source.experimentModelId, registryModelName: name, version: '2.0.0', stages: ['canary'] },
      { item: true },
    );
    expect(second.statusCode, second.body).toBe(200);
    await get('write/registry-model/item/delete', { modelItemId: item });

    const versionEvents = await receiver.waitFor(versionsPath, 2);
    expect(versionEvents.map((r) => [r.body.event, r.body.version])).toEqual([
      ['MODEL_VERSION_CREATED', '2.0.0'],
      ['MODEL_VERSION_DELETED', '1.0.0'],
    ]);
    const [stageEvent] = await receiver.waitFor(stagesPath, 1);
    expect(stageEvent?.body).toMatchObject({
      event: 'STAGE_ADDED',
      stage: 'canary',
      version: '2.0.0',
      stages: ['canary'],
    });

    // item/update replacing the stages sends one event per stage added or removed.
    await t.request('POST', `${V2}/write/registry-model/item/update`, {
      body: { registryModelItemId: second.json().registryModelItemId, stages: ['production', 'qa'] },
    });
    const stageEvents = await receiver.waitFor(stagesPath, 4);
    expect(
      stageEvents
        .slice(1)
        .map((r) => `${r.body.event}:${r.body.stage}`)
        .sort(),
    ).toEqual(['STAGE_ADDED:production', 'STAGE_ADDED:qa', 'STAGE_REMOVED:canary']);
    expect(receiver.at(versionsPath)).toHaveLength(2);
  });

  it('retries failures with exponential backoff until delivered, and logs the attempts', async () => {
    const name = modelName('retry');
    const item = await registeredModel(name);
    const path = `/flaky-${name}`;
    receiver.answer(path, (attempt) => (attempt <= 2 ? 503 : 200));
    await setConfig([{ workspaceName: 'default', modelName: name, webhookUrls: [{ url: receiver.url(path) }] }]);
    await get('write/registry-model/item/stage', { modelItemId: item, stage: 'production' });

    const attempts = await receiver.waitFor(path, 3);
    const ids = new Set(attempts.map((a) => a.headers['x-cairn-delivery']));
    expect(ids.size).toBe(1);
    const [first, second, third] = attempts.map((a) => a.at);
    // Backoff doubles: ≥ base after the first failure, ≥ 2 × base after the second.
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(BACKOFF_BASE - 10);
    expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(2 * BACKOFF_BASE - 10);

    const row = await eventually(async () => {
      const found = (await deliveries()).find((d) => d.url === receiver.url(path));
      return found?.status === 'delivered' ? found : undefined;
    });
    expect(row).toMatchObject({
      attempts: 3,
      lastStatus: 200,
      lastError: null,
      nextAttemptAt: null,
      event: 'STAGE_ADDED',
    });
    expect(row.payload).toMatchObject({ registryModelName: name, stage: 'production' });
  });

  it('gives up after the last attempt, and records network errors without a status', async () => {
    const name = modelName('failing');
    const item = await registeredModel(name);
    const path = `/down-${name}`;
    receiver.answer(path, () => 500);
    const gone = await closedPortUrl();
    await setConfig([
      { workspaceName: 'default', modelName: name, webhookUrls: [{ url: receiver.url(path) }, { url: gone }] },
    ]);
    await get('write/registry-model/item/stage', { modelItemId: item, stage: 'production' });

    const rows = await eventually(async () => {
      const found = (await deliveries()).filter((d) => d.payload.registryModelName === name);
      return found.length === 2 && found.every((d) => d.status === 'failed') ? found : undefined;
    });
    const http = rows.find((d) => d.url === receiver.url(path));
    expect(http).toMatchObject({
      attempts: MAX_ATTEMPTS,
      lastStatus: 500,
      lastError: 'HTTP 500',
      nextAttemptAt: null,
      deliveredAt: null,
    });
    const network = rows.find((d) => d.url === gone);
    expect(network).toMatchObject({ attempts: MAX_ATTEMPTS, lastStatus: null, nextAttemptAt: null });
    expect(network?.lastError).toMatch(/ECONNREFUSED/);
    expect(receiver.at(path)).toHaveLength(MAX_ATTEMPTS);

    const failed = await deliveries('default', '&status=failed');
    expect(failed.every((d) => d.status === 'failed')).toBe(true);
    expect(failed.some((d) => d.url === gone)).toBe(true);
    expect(await deliveries('default', '&status=delivered&limit=1')).toHaveLength(1);
  });

  it('refuses a receiver on an internal address unless allowed, once, and the log says why', async () => {
    // The same local receiver, with the address rules a server has when CAIRN_WEBHOOK_ALLOW_HOSTS is unset.
    const strict = await createTestContext(backend, {
      webhooks: {
        sender: new HttpWebhookSender({ timeoutMillis: 5_000 }),
        options: { backoffBaseMillis: BACKOFF_BASE, maxAttempts: MAX_ATTEMPTS, pollIntervalMillis: 50 },
      },
    });
    strict.core.webhookDispatcher.start();
    try {
      const source = await experimentWithModel(strict, 'net', { 'w.bin': Buffer.from('w') });
      const name = modelName('internal');
      const created = await register(strict, {
        experimentModelId: source.experimentModelId,
        registryModelName: name,
        version: '1.0.0',
      });
      const path = `/internal-${name}`;
      const spelled = receiver.url(path).replace('127.0.0.1', '[::ffff:127.0.0.1]');
      await strict.request('POST', `${V2}/webhooks/config`, {
        body: {
          webhookConfigs: [
            { workspaceName: 'default', modelName: name, webhookUrls: [{ url: receiver.url(path) }, { url: spelled }] },
          ],
        },
      });
      const item = created.json().registryModelItemId;
      const stage = await strict.request(
        'GET',
        `${V2}/write/registry-model/item/stage?modelItemId=${item}&stage=production`,
      );
      expect(stage.statusCode).toBe(200);
      const rows = await eventually(async () => {
        const response = await strict.request('GET', '/api/cairn/v1/webhooks/deliveries?workspaceName=default');
        const found = (response.json().deliveries as DeliveryRow[]).filter((d) => d.payload.registryModelName === name);
        return found.length === 2 && found.every((d) => d.status === 'failed') ? found : undefined;
      });
      // Refused at the first attempt and not retried: the same rules would refuse it again.
      expect(rows.find((d) => d.url === receiver.url(path))).toMatchObject({
        attempts: 1,
        lastStatus: null,
        nextAttemptAt: null,
        deliveredAt: null,
        lastError: 'refused: 127.0.0.1 is a loopback address (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)',
      });
      expect(rows.find((d) => d.url === spelled)).toMatchObject({
        attempts: 1,
        lastError: 'refused: ::ffff:7f00:1 is a loopback address (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)',
      });
      await new Promise((resolve) => setTimeout(resolve, BACKOFF_BASE * 3));
      expect(receiver.at(path)).toHaveLength(0);
    } finally {
      await strict.close();
    }
  });

  it('shows the delivery log to members and administrators only', async () => {
    const response = await t.request('GET', '/api/cairn/v1/webhooks/deliveries?workspaceName=default', {
      key: t.otherKey,
    });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect((await t.request('GET', '/api/cairn/v1/webhooks/deliveries?workspaceName=bob')).statusCode).toBe(200);
    expect(
      (await t.request('GET', '/api/cairn/v1/webhooks/deliveries?workspaceName=default', { key: t.readOnlyKey }))
        .statusCode,
    ).toBe(200);
    expect(
      (await t.request('GET', '/api/cairn/v1/webhooks/deliveries?workspaceName=default&status=lost')).statusCode,
    ).toBe(400);
    expect((await t.request('GET', '/api/cairn/v1/webhooks/deliveries?workspaceName=nowhere')).statusCode).toBe(404);
  });

  it('leaves deliveries pending while no dispatcher runs, and a dispatcher started later sends them', async () => {
    const idle = await createTestContext(backend);
    try {
      const source = await experimentWithModel(idle, 'net', { 'w.bin': Buffer.from('w') });
      const name = modelName('restart');
      const created = await register(idle, {
        experimentModelId: source.experimentModelId,
        registryModelName: name,
        version: '1.0.0',
      });
      const path = `/later-${name}`;
      await idle.request('POST', `${V2}/webhooks/config`, {
        body: {
          webhookConfigs: [{ workspaceName: 'default', modelName: name, webhookUrls: [{ url: receiver.url(path) }] }],
        },
      });
      const item = created.json().registryModelItemId;
      expect(
        (await idle.request('GET', `${V2}/write/registry-model/item/stage?modelItemId=${item}&stage=production`))
          .statusCode,
      ).toBe(200);

      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(receiver.at(path)).toHaveLength(0);
      const pending = (await idle.core.webhooks.listDeliveries(await principal(idle), 'default', {}))[0];
      expect(pending).toMatchObject({ status: 'pending', attempts: 0 });

      // A second core over the same store (a restarted server) finds the delivery in the log.
      const restarted = createCore({
        store: idle.store,
        blobs: new FileBlobStore(join(tmpdir(), 'unused-blobs')),
        limits: { maxAssetBytes: 1 },
        webhooks: { sender: localSender(5_000), options: { pollIntervalMillis: 50 } },
      });
      restarted.webhookDispatcher.start();
      try {
        const [delivered] = await receiver.waitFor(path, 1);
        expect(delivered?.body).toMatchObject({ registryModelName: name, stage: 'production' });
        await eventually(async () => {
          const row = await idle.store.webhooks.getDelivery(pending?.id ?? '');
          return row?.status === 'delivered' ? row : undefined;
        });
      } finally {
        await restarted.webhookDispatcher.stop();
      }
    } finally {
      await idle.close();
    }
  });

  it('hands a delivery in flight back, uncounted, when the dispatcher stops', async () => {
    const own = await createTestContext(backend, {
      webhooks: { sender: localSender(30_000), options: { pollIntervalMillis: 50 } },
    });
    own.core.webhookDispatcher.start();
    try {
      const source = await experimentWithModel(own, 'net', { 'w.bin': Buffer.from('w') });
      const name = modelName('stop');
      const created = await register(own, {
        experimentModelId: source.experimentModelId,
        registryModelName: name,
        version: '1.0.0',
      });
      const path = `/hang-${name}`;
      receiver.answer(path, () => 'hang');
      await own.request('POST', `${V2}/webhooks/config`, {
        body: {
          webhookConfigs: [{ workspaceName: 'default', modelName: name, webhookUrls: [{ url: receiver.url(path) }] }],
        },
      });
      const item = created.json().registryModelItemId;
      await own.request('GET', `${V2}/write/registry-model/item/stage?modelItemId=${item}&stage=production`);
      await receiver.waitFor(path, 1);
      const before = Date.now();
      await own.core.webhookDispatcher.stop();
      const [row] = await own.core.webhooks.listDeliveries(await principal(own), 'default', {});
      expect(row).toMatchObject({ status: 'pending', attempts: 0, lastStatus: null });
      expect(row?.nextAttemptAt).toBeLessThanOrEqual(Date.now());
      expect(row?.nextAttemptAt).toBeGreaterThanOrEqual(before - 1000);
    } finally {
      receiver.release();
      await own.close();
    }
  });
});

async function principal(t: TestContext) {
  return t.core.auth.authenticate(ADMIN_KEY);
}

describe('webhooks through the composition root (sqlite)', () => {
  let dataDir: string;
  let receiver: Receiver;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cairn-webhooks-'));
    receiver = await Receiver.start();
  });
  afterAll(async () => {
    await receiver?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const start = () =>
    startServer(
      loadConfig({
        CAIRN_DATA_DIR: dataDir,
        CAIRN_PORT: '0',
        CAIRN_LOG_LEVEL: 'silent',
        CAIRN_ADMIN_API_KEY: ADMIN_KEY,
        CAIRN_SQLITE_SYNCHRONOUS: 'normal',
        CAIRN_WEBHOOK_BACKOFF_BASE_MS: '100',
        CAIRN_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      }),
    );

  it('starts the dispatcher with the server, and a restarted server sends what the stopped one left', async () => {
    const path = '/root';
    receiver.answer(path, (attempt) => (attempt === 1 ? 'hang' : 200));
    let server: RunningServer | undefined = await start();
    try {
      const inject = (method: 'GET' | 'POST', url: string, body?: unknown) =>
        (server as RunningServer).app.inject({
          method,
          url,
          headers: { authorization: ADMIN_KEY },
          ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
        });
      const create = await inject('POST', `${V2}/write/experiment/create`, {
        workspaceName: 'default',
        projectName: 'p',
      });
      const experimentKey = create.json().experimentKey;
      const form = new FormData();
      form.append('file', new Blob([Buffer.from('weights')]), 'file');
      const multipart = new Response(form);
      const upload = await server.app.inject({
        method: 'POST',
        url: `${V2}/write/experiment/upload-asset?experimentKey=${experimentKey}&fileName=w.bin&type=model-element&groupingName=net`,
        headers: { authorization: ADMIN_KEY, 'content-type': multipart.headers.get('content-type') ?? '' },
        payload: Buffer.from(await multipart.arrayBuffer()),
      });
      expect(upload.statusCode, upload.body).toBe(200);
      const model = (await inject('GET', `${V2}/experiment/model?experimentKey=${experimentKey}`)).json().models[0];
      const created = await inject('POST', `${V2}/write/registry-model`, {
        experimentModelId: model.experimentModelId,
        registryModelName: 'root-model',
        version: '1.0.0',
      });
      expect(created.statusCode, created.body).toBe(200);
      await inject('POST', `${V2}/webhooks/config`, {
        webhookConfigs: [
          { workspaceName: 'default', modelName: 'root-model', webhookUrls: [{ url: receiver.url(path) }] },
        ],
      });
      const item = created.json().registryModelItemId;
      expect(
        (await inject('GET', `${V2}/write/registry-model/item/stage?modelItemId=${item}&stage=production`)).statusCode,
      ).toBe(200);

      // The running server's dispatcher sent it; the receiver holds the request while it stops.
      await receiver.waitFor(path, 1);
      await server.stop();
      server = undefined;

      server = await start();
      const [, resent] = await receiver.waitFor(path, 2);
      expect(resent?.body).toMatchObject({
        registryModelName: 'root-model',
        stage: 'production',
        event: 'STAGE_ADDED',
      });
      const log = await eventually(async () => {
        const response = await (server as RunningServer).app.inject({
          method: 'GET',
          url: '/api/cairn/v1/webhooks/deliveries?workspaceName=default',
          headers: { authorization: ADMIN_KEY },
        });
        const [row] = response.json().deliveries as DeliveryRow[];
        return row?.status === 'delivered' ? row : undefined;
      });
      // The stopped attempt was handed back uncounted: one counted attempt, the one that worked.
      expect(log).toMatchObject({ attempts: 1, lastStatus: 200 });
    } finally {
      receiver.release();
      await server?.stop();
    }
  });
});
