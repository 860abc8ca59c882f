import type { ServerResponse } from 'node:http';

export interface SseOptions {
  /** A comment line this often keeps proxies and load balancers from closing an idle stream. */
  keepaliveMillis: number;
  /**
   * Bytes a client may leave unread before it is dropped: a stalled reader must not make the
   * server buffer without end. It reconnects with Last-Event-ID and is replayed what it missed.
   */
  maxBufferedBytes: number;
  /** The reconnection delay suggested to clients (`retry:`). */
  retryMillis: number;
}

const END_GRACE_MILLIS = 1_000;

/** One message; `data` must not hold line breaks (JSON text never does). An id alone moves the client's position. */
export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
}

function format(message: SseMessage): string {
  let text = '';
  if (message.event !== undefined) text += `event: ${message.event}\n`;
  if (message.data !== undefined) text += `data: ${message.data}\n`;
  if (message.id !== undefined) text += `id: ${message.id}\n`;
  return `${text}\n`;
}

export const DEFAULT_SSE_OPTIONS: SseOptions = {
  keepaliveMillis: 15_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  retryMillis: 2_000,
};

/**
 * One Server-Sent Events response. Messages sent before `open` (events that arrive while the
 * subscription is being set up) are held and written first, in order.
 */
export class SseStream {
  private readonly pending: string[] = [];
  private opened = false;
  private closed = false;
  private keepalive: NodeJS.Timeout | undefined;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    private readonly response: ServerResponse,
    private readonly options: SseOptions,
  ) {
    response.once('close', () => {
      // The client went: its half of the connection is closed, but Node keeps ours open (HTTP
      // sockets are half-open) as long as the response has not ended, which it never would.
      if (!response.writableEnded) response.destroy();
      this.finish();
    });
  }

  /**
   * Sends the headers, the retry hint, `first` (what must precede everything else, such as a
   * replay) and then whatever was held.
   */
  open(headers: Record<string, string>, first: readonly SseMessage[] = []): void {
    if (this.closed) return;
    this.response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // Proxies such as nginx would otherwise hold events back to fill their buffers.
      'x-accel-buffering': 'no',
      ...headers,
    });
    this.opened = true;
    this.write(`retry: ${this.options.retryMillis}\n\n${first.map(format).join('')}${this.pending.join('')}`);
    this.pending.length = 0;
    this.keepalive = setInterval(() => this.write(': keepalive\n\n'), this.options.keepaliveMillis);
    this.keepalive.unref();
  }

  send(message: SseMessage): void {
    this.write(format(message));
  }

  /**
   * Ends the response and, with it, the connection. A client that stopped reading cannot take
   * the end: its connection is cut after END_GRACE_MILLIS, so it cannot hold a shutdown up.
   */
  end(): void {
    if (this.closed) return;
    const socket = this.response.socket;
    this.response.end();
    if (socket) {
      socket.end();
      setTimeout(() => socket.destroy(), END_GRACE_MILLIS).unref();
    }
    this.finish();
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  private write(text: string): void {
    if (this.closed) return;
    if (!this.opened) {
      this.pending.push(text);
      return;
    }
    this.response.write(text);
    if (this.response.writableLength > this.options.maxBufferedBytes) {
      this.response.destroy();
      this.finish();
    }
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepalive);
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}
