import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookSendResult } from '../core/webhook-sender.port.js';
import { HttpWebhookSender, type ResolvedAddress, type Resolver } from './http-webhook.sender.js';
import { WebhookAddressRules } from './webhook-address-rules.js';

describe('HttpWebhookSender', () => {
  let server: Server;
  let port: number;
  let base: string;
  const seen: { url: string; method: string; headers: IncomingHttpHeaders; body: string }[] = [];
  /** Where /hop/* redirects to, per test (307 with that Location). */
  const redirects = new Map<string, { status: number; location: string }>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      request.on('end', () => {
        seen.push({ url: request.url ?? '', method: request.method ?? '', headers: request.headers, body });
        const redirect = redirects.get(request.url ?? '');
        if (redirect) return response.writeHead(redirect.status, { location: redirect.location }).end();
        if (request.url === '/hang') return;
        if (request.url === '/redirect') return response.writeHead(302, { location: '/ok' }).end();
        response.writeHead(request.url === '/fail' ? 500 : 204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const request = (path: string, at = base) => ({
    url: `${at}${path}`,
    headers: { 'content-type': 'application/json', 'x-token': 't', 'x-cairn-event': 'STAGE_ADDED' },
    body: '{"event":"STAGE_ADDED"}',
  });
  const signal = () => new AbortController().signal;
  /** The local receiver is internal: allowed as an operator would allow it. */
  const local = WebhookAddressRules.parse('127.0.0.1');
  const allowed = (timeoutMillis = 5_000, resolve?: Resolver) =>
    new HttpWebhookSender({ timeoutMillis, rules: local, ...(resolve ? { resolve } : {}) });
  /** A resolver with fixed answers per name, answering each lookup with the next list given; counts lookups. */
  function resolver(answers: Record<string, string[][]>): Resolver & { lookups: string[] } {
    const lookups: string[] = [];
    const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
      lookups.push(hostname);
      const list = answers[hostname];
      const next = list && (list.length > 1 ? list.shift() : list[0]);
      if (!next) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return next.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
    return Object.assign(resolve, { lookups });
  }

  it('POSTs the body with the headers and resolves with any status, other redirects included', async () => {
    const sender = allowed();
    expect(await sender.send(request('/ok'), signal())).toEqual({ status: 204 });
    expect(seen.at(-1)).toMatchObject({ url: '/ok', method: 'POST', body: '{"event":"STAGE_ADDED"}' });
    expect(seen.at(-1)?.headers['x-token']).toBe('t');
    expect(seen.at(-1)?.headers.host).toBe(`127.0.0.1:${port}`);
    expect(await sender.send(request('/fail'), signal())).toEqual({ status: 500 });
    // 302 would turn the POST into a GET: it is an answer, not followed.
    expect(await sender.send(request('/redirect'), signal())).toEqual({ status: 302 });
    expect(seen.at(-1)?.url).toBe('/redirect');
  });

  it('rejects after its timeout, when aborted, and when nothing listens', async () => {
    await expect(allowed(100).send(request('/hang'), signal())).rejects.toThrow('no response within 100 ms');
    const controller = new AbortController();
    const pending = allowed().send(request('/hang'), controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toThrow();

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port: gone } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(allowed().send(request('/', `http://127.0.0.1:${gone}`), signal())).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses internal receivers by default, in every spelling, without connecting', async () => {
    const lookups = resolver({ 'hooks.example': [['10.1.2.3']], 'twofaced.example': [['93.184.216.34', '10.1.2.3']] });
    const strict = new HttpWebhookSender({ timeoutMillis: 5_000, resolve: lookups });
    const before = seen.length;
    const refusals: WebhookSendResult[] = [];
    for (const at of [
      base,
      `http://0x7f.1:${port}`,
      `http://2130706433:${port}`,
      `http://[::ffff:127.0.0.1]:${port}`,
      `http://localhost.:${port}`,
      `http://hooks.example:${port}`,
      `http://twofaced.example:${port}`,
      'http://169.254.169.254',
      'http://metadata.google.internal',
    ]) {
      refusals.push(await strict.send(request('/ok', at), signal()));
    }
    expect(refusals).toEqual([
      { refused: 'refused: 127.0.0.1 is a loopback address (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)' },
      { refused: 'refused: 127.0.0.1 is a loopback address (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)' },
      { refused: 'refused: 127.0.0.1 is a loopback address (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)' },
      { refused: 'refused: ::ffff:7f00:1 is a loopback address (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)' },
      { refused: 'refused: localhost is a loopback name (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)' },
      { refused: 'refused: 10.1.2.3 is a private address (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)' },
      // One internal answer among public ones is enough: the connection could go to any of them.
      { refused: 'refused: 10.1.2.3 is a private address (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)' },
      { refused: 'refused: 169.254.169.254 is a cloud metadata address (never allowed)' },
      { refused: 'refused: metadata.google.internal is a cloud metadata name (never allowed)' },
    ]);
    expect(seen.length).toBe(before);
    // Literals and refused names never reach the resolver.
    expect(lookups.lookups).toEqual(['hooks.example', 'twofaced.example']);
  });

  it('connects to the addresses it checked, not to what a second lookup would say (DNS rebinding)', async () => {
    // `receiver.invalid` cannot resolve through the system (RFC 6761): the delivery arriving proves
    // the connection used the checked answer instead of looking the name up again.
    const lookups = resolver({ 'receiver.invalid': [['127.0.0.1'], ['10.9.9.9']] });
    const sender = allowed(5_000, lookups);
    expect(await sender.send(request('/pinned', `http://receiver.invalid:${port}`), signal())).toEqual({
      status: 204,
    });
    expect(seen.at(-1)).toMatchObject({ url: '/pinned', body: '{"event":"STAGE_ADDED"}' });
    // Host header (and SNI, for https) stay the URL's name.
    expect(seen.at(-1)?.headers.host).toBe(`receiver.invalid:${port}`);
    expect(lookups.lookups).toEqual(['receiver.invalid']);
    // The name now answers with an internal address: the next send is refused before it connects.
    const before = seen.length;
    expect(await sender.send(request('/pinned', `http://receiver.invalid:${port}`), signal())).toEqual({
      refused: 'refused: 10.9.9.9 is a private address (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)',
    });
    expect(seen.length).toBe(before);
  });

  it('follows 307 and 308 a few hops, checking every hop, keeping secrets to the configured origin', async () => {
    const lookups = resolver({ 'alias.invalid': [['127.0.0.1']], 'inside.invalid': [['192.168.7.7']] });
    const sender = allowed(5_000, lookups);

    redirects.set('/hop/same', { status: 308, location: '/ok-same' });
    expect(await sender.send(request('/hop/same'), signal())).toEqual({ status: 204 });
    expect(seen.at(-1)).toMatchObject({ url: '/ok-same', method: 'POST', body: '{"event":"STAGE_ADDED"}' });
    expect(seen.at(-1)?.headers['x-token']).toBe('t');

    redirects.set('/hop/other', { status: 307, location: `http://alias.invalid:${port}/ok-other` });
    expect(await sender.send(request('/hop/other'), signal())).toEqual({ status: 204 });
    expect(seen.at(-1)).toMatchObject({ url: '/ok-other', body: '{"event":"STAGE_ADDED"}' });
    expect(seen.at(-1)?.headers['x-token']).toBeUndefined();
    expect(seen.at(-1)?.headers['x-cairn-event']).toBe('STAGE_ADDED');
    expect(seen.at(-1)?.headers.host).toBe(`alias.invalid:${port}`);

    const before = seen.length;
    redirects.set('/hop/private', { status: 307, location: 'http://10.0.0.5/hook' });
    expect(await sender.send(request('/hop/private'), signal())).toEqual({
      refused:
        'refused: redirected to 10.0.0.5: 10.0.0.5 is a private address (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)',
    });
    redirects.set('/hop/metadata', { status: 308, location: 'http://169.254.169.254/latest/meta-data/' });
    expect(await sender.send(request('/hop/metadata'), signal())).toEqual({
      refused: 'refused: redirected to 169.254.169.254: 169.254.169.254 is a cloud metadata address (never allowed)',
    });
    redirects.set('/hop/name', { status: 307, location: 'http://inside.invalid/hook' });
    expect(await sender.send(request('/hop/name'), signal())).toEqual({
      refused:
        'refused: redirected to inside.invalid: 192.168.7.7 is a private address (allow it with CAIRN_WEBHOOK_ALLOW_HOSTS)',
    });
    // Only the redirecting hops were sent.
    expect(seen.slice(before).map((r) => r.url)).toEqual(['/hop/private', '/hop/metadata', '/hop/name']);

    redirects.set('/hop/loop', { status: 307, location: '/hop/loop' });
    const loopStart = seen.length;
    expect(await sender.send(request('/hop/loop'), signal())).toEqual({ status: 307 });
    expect(seen.length - loopStart).toBe(4);
  });
});
