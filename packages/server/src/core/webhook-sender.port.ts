/** One webhook POST: the body is JSON text, the headers are complete (content type included). */
export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * What one send came to: the receiver's status, or a refusal to connect at all because the URL
 * (or a redirect) leads to an address webhooks may not reach; `refused` says which and why.
 */
export type WebhookSendResult = { status: number } | { refused: string };

/**
 * Outbound HTTP for webhooks, kept outside the core (src/outbound/). `send` POSTs once, with no
 * retry (an implementation may follow a few redirects that keep the method, each hop held to the
 * same address rules), and resolves with the response status whatever it is (the dispatcher
 * decides what counts as delivered) or with a refusal. It rejects when no response arrived:
 * network error, its own timeout, or `signal` aborted.
 */
export interface WebhookSender {
  send(request: WebhookRequest, signal: AbortSignal): Promise<WebhookSendResult>;
}
