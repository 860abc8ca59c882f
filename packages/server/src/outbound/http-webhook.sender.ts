import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { WebhookRequest, WebhookSender, WebhookSendResult } from '../core/webhook-sender.port.js';
import { normalHostname, WebhookAddressRules } from './webhook-address-rules.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Every address a name resolves to (the system resolver by default; tests inject their own). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

export interface HttpWebhookSenderOptions {
  /** Longest wait for one send: lookups, connects and the response headers of every hop together. */
  timeoutMillis: number;
  /** Which addresses may receive webhooks: public ones only unless the operator allows more. */
  rules?: WebhookAddressRules;
  resolve?: Resolver;
}

/**
 * Redirects that keep the method and body (RFC 9110 §15.4.8-9). 301, 302 and 303 would turn the
 * POST into a body-less GET, which delivers nothing: those are answers, counted as failures.
 */
const REDIRECTS_KEEPING_METHOD = new Set([307, 308]);
/** A receiver that moved needs one hop, a load balancer moving it to https one more. */
const MAX_REDIRECTS = 3;
/**
 * Headers that go on when a redirect leaves the configured origin: Cairn's own. The configured
 * ones are often the receiver's secrets and were meant for the receiver configured, not for
 * wherever it points.
 */
const CROSS_ORIGIN_HEADERS = /^(content-type|user-agent|x-cairn-[a-z-]+)$/i;

/**
 * Webhook POSTs over node:http(s) that reach public receivers only. Before each connection the
 * host is resolved and every address checked against the rules; the connection then goes to the
 * checked addresses (the request's own lookup answers with them), so a name that resolves
 * differently a moment later (DNS rebinding) cannot switch it. Host header and TLS SNI stay the
 * URL's host. 307 and 308 redirects are followed up to MAX_REDIRECTS, each hop resolved and
 * checked afresh; a refused hop makes the whole send a refusal.
 */
export class HttpWebhookSender implements WebhookSender {
  private readonly timeoutMillis: number;
  private readonly rules: WebhookAddressRules;
  private readonly resolve: Resolver;

  constructor(options: HttpWebhookSenderOptions) {
    this.timeoutMillis = options.timeoutMillis;
    this.rules = options.rules ?? WebhookAddressRules.strict;
    this.resolve = options.resolve ?? systemResolver;
  }

  async send(request: WebhookRequest, signal: AbortSignal): Promise<WebhookSendResult> {
    // One controller for both reasons to stop (AbortSignal.any needs Node 20.3; engines say 20).
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMillis);
    const stop = () => controller.abort();
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    try {
      let url = new URL(request.url);
      let headers = request.headers;
      for (let hop = 0; ; hop++) {
        const target = await this.target(url, controller.signal);
        if (typeof target === 'string') {
          return { refused: `refused: ${hop === 0 ? '' : `redirected to ${url.host}: `}${target}` };
        }
        const response = await post(url, target, headers, request.body, controller.signal);
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        // The body is not needed; the connection is this send's own (agent: false).
        response.destroy();
        if (!REDIRECTS_KEEPING_METHOD.has(status) || !location || hop >= MAX_REDIRECTS) return { status };
        const next = URL.canParse(location, url.href) ? new URL(location, url) : undefined;
        if (!next || (next.protocol !== 'http:' && next.protocol !== 'https:')) return { status };
        if (next.origin !== url.origin) {
          headers = Object.fromEntries(Object.entries(headers).filter(([name]) => CROSS_ORIGIN_HEADERS.test(name)));
        }
        url = next;
      }
    } catch (error) {
      if (timedOut) throw new Error(`no response within ${this.timeoutMillis} ms`);
      throw new Error(describe(error));
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
  }

  /** The checked addresses to connect to, or why the URL's host may not be reached. */
  private async target(url: URL, signal: AbortSignal): Promise<ResolvedAddress[] | string> {
    const host = normalHostname(url.hostname);
    const early = this.rules.refuseHost(host);
    if (early) return early;
    const family = isIP(host);
    if (family !== 0) return [{ address: host, family }];
    const addresses = await abortable(this.resolve(host), signal);
    if (addresses.length === 0) throw new Error(`ENOTFOUND: ${host} has no address`);
    // Every address, not only the first: happy eyeballs may connect to any of them.
    for (const { address } of addresses) {
      const refused = this.rules.refuseAddress(host, address);
      if (refused) return refused;
    }
    return addresses;
  }
}

/** One POST to `url` over a connection to one of `addresses` (already checked). */
function post(
  url: URL,
  addresses: ResolvedAddress[],
  headers: Record<string, string>,
  body: string,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  // Node calls this instead of the resolver: the connection goes where the check said it may.
  // IP literals skip lookups altogether, and were checked as they are.
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) return callback(null, addresses);
    const chosen = addresses.find((a) => !options.family || a.family === options.family) ?? addresses[0];
    if (!chosen) return callback(new Error('no address'), '', 0);
    callback(null, chosen.address, chosen.family);
  };
  const own = Object.fromEntries(Object.entries(headers).filter(([name]) => !/^(host|content-length)$/i.test(name)));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(
      {
        hostname: normalHostname(url.hostname),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...own, host: url.host, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinned,
        // A connection of its own: a pooled one could have been opened to other addresses.
        agent: false,
        signal,
      },
      resolve,
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Node's errors carry the reason (ECONNREFUSED, ENOTFOUND) in `code`, sometimes under `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const inner = error.cause instanceof Error ? error.cause : error;
  const code = (inner as NodeJS.ErrnoException).code;
  return code && !inner.message.includes(code) ? `${code}: ${inner.message}` : inner.message;
}
