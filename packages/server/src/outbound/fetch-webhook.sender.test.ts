import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchWebhookSender } from './fetch-webhook.sender.js';

describe('FetchWebhookSender', () => {
  let server: Server;
  let base: string;
  const seen: { url: string; method: string; headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      request.on('end', () => {
        seen.push({ url: request.url ?? '', method: request.method ?? '', headers: request.headers, body });
        if (request.url === '/hang') return;
        if (request.url === '/redirect') return response.writeHead(302, { location: '/ok' }).end();
        response.writeHead(request.url === '/fail' ? 500 : 204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const request = (path: string) => ({
    url: `${base}${path}`,
    headers: { 'content-type': 'application/json', 'x-token': 't' },
    body: '{"event":"STAGE_ADDED"}',
  });

  it('POSTs the body with the headers and resolves with any status, redirects included', async () => {
    const sender = new FetchWebhookSender(5_000);
    expect(await sender.send(request('/ok'), new AbortController().signal)).toEqual({ status: 204 });
    expect(seen.at(-1)).toMatchObject({ url: '/ok', method: 'POST', body: '{"event":"STAGE_ADDED"}' });
    expect(seen.at(-1)?.headers['x-token']).toBe('t');
    expect(await sender.send(request('/fail'), new AbortController().signal)).toEqual({ status: 500 });
    expect(await sender.send(request('/redirect'), new AbortController().signal)).toEqual({ status: 302 });
    expect(seen.at(-1)?.url).toBe('/redirect');
  });

  it('rejects after its timeout, when aborted, and when nothing listens', async () => {
    await expect(new FetchWebhookSender(100).send(request('/hang'), new AbortController().signal)).rejects.toThrow(
      'no response within 100 ms',
    );
    const controller = new AbortController();
    const pending = new FetchWebhookSender(5_000).send(request('/hang'), controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow();

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(
      new FetchWebhookSender(5_000).send(
        { ...request('/'), url: `http://127.0.0.1:${port}/` },
        new AbortController().signal,
      ),
    ).rejects.toThrow(/ECONNREFUSED/);
  });
});
