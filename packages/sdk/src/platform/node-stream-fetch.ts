import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/**
 * A `fetch` over node:http for requests whose body is a stream (asset uploads, git patches).
 * Node 20's built-in fetch keeps every chunk of a streamed request body until the request is
 * gone (measured: a 256 MiB upload held 256 MiB of ArrayBuffers, a 512 MiB one 512 MiB), so a
 * multi-GB model would be held whole; node:http sends the same stream with backpressure and
 * keeps a few chunks. Only what streamed uploads need is supported: no redirects, no
 * decompression of answers (the API sends neither for them).
 */
export const nodeStreamFetch: typeof fetch = (input, init = {}) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<Response>((resolve, reject) => {
    const request = transport.request(url, {
      method: init.method ?? 'GET',
      headers,
      ...(init.signal ? { signal: init.signal } : {}),
    });
    request.once('error', reject);
    request.once('response', (response) => {
      const answer = new Headers();
      for (const [name, value] of Object.entries(response.headers)) {
        if (Array.isArray(value)) for (const v of value) answer.append(name, v);
        else if (value !== undefined) answer.set(name, value);
      }
      const status = response.statusCode ?? 0;
      const empty = status === 204 || status === 304 || init.method === 'HEAD';
      if (empty) response.resume();
      resolve(
        new Response(empty ? null : (Readable.toWeb(response) as unknown as ReadableStream<Uint8Array>), {
          status,
          statusText: response.statusMessage ?? '',
          headers: answer,
        }),
      );
    });
    const body = init.body;
    if (body === undefined || body === null) {
      request.end();
    } else if (typeof body === 'string' || body instanceof Uint8Array) {
      request.end(body);
    } else {
      const stream = body instanceof Blob ? body.stream() : body instanceof ReadableStream ? body : undefined;
      if (!stream) {
        request.destroy();
        reject(new TypeError('nodeStreamFetch sends strings, bytes, Blobs and streams only'));
        return;
      }
      // Errors of the body reach the caller through the request's 'error' (pipeline destroys it).
      pipeline(Readable.fromWeb(stream as unknown as WebReadableStream<Uint8Array>), request).catch(() => {});
    }
  });
};
