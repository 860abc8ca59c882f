import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/**
 * The server as `npm start` runs it (`node packages/cli/bin/cairn.js server`, built by `npx tsc
 * -b`), driven over real HTTP: acknowledged writes must survive SIGKILL, and SIGTERM must drain.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const BIN = join(ROOT, 'packages/cli/bin/cairn.js');
const ADMIN_KEY = 'E2eAdminKey00000000000000000000000000000';
const V2 = '/api/rest/v2';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Server {
  child: ChildProcess;
  port: number;
  base: string;
  exited: Promise<Exit>;
  /** Everything the process printed, for failure messages. */
  output(): string;
}

const running = new Set<Server>();

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

async function startServer(dataDir: string, extraEnv: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('CAIRN_')) env[name] = value;
  const child = spawn(process.execPath, [BIN, 'server'], {
    cwd: ROOT,
    env: {
      ...env,
      CAIRN_PORT: String(port),
      CAIRN_DATA_DIR: dataDir,
      CAIRN_ADMIN_API_KEY: ADMIN_KEY,
      CAIRN_LOG_LEVEL: 'warn',
      ...extraEnv,
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
  const exited = new Promise<Exit>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const server: Server = { child, port, base: `http://127.0.0.1:${port}`, exited, output: () => output };
  running.add(server);
  void exited.then(() => running.delete(server));

  const deadline = Date.now() + 30_000;
  let dead = false;
  void exited.then(() => {
    dead = true;
  });
  while (Date.now() < deadline && !dead) {
    try {
      const health = await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (health.status === 200) return server;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`the server did not become healthy:\n${output}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function api(server: Server, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.base}${V2}${path}`, {
    method,
    headers: { authorization: ADMIN_KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
}

async function ok<T>(response: Promise<Response>): Promise<T> {
  const answer = await response;
  const text = await answer.text();
  if (answer.status !== 200) throw new Error(`HTTP ${answer.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function createExperiment(server: Server, projectName: string): Promise<string> {
  const created = await ok<{ experimentKey: string }>(
    api(server, 'POST', '/write/experiment/create', {
      workspaceName: 'default',
      projectName,
      experimentName: 'crash-test',
    }),
  );
  expect(created.experimentKey).toMatch(/^[0-9a-zA-Z]{32,50}$/);
  return created.experimentKey;
}

interface MetricRow {
  metricValue: number | string;
  step: number | null;
}

async function readMetric(server: Server, experimentKey: string, metricName: string): Promise<MetricRow[]> {
  const query = new URLSearchParams({ experimentKey, metricName });
  return (await ok<{ metrics: MetricRow[] }>(api(server, 'GET', `/experiment/metrics/get-metric?${query}`))).metrics;
}

async function readParameters(server: Server, experimentKey: string): Promise<Map<string, string>> {
  const query = new URLSearchParams({ experimentKey });
  const { values } = await ok<{ values: { name: string; valueCurrent: string }[] }>(
    api(server, 'GET', `/experiment/parameters?${query}`),
  );
  return new Map(values.map((v) => [v.name, String(v.valueCurrent)]));
}

function logMetric(server: Server, experimentKey: string, metricName: string, value: number, step: number) {
  return api(server, 'POST', '/write/experiment/metric', {
    experimentKey,
    metricName,
    metricValue: value,
    step,
  });
}

describe('server process end to end', { timeout: 90_000 }, () => {
  let dir: string;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'packages/cli/dist/main.js'))) {
      throw new Error('the CLI is not built: run `npx tsc -b` first');
    }
    dir = await mkdtemp(join(tmpdir(), 'cairn-e2e-'));
  });
  afterEach(async () => {
    // A failed test must not leave a server running.
    for (const server of running) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write exactly once across SIGKILL under concurrent writers', async () => {
    const dataDir = join(dir, 'crash');
    const first = await startServer(dataDir);
    const experimentKey = await createExperiment(first, 'crash');
    await ok(
      api(first, 'POST', '/write/experiment/parameter', { experimentKey, parameterName: 'lr', parameterValue: 0.001 }),
    );
    await ok(
      api(first, 'POST', '/write/experiment/parameter', {
        experimentKey,
        parameterName: 'optimizer',
        parameterValue: 'adam',
      }),
    );

    // Each writer logs distinct values (writer × 1e6 + i) so every point can be told apart; two
    // metrics so several series are written at once.
    const writers = 6;
    const attempted = new Map<string, Set<number>>([
      ['loss', new Set()],
      ['acc', new Set()],
    ]);
    const acknowledged = new Map<string, number[]>([
      ['loss', []],
      ['acc', []],
    ]);
    const failuresBeforeKill: string[] = [];
    let killed = false;
    let acks = 0;
    const writer = async (w: number) => {
      const metric = w % 2 === 0 ? 'loss' : 'acc';
      for (let i = 0; ; i++) {
        const value = w * 1_000_000 + i;
        attempted.get(metric)?.add(value);
        let response: Response;
        try {
          response = await logMetric(first, experimentKey, metric, value, i);
          await response.text();
        } catch (error) {
          if (!killed) failuresBeforeKill.push(String(error));
          return;
        }
        if (response.status === 200) {
          acknowledged.get(metric)?.push(value);
          acks++;
        } else if (!killed) {
          failuresBeforeKill.push(`HTTP ${response.status}`);
        }
      }
    };
    const running = Array.from({ length: writers }, (_, w) => writer(w));

    const deadline = Date.now() + 20_000;
    while (acks < 300 && Date.now() < deadline && failuresBeforeKill.length === 0) await sleep(10);
    killed = true;
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await Promise.all(running);
    expect(failuresBeforeKill).toEqual([]);
    expect(acks).toBeGreaterThanOrEqual(300);

    const second = await startServer(dataDir);
    for (const [metric, acked] of acknowledged) {
      const rows = await readMetric(second, experimentKey, metric);
      const values = rows.map((row) => Number(row.metricValue));
      // None duplicated, none invented.
      expect(new Set(values).size).toBe(values.length);
      const tried = attempted.get(metric) as Set<number>;
      expect(values.filter((v) => !tried.has(v))).toEqual([]);
      // Every acknowledged one is there (unacknowledged ones may be, if they committed).
      const stored = new Set(values);
      expect(acked.filter((v) => !stored.has(v))).toEqual([]);
      expect(rows.every((row) => row.step === Number(row.metricValue) % 1_000_000)).toBe(true);
      // Each writer's points are in the order it sent them.
      for (let w = 0; w < writers; w++) {
        const mine = values.filter((v) => Math.floor(v / 1_000_000) === w);
        expect(mine).toEqual([...mine].sort((a, b) => a - b));
      }
    }
    const parameters = await readParameters(second, experimentKey);
    expect(parameters.get('lr')).toBe('0.001');
    expect(parameters.get('optimizer')).toBe('adam');

    // The restarted server takes writes again, after the recovered ones.
    await ok(logMetric(second, experimentKey, 'loss', 42, 1_000_000));
    const after = await readMetric(second, experimentKey, 'loss');
    expect(after.at(-1)).toMatchObject({ metricValue: 42, step: 1_000_000 });

    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });

  it('keeps every acknowledged bulk batch exactly once across SIGKILL under heavy multi-writer ingest', async () => {
    const dataDir = join(dir, 'bulk-crash');
    const first = await startServer(dataDir);
    const experimentKey = await createExperiment(first, 'bulk-crash');
    const bulk = (server: Server, body: unknown) =>
      fetch(`${server.base}/api/cairn/v1/experiments/${experimentKey}/metrics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });

    // Each batch carries 3 series × 700 points whose values encode (writer, batch, index), so a
    // lost, torn or replayed batch shows up as missing or repeated values.
    const series = ['s0', 's1', 's2'];
    const perBatch = 700;
    const writers = 4;
    const acked: number[][] = [];
    const failuresBeforeKill: string[] = [];
    let killed = false;
    const writer = async (w: number) => {
      for (let b = 0; ; b++) {
        const base = (w * 10_000 + b) * 1_000;
        const steps = Array.from({ length: perBatch }, (_, i) => b * perBatch + i);
        const values = steps.map((_, i) => base + i);
        try {
          const response = await bulk(first, { series: series.map((name) => ({ name, steps, values })) });
          await response.text();
          if (response.status === 200) acked.push([w, b]);
          else if (!killed) failuresBeforeKill.push(`HTTP ${response.status}`);
        } catch (error) {
          if (!killed) failuresBeforeKill.push(String(error));
          return;
        }
      }
    };
    const runningWriters = Array.from({ length: writers }, (_, w) => writer(w));
    const deadline = Date.now() + 30_000;
    while (acked.length < 40 && Date.now() < deadline && failuresBeforeKill.length === 0) await sleep(5);
    killed = true;
    first.child.kill('SIGKILL');
    await first.exited;
    await Promise.all(runningWriters);
    expect(failuresBeforeKill).toEqual([]);
    expect(acked.length).toBeGreaterThanOrEqual(40);

    const second = await startServer(dataDir);
    for (const name of series) {
      const response = await fetch(`${second.base}/api/cairn/v1/experiments/${experimentKey}/metrics/${name}`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      const { values, total } = (await response.json()) as { values: number[]; total: number };
      expect(values).toHaveLength(total);
      expect(new Set(values).size).toBe(values.length);
      // Batches are atomic: every stored batch is whole.
      const perBatchCount = new Map<number, number>();
      for (const v of values)
        perBatchCount.set(Math.floor(v / 1_000), (perBatchCount.get(Math.floor(v / 1_000)) ?? 0) + 1);
      expect([...perBatchCount.values()].every((n) => n === perBatch)).toBe(true);
      for (const [w, b] of acked)
        expect(perBatchCount.get(w * 10_000 + b), `batch ${w}/${b} of ${name}`).toBe(perBatch);
    }
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });

  it('shows no asset killed mid-upload anywhere, and sweeps its temp file at the next start', async () => {
    const dataDir = join(dir, 'upload-kill');
    const blobDir = join(dataDir, 'blobs');
    // A short grace so the restart's sweep may take the dead upload's file.
    const sweep = { CAIRN_BLOB_SWEEP_GRACE_SECONDS: '1' };
    const first = await startServer(dataDir, sweep);
    const experimentKey = await createExperiment(first, 'upload-kill');
    const partials = async () =>
      (await readdir(blobDir, { recursive: true }).catch(() => [] as string[])).filter((f) => f.endsWith('.partial'));

    // A slow streamed upload: the headers and the first 256 KiB of the file, then nothing more.
    const boundary = 'cairnkill';
    const upload = httpRequest(`${first.base}/api/cairn/v1/experiments/${experimentKey}/assets`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'transfer-encoding': 'chunked',
      },
    });
    const answered = new Promise<string>((done) => {
      upload.on('response', (response) => done(`HTTP ${response.statusCode}`));
      upload.on('error', (error) => done(error.message));
    });
    upload.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="weights.bin"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
    upload.write(randomBytes(256 * 1024));
    const deadline = Date.now() + 10_000;
    while ((await partials()).length === 0 && Date.now() < deadline) await sleep(20);
    expect(await partials(), 'the upload is being written').toHaveLength(1);

    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(await answered).not.toMatch(/^HTTP 2/);
    await sleep(1_200);

    const second = await startServer(dataDir, sweep);
    // The sweep runs at start, beside the first requests. Its deadline counts from the restart:
    // on a loaded machine the restart alone can take longer than the whole old budget.
    const sweptBy = Date.now() + 10_000;
    while ((await partials()).length > 0 && Date.now() < sweptBy) await sleep(50);
    expect(await partials(), 'the dead upload is swept').toEqual([]);
    const cairn = await fetch(`${second.base}/api/cairn/v1/experiments/${experimentKey}/assets`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect((await cairn.json()).items).toEqual([]);
    const comet = await ok<{ assets: unknown[] }>(
      api(second, 'GET', `/experiment/asset/list?experimentKey=${experimentKey}`),
    );
    expect(comet.assets).toEqual([]);
    const mlflow = await fetch(`${second.base}/api/2.0/mlflow/artifacts/list?run_id=${experimentKey}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    expect(mlflow.status).toBe(200);
    expect((await mlflow.json()).files ?? []).toEqual([]);
    const files = await readdir(blobDir, { recursive: true, withFileTypes: true }).catch(() => []);
    expect(files.filter((entry) => entry.isFile())).toEqual([]);

    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  it('on SIGTERM stops accepting, completes in-flight requests, and exits 0', async () => {
    const dataDir = join(dir, 'term');
    const server = await startServer(dataDir);
    const experimentKey = await createExperiment(server, 'term');

    // Requests whose bodies are still arriving when the signal comes: in flight by any measure.
    // Sent through a keep-alive agent, as SDKs do.
    const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
    const inFlight = [1, 2, 3].map((i) => {
      const body = JSON.stringify({ experimentKey, metricName: 'drain', metricValue: i, step: i });
      const cut = Math.floor(body.length / 2);
      let resolveResponse: (value: { status: number; body: string }) => void = () => {};
      let rejectResponse: (error: Error) => void = () => {};
      const response = new Promise<{ status: number; body: string }>((done, fail) => {
        resolveResponse = done;
        rejectResponse = fail;
      });
      const request = httpRequest(
        `${server.base}${V2}/write/experiment/metric`,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: ADMIN_KEY,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on('end', () => resolveResponse({ status: res.statusCode ?? 0, body: text }));
          res.on('error', rejectResponse);
        },
      );
      request.on('error', rejectResponse);
      request.write(body.slice(0, cut));
      return { finish: () => request.end(body.slice(cut)), response };
    });
    // Let the server read the headers and the first half of every body.
    await sleep(1_000);

    server.child.kill('SIGTERM');
    await sleep(500);
    // No new connections once the signal has been handled...
    const refused = await new Promise<string>((done) => {
      const socket = connect(server.port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        done('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    // ...while the process waits for the requests it already has.
    expect(server.child.exitCode).toBeNull();

    for (const request of inFlight) request.finish();
    const responses = await Promise.all(inFlight.map((r) => r.response));
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({ code: 200, msg: 'Saved' });
    }
    // Promptly: the client keeps its connections alive (Node's agent does), and shutdown must not
    // wait for it to hang up.
    const answered = Date.now();
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - answered).toBeLessThan(3_000);

    // What they wrote was committed before the process exited.
    const restarted = await startServer(dataDir);
    const rows = await readMetric(restarted, experimentKey, 'drain');
    expect(rows.map((row) => Number(row.metricValue)).sort()).toEqual([1, 2, 3]);
    agent.destroy();
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toEqual({ code: 0, signal: null });
  });

  it('stores every comet_ml batch once when the client resends them all after a SIGKILL', async () => {
    const dataDir = join(dir, 'clientlib-replay');
    const first = await startServer(dataDir);
    const experimentKey = randomBytes(16).toString('hex');
    const handshake = await fetch(`${first.base}/clientlib/logger/add/run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: ADMIN_KEY, experimentKey, projectName: 'clientlib-replay', teamName: 'default' }),
    });
    expect(handshake.status).toBe(200);

    // Batch b holds 100 points valued b × 1000 + i, gzipped as comet_ml sends them.
    const batch = (b: number) =>
      gzipSync(
        JSON.stringify({
          experimentKey,
          values: Array.from({ length: 100 }, (_, i) => ({
            metricName: 'loss',
            metricValue: b * 1_000 + i,
            step: b * 100 + i,
            epoch: null,
            context: null,
            timestamp: 1_700_000_000_000 + b,
          })),
        }),
      );
    const send = (server: Server, b: number) =>
      fetch(`${server.base}/clientlib/batch/logger/experiment/metric`, {
        method: 'POST',
        headers: {
          authorization: ADMIN_KEY,
          'content-type': 'application/json;charset=utf-8',
          'content-encoding': 'gzip',
        },
        body: batch(b),
        signal: AbortSignal.timeout(15_000),
      });

    let sent = 0;
    let acked = 0;
    let killed = false;
    const writer = (async () => {
      for (let b = 0; ; b++) {
        sent = b + 1;
        try {
          const response = await send(first, b);
          await response.text();
          if (response.status === 200) acked++;
        } catch {
          return;
        }
        if (killed) return;
      }
    })();
    const deadline = Date.now() + 20_000;
    while (acked < 30 && Date.now() < deadline) await sleep(5);
    killed = true;
    first.child.kill('SIGKILL');
    await first.exited;
    await writer;
    expect(acked).toBeGreaterThanOrEqual(30);

    // The client does not know which sends committed (the last one may have, unanswered), so it
    // resends everything; the restarted server must store each batch exactly once.
    const second = await startServer(dataDir);
    const duplicates: boolean[] = [];
    for (let b = 0; b < sent; b++) {
      const response = await send(second, b);
      expect(response.status).toBe(200);
      duplicates.push(((await response.json()) as { duplicate: boolean }).duplicate);
    }
    expect(duplicates.slice(0, acked).every(Boolean)).toBe(true);
    const values = (await readMetric(second, experimentKey, 'loss')).map((row) => Number(row.metricValue));
    expect(values).toEqual(Array.from({ length: sent * 100 }, (_, n) => Math.floor(n / 100) * 1_000 + (n % 100)));

    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });
});
