import { APIUserAbortError } from './errors.js';
import type { LevelLogger } from './http.js';
import { isRetryableError, retryDelayMs, sleep } from './retry.js';

/** One event of a text/event-stream, as the HTML standard parses it. */
export interface RawEvent {
  id: string | undefined;
  event: string;
  data: string;
  retry: number | undefined;
}

/** Parses a text/event-stream body into events (comments and empty events are skipped). */
export async function* parseEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<RawEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  let retry: number | undefined;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      // Lines end at \n, \r\n or \r; a \r at the very end may be half of a \r\n still to come.
      for (;;) {
        const match = /\r\n|\n|\r/.exec(buffer);
        if (!match || (match[0] === '\r' && match.index === buffer.length - 1 && !done)) break;
        const line = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        if (line === '') {
          if (data.length > 0) yield { id, event: event || 'message', data: data.join('\n'), retry };
          data = [];
          event = '';
          retry = undefined;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') data.push(value);
        else if (field === 'event') event = value;
        else if (field === 'id' && !value.includes('\0')) id = value;
        else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
}

/** A parsed event of a Cairn stream. */
export interface StreamEvent<E extends string = string, D = unknown> {
  id: string | undefined;
  event: E;
  data: D;
}

export interface EventStreamOptions {
  /** Resume after this event id (sent as Last-Event-ID). */
  lastEventId?: string;
  /** Ends the stream: the loop over it finishes without an error. */
  signal?: AbortSignal;
  /** Reconnect backoff: first delay bound and cap, ms. */
  reconnectBaseDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** Called each time the stream is open (its answer arrived), so a view can show "live" before any event. */
  onOpen?: () => void;
  /** Called each time an open stream dropped or a connection failed; a reconnect follows. */
  onDisconnect?: (error: unknown) => void;
}

/**
 * Follows a Server-Sent Events endpoint for as long as the loop wants: when the connection drops
 * it reconnects (full-jitter backoff, or the server's `retry:`) with Last-Event-ID, so no event is
 * missed or repeated while the server still holds it (a `reset` event says when it no longer does).
 * Answers that will not change on retry (401, 403, 404, …) end the loop with their error.
 */
export async function* followEvents<T extends StreamEvent>(
  open: (lastEventId: string | undefined, signal: AbortSignal | undefined) => Promise<Response>,
  options: EventStreamOptions,
  log: LevelLogger,
): AsyncGenerator<T> {
  let lastEventId = options.lastEventId;
  let failures = 0;
  let serverRetry: number | undefined;
  const backoff = {
    baseDelayMs: options.reconnectBaseDelayMs ?? 500,
    maxDelayMs: options.reconnectMaxDelayMs ?? 15_000,
    maxRetryAfterMs: 60_000,
  };
  const { signal } = options;
  for (;;) {
    if (signal?.aborted) return;
    let failure: unknown;
    try {
      const response = await open(lastEventId, signal);
      if (!response.body) throw new Error('event stream answered without a body');
      options.onOpen?.();
      for await (const raw of parseEventStream(response.body)) {
        failures = 0;
        if (raw.retry !== undefined) serverRetry = raw.retry;
        if (raw.id !== undefined) lastEventId = raw.id;
        let data: unknown = raw.data;
        try {
          data = JSON.parse(raw.data);
        } catch {
          // Not JSON: handed over as text.
        }
        yield { id: raw.id, event: raw.event, data } as T;
      }
    } catch (error) {
      if (signal?.aborted || error instanceof APIUserAbortError) return;
      if (!isRetryableError(error) && !(error instanceof TypeError)) throw error;
      failure = error;
    }
    if (signal?.aborted) return;
    options.onDisconnect?.(failure);
    const delay = serverRetry ?? retryDelayMs(failures, failure, backoff);
    failures++;
    log.debug(
      `event stream ${failure ? `failed (${String(failure)})` : 'ended'}: reconnecting in ${Math.round(delay)} ms`,
    );
    try {
      await sleep(delay, signal, true);
    } catch {
      return;
    }
  }
}
