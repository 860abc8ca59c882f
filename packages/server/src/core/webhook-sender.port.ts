/** One webhook POST: the body is JSON text, the headers are complete (content type included). */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Outbound HTTP for webhooks, kept outside the core (src/outbound/). `send` POSTs once, with no
 * retry and no redirect following, and resolves with the response status whatever it is (the
 * dispatcher decides what counts as delivered). It rejects when no response arrived: network
 * error, its own timeout, or `signal` aborted.
 */
export interface WebhookSender {
  send(request: WebhookRequest, signal: AbortSignal): Promise<{ status: number }>;
}
