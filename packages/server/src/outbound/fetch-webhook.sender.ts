import type { WebhookRequest, WebhookSender } from '../core/webhook-sender.port.js';

/**
 * Webhook POSTs over Node's global fetch. One attempt, bounded by `timeoutMillis` (connect, send
 * and the response headers together), no redirects followed: a 3xx is an answer the dispatcher
 * counts as a failure rather than a reason to POST an event somewhere else.
 */
export class FetchWebhookSender implements WebhookSender {
  constructor(private readonly timeoutMillis: number) {}

  async send(request: WebhookRequest, signal: AbortSignal): Promise<{ status: number }> {
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
      const response = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        redirect: 'manual',
        signal: controller.signal,
      });
      // The body is not needed; cancelling it frees the connection at once.
      await response.body?.cancel().catch(() => {});
      return { status: response.status };
    } catch (error) {
      if (timedOut) throw new Error(`no response within ${this.timeoutMillis} ms`);
      throw new Error(describe(error));
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
  }
}

/** fetch reports "fetch failed" and hides the reason (ECONNREFUSED, a DNS error) in `cause`. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return error.message;
}
