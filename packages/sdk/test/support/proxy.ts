import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does with one request. */
export type ProxyAction =
  /** Pass it on and the answer back. */
  | { kind: 'forward' }
  /** Answer here; the server never sees it. */
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: string }
  /** Close the connection without an answer; the server never sees it. */
  | { kind: 'reset' }
  /** Pass it on, let the server answer (and so commit), then close the client's connection: the lost ack. */
  | { kind: 'drop-response' }
  /** Pass it on and stream the answer back, then close the client's connection after `ms` (a dropped stream). */
  | { kind: 'cut-after'; ms: number }
  /** Wait, then do `next`. */
  | { kind: 'delay'; ms: number; next: ProxyAction };

export interface ProxiedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
  action: ProxyAction['kind'];
  /** The upstream status, for forwarded requests. */
  status?: number;
  at: number;
}

export type ProxyRule = (request: IncomingMessage, index: number) => ProxyAction;

/**
 * An HTTP proxy in front of a test server that injects faults by rule: 429/503 answers, reset
 * connections, answers lost after the server committed, delays. Every request is recorded.
 */
export class FaultProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private rule: ProxyRule = () => ({ kind: 'forward' });
  port = 0;

  constructor(private readonly target: { port: number }) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(target: { port: number }, rule?: ProxyRule): Promise<FaultProxy> {
    const proxy = new FaultProxy(target);
    if (rule) proxy.rule = rule;
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.server.address() as AddressInfo).port;
    return proxy;
  }

  setRule(rule: ProxyRule): void {
    this.rule = rule;
  }

  /** Requests whose path contains `fragment`. */
  matching(fragment: string, method = 'POST'): ProxiedRequest[] {
    return this.requests.filter((r) => r.method === method && r.url.includes(fragment));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const record: ProxiedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      bodyBytes: body.length,
      action: 'forward',
      at: Date.now(),
    };
    this.requests.push(record);
    let action = this.rule(req, this.requests.length - 1);
    while (action.kind === 'delay') {
      await new Promise((resolve) => setTimeout(resolve, (action as { ms: number }).ms));
      action = action.next;
    }
    record.action = action.kind;
    if (action.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (action.kind === 'respond') {
      res.writeHead(action.status, { 'content-type': 'application/problem+json', ...action.headers });
      res.end(
        action.body ??
          JSON.stringify({
            type: 'about:blank',
            title: 'Injected',
            status: action.status,
            detail: 'injected by the test proxy',
          }),
      );
      return;
    }
    const headers: IncomingHttpHeaders = { ...req.headers, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    const upstream = request(
      { host: '127.0.0.1', port: this.target.port, method: req.method, path: req.url, headers },
      async (answer) => {
        record.status = answer.statusCode;
        if (action.kind === 'drop-response') {
          for await (const _chunk of answer) {
            // Read to the end: the server has answered, whatever it did is committed.
          }
          // The client never learns it.
          req.socket.destroy();
          return;
        }
        const headers = { ...answer.headers };
        delete headers.connection;
        res.writeHead(answer.statusCode ?? 502, headers);
        res.flushHeaders();
        if (action.kind === 'cut-after') setTimeout(() => req.socket.destroy(), action.ms);
        // Streamed as it comes (event streams never end by themselves).
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    upstream.end(body);
  }
}
