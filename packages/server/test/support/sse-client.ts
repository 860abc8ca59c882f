/** One Server-Sent Events message as a client sees it. */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
  /** performance.now() when the message was complete. */
  at: number;
}

/**
 * A streaming fetch reader of a text/event-stream response, parsed as the EventSource spec says
 * (fields, comments, blank-line dispatch); it records every message and comment as it arrives.
 */
export class SseClient {
  readonly messages: SseMessage[] = [];
  comments = 0;
  /** The last id received, as EventSource keeps it (an id-only message moves it too). */
  lastEventId: string | undefined;
  ended = false;
  private readonly controller = new AbortController();
  private waiters: (() => void)[] = [];

  private constructor(readonly response: Response) {}

  /** Opens the stream; non-200 answers are returned as such with no reading started. */
  static async open(url: string, headers: Record<string, string>): Promise<SseClient> {
    const controller = new AbortController();
    const response = await fetch(url, { headers, signal: controller.signal });
    const client = new SseClient(response);
    client.controller.signal.addEventListener('abort', () => controller.abort());
    if (response.status === 200 && response.body) void client.pump(response.body);
    return client;
  }

  /** Messages of a type, data parsed. */
  of(event: string): { id: string | undefined; data: unknown; at: number }[] {
    return this.messages
      .filter((m) => m.event === event)
      .map((m) => ({ id: m.id, data: JSON.parse(m.data), at: m.at }));
  }

  /** Waits until `ready()` holds (checked on every message) or fails after `timeoutMs`. */
  async until(ready: () => boolean, timeoutMs = 5_000, what = 'the expected events'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (this.ended) throw new Error(`stream ended before ${what}; got ${JSON.stringify(this.messages)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.controller.abort();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let id: string | undefined;
    let event = '';
    let data: string[] = [];
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline = buffer.search(/\r\n|\r|\n/);
        while (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
          if (line === '') {
            if (id !== undefined) this.lastEventId = id;
            if (data.length > 0) {
              this.messages.push({ id, event: event || 'message', data: data.join('\n'), at: performance.now() });
            }
            id = undefined;
            event = '';
            data = [];
          } else if (line.startsWith(':')) {
            this.comments++;
          } else {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') id = value;
            else if (field === 'event') event = value;
            else if (field === 'data') data.push(value);
          }
          newline = buffer.search(/\r\n|\r|\n/);
        }
        this.wake();
      }
    } catch {
      // Aborted by close(), or the connection went: either way the stream has ended.
    } finally {
      this.ended = true;
      this.wake();
    }
  }
}
