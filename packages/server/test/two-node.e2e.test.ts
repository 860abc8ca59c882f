import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SeaweedFs, startSeaweedFs } from './support/seaweedfs.js';
import { SseClient } from './support/sse-client.js';
import { backends, POSTGRES_URL } from './support/test-context.js';

/**
 * Two real `cairn server` processes (the built CLI: `npx tsc -b`) on one PostgreSQL schema and one
 * S3 bucket, driven over loopback HTTP: nothing may be correct only because it sits in one
 * process's memory. Node A and node B stand for the nodes behind a load balancer.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'packages/cli/bin/cairn.js');
const ADMIN_KEY = 'TwoNodeAdminKey0000000000000000000000000';
const V2 = '/api/rest/v2';
const API = '/api/cairn/v1';

/**
 * The blob store both nodes share: a bucket of a real S3 server (SeaweedFS), as in the
 * topology of docs/operations/scale-out.md; the nodes get its address and credentials through
 * the standard AWS variables, as a deployment would.
 */
async function sharedBlobStore(s3: SeaweedFs): Promise<{ url: string; env: Record<string, string> }> {
  return { url: `s3://${await s3.createBucket()}/two-node`, env: s3.awsEnv() };
}

interface Node {
  name: string;
  child: ChildProcess;
  base: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

const running = new Set<Node>();

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

describe.runIf(backends.includes('postgres'))('two Cairn nodes on one PostgreSQL and one blob store', () => {
  const schema = `t_${Math.random().toString(36).slice(2, 12)}`;
  const databaseUrl = `${POSTGRES_URL}?schema=${schema}`;
  let dir: string;
  let s3: SeaweedFs | undefined;
  let blobs: { url: string; env: Record<string, string> };
  let admin: pg.Client;
  let a: Node;
  let b: Node;

  async function startNode(name: string): Promise<Node> {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('CAIRN_')) env[key] = value;
    const child = spawn(process.execPath, [BIN, 'server'], {
      cwd: ROOT,
      env: {
        ...env,
        CAIRN_PORT: String(port),
        CAIRN_DATA_DIR: join(dir, name),
        CAIRN_DATABASE_URL: databaseUrl,
        ...blobs.env,
        CAIRN_BLOB_URL: blobs.url,
        CAIRN_ADMIN_API_KEY: ADMIN_KEY,
        CAIRN_LOG_LEVEL: 'warn',
        CAIRN_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once('exit', (code, signal) => done({ code, signal })),
    );
    const node: Node = { name, child, base: `http://127.0.0.1:${port}`, exited, output: () => output };
    running.add(node);
    void exited.then(() => running.delete(node));
    let dead = false;
    void exited.then(() => {
      dead = true;
    });
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && !dead) {
      try {
        const health = await fetch(`${node.base}/healthz`, { signal: AbortSignal.timeout(2_000) });
        if (health.status === 200) return node;
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    child.kill('SIGKILL');
    throw new Error(`node ${name} did not become healthy:\n${output}`);
  }

  async function call(
    node: Node,
    method: string,
    path: string,
    options: { body?: unknown; form?: FormData; key?: string; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { authorization: options.key ?? ADMIN_KEY, ...options.headers };
    let body: string | FormData | null = null;
    if (options.form) body = options.form;
    else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    return fetch(`${node.base}${path}`, { method, headers, body, signal: AbortSignal.timeout(15_000) });
  }

  async function json<T>(response: Promise<Response>, status = 200): Promise<T> {
    const answer = await response;
    const text = await answer.text();
    if (answer.status !== status) throw new Error(`HTTP ${answer.status} (wanted ${status}): ${text}`);
    return JSON.parse(text) as T;
  }

  async function createExperiment(node: Node, projectName: string): Promise<string> {
    const body = { workspaceName: 'default', projectName, experimentName: projectName };
    return (await json<{ experimentKey: string }>(call(node, 'POST', `${V2}/write/experiment/create`, { body })))
      .experimentKey;
  }

  interface SeriesRead {
    total: number;
    offsets: number[];
    steps: (number | null)[];
    values: (number | string)[];
  }

  function readSeries(node: Node, key: string, name: string): Promise<SeriesRead> {
    return json<SeriesRead>(call(node, 'GET', `${API}/experiments/${key}/metrics/${name}?limit=1000000`));
  }

  /** A batch's points: steps `writer·10⁶ + batch·10³ + i`, values a function of the step. */
  function batch(writer: number, index: number, size: number) {
    const steps = Array.from({ length: size }, (_, i) => writer * 1_000_000 + index * 1_000 + i);
    return {
      steps,
      body: {
        series: [
          { name: 'loss', steps, values: steps.map((s) => s / 2) },
          { name: 'acc', steps, values: steps.map((s) => s + 0.25) },
        ],
      },
    };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-two-node-'));
    s3 = await startSeaweedFs();
    blobs = await sharedBlobStore(s3);
    admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    // Generous: SeaweedFS's venv may first be created from PyPI.
  }, 600_000);

  afterAll(async () => {
    // A failed test must not leave a server running.
    for (const node of running) {
      node.child.kill('SIGKILL');
      await node.exited;
    }
    await admin?.query(`drop schema if exists ${schema} cascade`);
    await admin?.end();
    await s3?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('starts both nodes at once on an empty database: both come up, with exactly one admin', async () => {
    [a, b] = await Promise.all([startNode('a'), startNode('b')]);
    const users = await admin.query(`select name from ${schema}.users`);
    expect(users.rows).toEqual([{ name: 'admin' }]);
    const workspaces = await admin.query(`select name from ${schema}.workspaces`);
    expect(workspaces.rows).toEqual([{ name: 'default' }]);
    for (const node of [a, b]) {
      const me = await call(node, 'GET', `${V2}/workspaces`);
      expect(me.status, node.output()).toBe(200);
    }
    // Node start (migrations from nothing, twice at once) is slow on a loaded machine.
  }, 120_000);

  it('reads back exactly, through both nodes, what concurrent writers sent through both', async () => {
    const key = await createExperiment(a, 'concurrent');
    const writers = 4;
    const batches = 8;
    const size = 250;
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        const node = writer % 2 === 0 ? a : b;
        for (let index = 0; index < batches; index++) {
          const { body } = batch(writer, index, size);
          const reply = await json<{ points: number; duplicate: boolean }>(
            call(node, 'POST', `${API}/experiments/${key}/metrics`, { body }),
          );
          expect(reply).toEqual({ points: 2 * size, duplicate: false });
        }
      }),
    );
    const expected = writers * batches * size;
    for (const name of ['loss', 'acc']) {
      const [viaA, viaB] = await Promise.all([readSeries(a, key, name), readSeries(b, key, name)]);
      expect(viaB).toEqual(viaA);
      expect(viaA.total).toBe(expected);
      expect(viaA.steps).toHaveLength(expected);
      expect(new Set(viaA.steps).size).toBe(expected);
      for (let i = 1; i < viaA.offsets.length; i++) {
        expect(viaA.offsets[i] as number).toBeGreaterThan(viaA.offsets[i - 1] as number);
      }
      viaA.steps.forEach((step, i) => {
        expect(viaA.values[i]).toBe(name === 'loss' ? (step as number) / 2 : (step as number) + 0.25);
      });
      // Each writer's points in the order it wrote them.
      for (let writer = 0; writer < writers; writer++) {
        const own = viaA.steps.filter((s) => Math.floor((s as number) / 1_000_000) === writer);
        expect(own).toEqual([...own].sort((x, y) => (x as number) - (y as number)));
        expect(own).toHaveLength(batches * size);
      }
    }
  });

  it('streams on node B the points written through node A', async () => {
    const key = await createExperiment(a, 'live');
    const stream = await SseClient.open(`${b.base}${API}/experiments/${key}/events`, {
      authorization: `Bearer ${ADMIN_KEY}`,
    });
    try {
      expect(stream.response.status).toBe(200);
      const { steps, body } = batch(0, 1, 50);
      await json(call(a, 'POST', `${API}/experiments/${key}/metrics`, { body }));
      await stream.until(() => stream.of('points').length >= 1, 10_000, 'the points written through A');
      const event = stream.of('points')[0]?.data as {
        experiment: string;
        truncated: boolean;
        series: { name: string; steps: number[]; values: number[] }[];
      };
      expect(event.experiment).toBe(key);
      expect(event.truncated).toBe(false);
      const loss = event.series.find((s) => s.name === 'loss');
      expect(loss?.steps).toEqual(steps);
      expect(loss?.values).toEqual(steps.map((s) => s / 2));
    } finally {
      stream.close();
    }
  });

  it('downloads through node B, with a Range, an asset uploaded through node A', async () => {
    const key = await createExperiment(a, 'assets');
    const bytes = randomBytes(200_000);
    const form = new FormData();
    form.append('fileName', 'weights.bin');
    form.append('file', new Blob([bytes]), 'weights.bin');
    const asset = await json<{ id: string }>(call(a, 'POST', `${API}/experiments/${key}/assets`, { form }), 201);
    const whole = await call(b, 'GET', `${API}/experiments/${key}/assets/${asset.id}`);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await call(b, 'GET', `${API}/experiments/${key}/assets/${asset.id}`, {
      headers: { range: 'bytes=100000-100999' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100000-100999/${bytes.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100_000, 101_000))).toBe(true);
  });

  /** Milliseconds from now until `status()` answers 401 (polled; 200 until then), at most 3 s. */
  async function refusedAfter(status: () => Promise<number>): Promise<number | undefined> {
    const since = performance.now();
    while (performance.now() - since < 3_000) {
      const answer = await status();
      if (answer === 401) return performance.now() - since;
      expect(answer).toBe(200);
      await sleep(20);
    }
    return undefined;
  }

  it('refuses on node B, within 1 s, a key revoked and a session ended through node A', async () => {
    const created = await json<{ key: { id: string }; secret: string }>(
      call(a, 'POST', `${API}/me/api-keys`, { body: { name: 'soon revoked', scopes: ['read'] } }),
      201,
    );
    const withKey = async () => (await call(b, 'GET', `${V2}/workspaces`, { key: created.secret })).status;
    // B resolves the key and caches its principal.
    for (let i = 0; i < 3; i++) expect(await withKey()).toBe(200);
    expect((await call(a, 'DELETE', `${API}/me/api-keys/${created.key.id}`)).status).toBe(204);
    const keyRefused = await refusedAfter(withKey);
    expect(keyRefused, 'B still accepted the key 3 s after A revoked it').toBeDefined();
    expect(keyRefused).toBeLessThanOrEqual(1_000);

    // A browser session opened and ended through A.
    const opened = await fetch(`${a.base}${API}/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: ADMIN_KEY }),
    });
    expect(opened.status).toBe(201);
    const { csrfToken } = (await opened.json()) as { csrfToken: string };
    const cookie = (opened.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(cookie).toMatch(/^cairn_session=/);
    const withSession = async () =>
      (await fetch(`${b.base}${API}/me/api-keys`, { headers: { cookie }, signal: AbortSignal.timeout(15_000) })).status;
    for (let i = 0; i < 3; i++) expect(await withSession()).toBe(200);
    const out = await fetch(`${a.base}${API}/sessions/current`, {
      method: 'DELETE',
      headers: { cookie, 'x-csrf-token': csrfToken },
    });
    expect(out.status).toBe(204);
    const sessionRefused = await refusedAfter(withSession);
    expect(sessionRefused, 'B still accepted the session 3 s after it ended through A').toBeDefined();
    expect(sessionRefused).toBeLessThanOrEqual(1_000);
  });

  it('delivers webhooks to one URL in order, one at a time, with a dispatcher on each node', async () => {
    const arrivals: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    // A slow receiver: a delivery sent while another is in flight would overtake it.
    const receiver: HttpServer = createHttpServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        arrivals.push((JSON.parse(body) as { stage: string }).stage);
        setTimeout(() => {
          inFlight--;
          response.writeHead(200).end();
        }, 150);
      });
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    try {
      const address = receiver.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
      const key = await createExperiment(a, 'webhooks');
      const form = new FormData();
      form.append('file', new Blob([Buffer.from('weights')]), 'file');
      const query = new URLSearchParams({
        experimentKey: key,
        fileName: 'w.bin',
        type: 'model-element',
        groupingName: 'net',
      });
      await json(call(a, 'POST', `${V2}/write/experiment/upload-asset?${query}`, { form }));
      const models = await json<{ models: { modelName: string; experimentModelId: string }[] }>(
        call(b, 'GET', `${V2}/experiment/model?experimentKey=${key}`),
      );
      const experimentModelId = models.models.find((m) => m.modelName === 'net')?.experimentModelId;
      const registered = await json<{ registryModelItemId: string }>(
        call(a, 'POST', `${V2}/write/registry-model`, {
          body: { experimentModelId, registryModelName: 'two-node-model', version: '1.0.0' },
        }),
      );
      await json(
        call(b, 'POST', `${V2}/webhooks/config`, {
          body: {
            webhookConfigs: [{ workspaceName: 'default', modelName: 'two-node-model', webhookUrls: [{ url }] }],
          },
        }),
      );
      const stages = Array.from({ length: 8 }, (_, i) => `stage-${i}`);
      for (const [i, stage] of stages.entries()) {
        const item = registered.registryModelItemId;
        // Alternate nodes: each records its delivery and wakes its own dispatcher.
        await json(
          call(i % 2 === 0 ? a : b, 'GET', `${V2}/write/registry-model/item/stage?modelItemId=${item}&stage=${stage}`),
        );
      }
      const deadline = Date.now() + 20_000;
      while (arrivals.length < stages.length && Date.now() < deadline) await sleep(50);
      expect(arrivals).toEqual(stages);
      expect(maxInFlight).toBe(1);
    } finally {
      await new Promise<void>((done) => receiver.close(() => done()));
    }
  });

  it('loses no acknowledged batch when node A is killed mid-stream (read through node B)', async () => {
    const key = await createExperiment(a, 'sigkill');
    const size = 200;
    const writers = 3;
    const acknowledged: { writer: number; index: number }[] = [];
    const sent: { writer: number; index: number }[] = [];
    const writing = Array.from({ length: writers }, async (_, writer) => {
      // Bounded; in practice each writer stops at its first failed request, once A is gone.
      for (let index = 0; index < 1_000; index++) {
        const { body } = batch(writer, index, size);
        sent.push({ writer, index });
        try {
          const reply = await call(a, 'POST', `${API}/experiments/${key}/metrics`, {
            body,
            headers: { 'idempotency-key': `w${writer}:b${index}` },
          });
          if (reply.status >= 200 && reply.status < 300) acknowledged.push({ writer, index });
          await reply.text();
        } catch {
          return; // A is gone.
        }
      }
    });
    // Kill once a few batches went through, while the writers are still sending.
    while (acknowledged.length < 9) await sleep(5);
    a.child.kill('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    await Promise.all(writing);
    expect(acknowledged.length).toBeGreaterThanOrEqual(9);

    const loss = await readSeries(b, key, 'loss');
    const stored = new Map<string, number>();
    for (const step of loss.steps) {
      const s = step as number;
      const id = `${Math.floor(s / 1_000_000)}:${Math.floor((s % 1_000_000) / 1_000)}`;
      stored.set(id, (stored.get(id) ?? 0) + 1);
    }
    // Every acknowledged batch whole and once; any other batch whole or absent.
    for (const { writer, index } of acknowledged) expect(stored.get(`${writer}:${index}`)).toBe(size);
    for (const { writer, index } of sent) expect([undefined, size]).toContain(stored.get(`${writer}:${index}`));
    expect(stored.size).toBeLessThanOrEqual(sent.length);
    expect(new Set(loss.steps).size).toBe(loss.steps.length);
    // A retry of an acknowledged batch through B stores nothing again.
    const first = acknowledged[0] as { writer: number; index: number };
    const retried = await json<{ duplicate: boolean }>(
      call(b, 'POST', `${API}/experiments/${key}/metrics`, {
        body: batch(first.writer, first.index, size).body,
        headers: { 'idempotency-key': `w${first.writer}:b${first.index}` },
      }),
    );
    expect(retried.duplicate).toBe(true);
    expect((await readSeries(b, key, 'loss')).total).toBe(loss.total);
  });
});
