import { connect, createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import SQLite from 'better-sqlite3';
import type { LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, POSTGRES_URL, type TestContext } from './support/test-context.js';
import { multipart } from './support/wire-bodies.js';

const API = '/api/cairn/v1';

/** 429 and 503 always come with Retry-After, in each facade's error format. */
function expectRetryLater(response: LightMyRequestResponse, status: 429 | 503, retryAfter: string) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['retry-after']).toBe(retryAfter);
}

function expectProblem(response: LightMyRequestResponse, status: 429 | 503, retryAfter: string) {
  expectRetryLater(response, status, retryAfter);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({ type: 'about:blank', status });
}

async function createExperiment(t: TestContext): Promise<string> {
  const principal = await t.core.auth.authenticate(t.adminKey);
  return (await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'retry' })).experiment.id;
}

/**
 * A request body the test releases when it wants: `started` resolves once the server begins to
 * read it (its admission, authentication and routing are done by then).
 */
function heldBody(bytes: Buffer) {
  let markStarted: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  let pushed = false;
  const stream = new Readable({
    read() {
      markStarted();
    },
  });
  return {
    stream,
    started,
    release() {
      if (pushed) return;
      pushed = true;
      stream.push(bytes);
      stream.push(null);
    },
  };
}

describe.each(backends)('429 and 503 with Retry-After (%s)', (backend) => {
  describe('ingest admission', () => {
    let t: TestContext;
    let key: string;
    const limit = 4000;

    beforeAll(async () => {
      t = await createTestContext(backend, { config: { ingestMaxInflightBytes: limit } });
      key = await createExperiment(t);
    });
    afterAll(async () => {
      await t?.close();
    });

    const paramsBody = (name: string, size: number) => {
      const text = JSON.stringify({ values: { [name]: '' } });
      return Buffer.from(JSON.stringify({ values: { [name]: 'x'.repeat(size - text.length) } }));
    };
    const post = (path: string, body: Buffer | Readable, length: number) =>
      t.app.inject({
        method: 'POST',
        url: `${API}/experiments/${key}/${path}`,
        headers: {
          authorization: `Bearer ${t.adminKey}`,
          'content-type': 'application/json',
          'content-length': String(length),
        },
        payload: body,
      });

    it('refuses write bodies beyond the bytes in flight with 429 and Retry-After: 1, before reading them', async () => {
      const big = paramsBody('held', 3000);
      const held = heldBody(big);
      const first = post('params', held.stream, big.length);
      await held.started;

      // 3000 + 2000 > 4000: refused, and nothing of it stored.
      const refused = await post('params', paramsBody('refused', 2000), 2000);
      expectProblem(refused, 429, '1');
      expect(refused.headers.connection).toBe('close');
      const metrics = JSON.stringify({ series: [{ name: 'm', values: Array.from({ length: 300 }, (_, i) => i) }] });
      const padded = Buffer.from(metrics.padEnd(2000, ' '));
      expectProblem(await post('metrics', padded, padded.length), 429, '1');

      // What fits still goes in; reads and streamed uploads are not counted.
      expect((await post('params', paramsBody('small', 900), 900)).statusCode).toBe(204);
      const read = await t.app.inject({
        method: 'GET',
        url: `${API}/experiments/${key}/params`,
        headers: { authorization: `Bearer ${t.adminKey}` },
      });
      expect(read.statusCode).toBe(200);
      const file = await multipart([['file', Buffer.alloc(5000, 1), 'big.bin']]);
      const uploaded = await t.app.inject({
        method: 'POST',
        url: `${API}/experiments/${key}/assets`,
        headers: { authorization: `Bearer ${t.adminKey}`, ...file.headers },
        payload: file.payload,
      });
      expect(uploaded.statusCode, uploaded.body).toBe(201);

      held.release();
      expect((await first).statusCode).toBe(204);
      // Released: the refused writes go in now.
      expect((await post('params', paramsBody('refused', 2000), 2000)).statusCode).toBe(204);
      expect((await post('metrics', padded, padded.length)).statusCode).toBe(200);
      const names = read.json().items.map((v: { name: string }) => v.name);
      expect(names).toEqual(['small']);
      const after = await t.app.inject({
        method: 'GET',
        url: `${API}/experiments/${key}/params`,
        headers: { authorization: `Bearer ${t.adminKey}` },
      });
      expect(after.json().items.map((v: { name: string }) => v.name)).toEqual(['held', 'refused', 'small']);
    });

    it('admits a body larger than the limit when nothing else is in flight', async () => {
      const huge = paramsBody('huge', 10_000);
      expect((await post('params', huge, huge.length)).statusCode).toBe(204);
    });

    it('counts concurrent big bodies: some are refused, every admitted one is stored, none twice', async () => {
      const bodies = Array.from({ length: 6 }, (_, i) => paramsBody(`c${i}`, 1500));
      const held = bodies.map((body) => heldBody(body));
      const requests = held.map((h, i) => post('others', h.stream, (bodies[i] as Buffer).length));
      // Two fit in 4000 bytes, the others do not: each request is either being read or answered.
      await Promise.all(held.map((h, i) => Promise.race([h.started, requests[i]])));
      for (const h of held) h.release();
      const responses = await Promise.all(requests);
      const statuses = responses.map((r) => r.statusCode);
      expect(statuses.filter((s) => s === 204)).toHaveLength(2);
      for (const response of responses.filter((r) => r.statusCode === 429)) expectProblem(response, 429, '1');
      const stored = await t.app.inject({
        method: 'GET',
        url: `${API}/experiments/${key}/others?history=true`,
        headers: { authorization: `Bearer ${t.adminKey}` },
      });
      const names = stored.json().items.map((v: { name: string }) => v.name);
      // Admitted requests run concurrently: the history holds each once, in whichever order they committed.
      expect([...names].sort()).toEqual(statuses.flatMap((s, i) => (s === 204 ? [`c${i}`] : [])));
    });
  });

  describe('store unavailable', () => {
    let t: TestContext;
    let key: string;
    let proxy: TcpProxy | undefined;

    beforeAll(async () => {
      if (backend === 'postgres') {
        proxy = await TcpProxy.start(5432);
        const port = proxy.port;
        t = await createTestContext(backend, {
          store: { postgresUrl: (url) => url.replace(/@[^/]+\//, `@127.0.0.1:${port}/`) },
        });
      } else {
        t = await createTestContext(backend, { store: { busyTimeoutMillis: 100 } });
      }
      key = await createExperiment(t);
    });
    afterAll(async () => {
      await proxy?.resume();
      await t?.close();
      await proxy?.close();
    });

    /** Makes the database unreachable (PostgreSQL) or locked by another connection (SQLite) while `work` runs. */
    async function whileUnavailable(work: () => Promise<void>) {
      if (proxy) {
        await proxy.cut();
        try {
          await work();
        } finally {
          await proxy.resume();
        }
        return;
      }
      const other = new SQLite(t.databaseFile as string);
      other.pragma('busy_timeout = 0');
      other.exec('begin exclusive');
      try {
        await work();
      } finally {
        other.exec('rollback');
        other.close();
      }
    }

    it('answers 503 with Retry-After on every facade while the database cannot be used, and recovers', async () => {
      const principal = await t.core.auth.authenticate(t.adminKey);
      const projectId = (await t.core.experiments.get(principal, key)).project.id;
      const post = () =>
        t.app.inject({
          method: 'POST',
          url: `${API}/experiments/${key}/params`,
          headers: { authorization: `Bearer ${t.adminKey}` },
          payload: { values: { lr: 0.1 } },
        });
      expect((await post()).statusCode).toBe(204);
      const retryAfter = backend === 'postgres' ? '5' : '1';
      await whileUnavailable(async () => {
        const refused = await post();
        expectProblem(refused, 503, retryAfter);
        // No driver or SQL detail reaches the client.
        expect(refused.json().detail).toBe('the database is unavailable; retry later');

        const comet = await t.app.inject({
          method: 'POST',
          url: '/api/rest/v2/write/experiment/parameter',
          headers: { authorization: t.adminKey },
          payload: { experimentKey: key, parameterName: 'lr', parameterValue: '0.2' },
        });
        expectRetryLater(comet, 503, retryAfter);
        expect(comet.json()).toMatchObject({ code: 503, msg: 'the database is unavailable; retry later' });

        if (backend === 'postgres') {
          // Nothing can be read either (the Foundry facade only reads); the health check says so too.
          const hex = projectId;
          const modelRid = `ri.models.main.model.${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
          const foundry = await t.app.inject({
            method: 'GET',
            url: `/api/v2/models/${modelRid}?preview=true`,
            headers: { authorization: `Bearer ${t.adminKey}` },
          });
          expectRetryLater(foundry, 503, retryAfter);
          expect(foundry.json()).toMatchObject({ errorCode: 'INTERNAL', errorName: 'Default:ServiceUnavailable' });
          const health = await t.app.inject({ method: 'GET', url: '/healthz' });
          expectRetryLater(health, 503, '1');
        }
      });
      expect((await post()).statusCode).toBe(204);
      const history = await t.app.inject({
        method: 'GET',
        url: `${API}/experiments/${key}/params?history=true`,
        headers: { authorization: `Bearer ${t.adminKey}` },
      });
      expect(history.json().items).toHaveLength(2);
    });
  });

  describe('shutting down', () => {
    let t: TestContext;
    let key: string;
    afterEach(async () => {
      await t?.close();
    });

    it('refuses requests that arrive during the drain with 503 and Retry-After, and finishes those running', async () => {
      t = await createTestContext(backend);
      key = await createExperiment(t);
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const address = t.app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;

      // Two kept-alive connections, each with a request whose body is still arriving.
      const body = (name: string) => JSON.stringify({ values: { [name]: 1 } });
      const head = (name: string) =>
        `POST ${API}/experiments/${key}/params HTTP/1.1\r\nHost: cairn\r\nAuthorization: Bearer ${t.adminKey}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body(name).length}\r\n\r\n`;
      const cairn = await RawConnection.open(port);
      const comet = await RawConnection.open(port);
      const started = new Promise<void>((resolve) => {
        let seen = 0;
        t.app.server.on('request', () => {
          seen += 1;
          if (seen === 2) resolve();
        });
      });
      cairn.write(head('running1') + body('running1').slice(0, 4));
      comet.write(head('running2') + body('running2').slice(0, 4));
      await started;

      const closed = t.app.close();
      // server.close() comes after the drain began (preClose), so a closed listener means draining.
      while (t.app.server.listening) await new Promise((resolve) => setImmediate(resolve));

      // The rest of each body, and behind it a request that arrives during the drain.
      cairn.write(
        `${body('running1').slice(4)}POST ${API}/experiments/${key}/params HTTP/1.1\r\nHost: cairn\r\n` +
          `Authorization: Bearer ${t.adminKey}\r\nContent-Type: application/json\r\nContent-Length: ${body('late').length}\r\n\r\n${body('late')}`,
      );
      comet.write(
        `${body('running2').slice(4)}GET /api/rest/v2/experiment/parameters?experimentKey=${key} HTTP/1.1\r\nHost: cairn\r\n` +
          `Authorization: ${t.adminKey}\r\n\r\n`,
      );
      const [cairnResponses, cometResponses] = await Promise.all([cairn.responses(), comet.responses()]);
      await closed;

      expect(cairnResponses.map((r) => r.status)).toEqual([204, 503]);
      const late = cairnResponses[1] as RawResponse;
      expect(late.headers['retry-after']).toBe('5');
      expect(late.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(late.headers.connection).toBe('close');
      expect(JSON.parse(late.body)).toMatchObject({ status: 503, detail: 'the server is shutting down' });

      expect(cometResponses.map((r) => r.status)).toEqual([204, 503]);
      const cometLate = cometResponses[1] as RawResponse;
      expect(cometLate.headers['retry-after']).toBe('5');
      expect(JSON.parse(cometLate.body)).toMatchObject({ code: 503, msg: 'the server is shutting down' });

      // The requests that were running were stored; the late one was not.
      const principal = await t.core.auth.authenticate(t.adminKey);
      const names = (await t.core.experiments.valueHistory(principal, key, 'param')).map((v) => v.name);
      expect(names.sort()).toEqual(['running1', 'running2']);
    });
  });
});

/**
 * PostgreSQL restarts under load (issue #13). The cluster is shared with other suites, so the test
 * does to Cairn's connections alone what a restart does to clients: it terminates their backends
 * (pg_terminate_backend, found by the proxy's ports), then refuses connections for a while (the
 * server is down), then black-holes them (a host that does not answer), then lets them through.
 */
describe.runIf(backends.includes('postgres'))('PostgreSQL restarts mid-load', () => {
  const CONNECT_TIMEOUT_MILLIS = 1000;
  /** No request may take longer: the connect timeout plus room for a slow machine. */
  const LONGEST_MILLIS = CONNECT_TIMEOUT_MILLIS + 2500;
  let t: TestContext;
  let key: string;
  let proxy: TcpProxy;
  let admin: pg.Client;

  beforeAll(async () => {
    proxy = await TcpProxy.start(5432);
    t = await createTestContext('postgres', {
      store: {
        postgresUrl: (url) => url.replace(/@[^/]+\//, `@127.0.0.1:${proxy.port}/`),
        connectTimeoutMillis: CONNECT_TIMEOUT_MILLIS,
      },
    });
    key = await createExperiment(t);
    admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await proxy?.resume();
    await t?.close();
    await proxy?.close();
    await admin?.end();
  });

  it('fails requests fast with 503 and Retry-After, reconnects by itself, and keeps every acknowledged write', async () => {
    const acknowledged = new Map<string, number[]>();
    const outcomes: { status: number; millis: number; retryAfter: string | undefined }[] = [];
    let running = true;
    const worker = async (w: number) => {
      const name = `w${w}`;
      acknowledged.set(name, []);
      for (let batch = 0; running; batch++) {
        const steps = Array.from({ length: 50 }, (_, i) => batch * 50 + i);
        const started = performance.now();
        const response = await t.app.inject({
          method: 'POST',
          url: `${API}/experiments/${key}/metrics`,
          headers: { authorization: `Bearer ${t.adminKey}` },
          payload: { series: [{ name, steps, values: steps.map((s) => s * w) }] },
        });
        outcomes.push({
          status: response.statusCode,
          millis: performance.now() - started,
          retryAfter: response.headers['retry-after'] as string | undefined,
        });
        if (response.statusCode === 200) acknowledged.get(name)?.push(...steps);
        else {
          expect(response.statusCode, response.body).toBe(503);
          expect(response.json()).toMatchObject({ status: 503, detail: 'the database is unavailable; retry later' });
        }
      }
    };
    const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));
    const load = Promise.all(Array.from({ length: 6 }, (_, w) => worker(w)));

    await sleep(300);
    // The restart: every backend of Cairn's is terminated mid-query (SQLSTATE 57P01 to the client).
    const ports = proxy.upstreamPorts();
    expect(ports.length).toBeGreaterThan(0);
    const terminated = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where client_port = any($1::int[]) and pid <> pg_backend_pid()',
      [ports],
    );
    expect(terminated.rowCount).toBeGreaterThan(0);
    await sleep(200);
    // Down: connections are refused.
    await proxy.cut();
    await sleep(700);
    // Unreachable: connections go nowhere, so only the connect timeout ends them (held longer
    // than any request may take, so a request waiting for the database would fail the test).
    await proxy.hold();
    const heldAt = outcomes.length;
    await sleep(LONGEST_MILLIS + 500);
    expect(outcomes.slice(heldAt).filter((o) => o.status === 503).length).toBeGreaterThan(0);
    // Back: the pool opens new connections on its own, no restart of Cairn.
    await proxy.resume();
    const backAt = outcomes.length;
    await sleep(800);
    running = false;
    await load;

    const refused = outcomes.filter((o) => o.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const outcome of refused) expect(outcome.retryAfter).toBe('5');
    expect(Math.max(...outcomes.map((o) => o.millis))).toBeLessThan(LONGEST_MILLIS);
    // Writes go in again after the database came back.
    expect(outcomes.slice(backAt).filter((o) => o.status === 200).length).toBeGreaterThan(0);
    const after = outcomes.slice(-6);
    for (const outcome of after) expect(outcome.status).toBe(200);

    for (const [name, steps] of acknowledged) {
      const stored = await t.app.inject({
        method: 'GET',
        url: `${API}/experiments/${key}/metrics/${name}?limit=100000`,
        headers: { authorization: `Bearer ${t.adminKey}` },
      });
      expect(stored.statusCode).toBe(200);
      // Every acknowledged batch is there; a batch whose commit fate the client never learned
      // (the connection died during COMMIT) may be too, which a retry with its batch key settles.
      const have = new Set<number>(stored.json().steps);
      for (const step of steps) expect(have.has(step)).toBe(true);
    }
  });
});

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** An HTTP/1.1 connection written byte by byte, for pipelined requests. */
class RawConnection {
  private readonly chunks: Buffer[] = [];
  private readonly ended: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Every response until the server closes the connection. */
  async responses(): Promise<RawResponse[]> {
    await this.ended;
    let rest = Buffer.concat(this.chunks).toString('utf8');
    const responses: RawResponse[] = [];
    while (rest.length > 0) {
      const end = rest.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      const length = Number(headers['content-length'] ?? 0);
      responses.push({
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: rest.slice(end + 4, end + 4 + length),
      });
      rest = rest.slice(end + 4 + length);
    }
    return responses;
  }
}

/**
 * A TCP proxy to a local port that the test can cut (refusing and dropping connections), hold
 * (accepting connections that never reach the target: a black hole) and resume.
 */
class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly upstreams = new Set<Socket>();
  private holding = false;

  private constructor(
    private readonly target: number,
    public port: number,
  ) {}

  static async start(target: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, 0);
    await proxy.resume();
    return proxy;
  }

  /** Listens (again, on the same port): new connections reach the target. */
  async resume(): Promise<void> {
    this.holding = false;
    if (this.server) return;
    const server = createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => client.destroy());
      if (this.holding) return;
      const upstream = connect(this.target, '127.0.0.1');
      this.upstreams.add(upstream);
      upstream.on('close', () => this.upstreams.delete(upstream));
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : this.port;
    this.server = server;
  }

  /** Stops listening and drops every open connection: the database is gone. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** Drops every open connection; new ones are accepted and left unanswered. */
  async hold(): Promise<void> {
    if (!this.server) await this.resume();
    this.holding = true;
    for (const socket of this.sockets) socket.destroy();
  }

  /** The local ports of the proxy's connections to the target: PostgreSQL's `client_port` of each backend. */
  upstreamPorts(): number[] {
    return [...this.upstreams].flatMap((socket) => (socket.localPort === undefined ? [] : [socket.localPort]));
  }

  async close(): Promise<void> {
    await this.cut();
  }
}
