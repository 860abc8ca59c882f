// Minimal HTTP client on Node's built-in fetch (undici, keep-alive), loopback only.

import { gzipSync } from 'node:zlib';

/** Every request goes to the server we started; refuse anything else outright. */
function assertLoopback(url) {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
    throw new Error(`bench only talks to loopback servers, not ${host}`);
  }
}

export class HttpError extends Error {
  /** @param {string} method @param {string} url @param {number} status @param {string} body */
  constructor(method, url, status, body) {
    super(`${method} ${url} -> ${status}: ${body.slice(0, 500)}`);
    this.status = status;
  }
}

/**
 * One request; returns the raw body text and the time until the last byte arrived. Parsing is
 * left to the caller so it stays outside the timed span. Non-2xx throws (never timed).
 * @param {string} method @param {string} url
 * `binary` keeps the body as bytes (`bytes`, `text` empty) instead of decoding it as UTF-8.
 * `bytes` sends a body of another media type as it is (`json` wins when both are given).
 * @param {{ headers?: Record<string,string>, json?: unknown, bytes?: { body: Uint8Array, type: string }, gzip?: boolean, timeoutMs?: number, binary?: boolean }} [opts]
 */
export async function request(
  method,
  url,
  { headers = {}, json, bytes, gzip = false, timeoutMs = 120_000, binary = false } = {},
) {
  assertLoopback(url);
  /** @type {Record<string,string>} */
  const h = { ...headers };
  /** @type {Uint8Array|string|undefined} */
  let body;
  if (json !== undefined || bytes !== undefined) {
    body = json !== undefined ? JSON.stringify(json) : bytes?.body;
    h['content-type'] = json !== undefined ? 'application/json' : (bytes?.type ?? '');
    if (gzip) {
      body = gzipSync(body, { level: 1 });
      h['content-encoding'] = 'gzip';
    }
  }
  const t0 = performance.now();
  const res = await fetch(url, { method, headers: h, body, signal: AbortSignal.timeout(timeoutMs) });
  const received = binary && res.ok ? Buffer.from(await res.arrayBuffer()) : undefined;
  const text = received ? '' : await res.text();
  const ms = performance.now() - t0;
  if (!res.ok) throw new HttpError(method, url, res.status, text);
  return { text, bytes: received, ms, status: res.status, contentType: res.headers.get('content-type') ?? '' };
}

/** @param {string} text */
export function parseJson(text) {
  return text ? JSON.parse(text) : {};
}
