import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestContext, type TestContext } from './support/test-context.js';

/**
 * Slow clients against a listening server (real sockets: inject() has none). Transport behaviour,
 * the same over either store: run over the first backend only.
 */

interface RawExchange {
  /** Everything the server sent before it closed the connection. */
  received: string;
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfter: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens a connection, writes `chunks` with `pauseMs` between them (stopping early once the server
 * hangs up), and resolves when the server closes the connection (or after `giveUpMs`).
 */
function rawExchange(port: number, chunks: string[], pauseMs: number, giveUpMs = 10_000): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let closed = false;
    socket.on('data', (data) => {
      received += data.toString();
    });
    socket.on('error', () => {
      // A reset is how a cut-off connection may end; the close below reports it.
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(giveUp);
      resolve({ received, closedAfter: Date.now() - started });
    });
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${giveUpMs} ms; it sent: ${received}`));
    }, giveUpMs);
    socket.on('connect', async () => {
      for (const [i, chunk] of chunks.entries()) {
        if (closed) return;
        if (i > 0) await sleep(pauseMs);
        if (!closed) socket.write(chunk);
      }
    });
  });
}

async function listen(t: TestContext): Promise<number> {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return (t.app.server.address() as AddressInfo).port;
}

const backend = backends[0] ?? 'sqlite';

describe(`slow clients (${backend})`, () => {
  describe('headers timeout and body idle timeout', () => {
    let t: TestContext;
    let port: number;
    let key: string;
    beforeAll(async () => {
      t = await createTestContext(backend, { config: { headersTimeoutMillis: 500, bodyIdleTimeoutMillis: 500 } });
      port = await listen(t);
      const principal = await t.core.auth.authenticate(t.adminKey);
      key = (await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'slow' })).experiment
        .id;
    });
    afterAll(async () => {
      await t?.close();
    });

    const params = (name: string) => JSON.stringify({ values: { [name]: 'v' } });
    const post = (body: string) =>
      `POST /api/cairn/v1/experiments/${key}/params HTTP/1.1\r\nHost: cairn\r\nAuthorization: Bearer ${t.adminKey}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;

    async function storedParams(): Promise<string[]> {
      const principal = await t.core.auth.authenticate(t.adminKey);
      return (await t.core.experiments.summarizeValues(principal, key, 'param')).map((v) => v.name);
    }

    it('answers headers that never finish with 408 and closes, even when they trickle in', async () => {
      const stalled = await rawExchange(port, ['GET /healthz HTTP/1.1\r\nHost: cairn\r\n'], 0);
      expect(stalled.received).toMatch(/^HTTP\/1\.1 408 /);
      expect(stalled.closedAfter).toBeGreaterThanOrEqual(450);
      expect(stalled.closedAfter).toBeLessThan(3_000);

      // A header line every 100 ms keeps the connection busy but never completes the headers.
      const lines = Array.from({ length: 50 }, (_, i) =>
        i === 0 ? 'GET /healthz HTTP/1.1\r\n' : `X-Slow-${i}: 1\r\n`,
      );
      const trickled = await rawExchange(port, lines, 100);
      expect(trickled.received).toMatch(/^HTTP\/1\.1 408 /);
      expect(trickled.closedAfter).toBeLessThan(3_000);
    });

    it('cuts off a body that stops coming, and stores nothing of it', async () => {
      const body = params('stalled');
      const cut = await rawExchange(port, [post(body) + body.slice(0, 10)], 0);
      expect(cut.received).toBe('');
      expect(cut.closedAfter).toBeGreaterThanOrEqual(450);
      expect(cut.closedAfter).toBeLessThan(3_000);
      expect(await storedParams()).not.toContain('stalled');
    });

    it('lets a body that keeps coming take longer than the idle timeout, and a normal request through', async () => {
      const body = params('trickled');
      // Ten pieces 150 ms apart: 1.35 s in all, never 500 ms without a byte.
      const pieces = Array.from({ length: 10 }, (_, i) =>
        body.slice((i * body.length) / 10, ((i + 1) * body.length) / 10),
      );
      const slow = await rawExchange(port, [post(body), ...pieces], 150);
      expect(slow.received).toMatch(/^HTTP\/1\.1 204 /);
      expect(slow.closedAfter).toBeGreaterThan(1_200);
      expect(await storedParams()).toContain('trickled');

      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
    });
  });

  describe('request timeout', () => {
    let t: TestContext;
    let port: number;
    let key: string;
    beforeAll(async () => {
      t = await createTestContext(backend, {
        config: { headersTimeoutMillis: 400, requestTimeoutMillis: 800, bodyIdleTimeoutMillis: 0 },
      });
      port = await listen(t);
      const principal = await t.core.auth.authenticate(t.adminKey);
      key = (await t.core.experiments.create(principal, { workspaceName: 'default', projectName: 'slow' })).experiment
        .id;
    });
    afterAll(async () => {
      await t?.close();
    });

    it('answers a request whose body is still coming after the request timeout with 408', async () => {
      const head =
        `POST /api/cairn/v1/experiments/${key}/params HTTP/1.1\r\nHost: cairn\r\nAuthorization: Bearer ${t.adminKey}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n';
      const slow = await rawExchange(port, [head, ...Array.from({ length: 30 }, () => ' ')], 100);
      expect(slow.received).toMatch(/^HTTP\/1\.1 408 /);
      expect(slow.closedAfter).toBeGreaterThanOrEqual(750);
      expect(slow.closedAfter).toBeLessThan(3_000);
    });
  });
});
