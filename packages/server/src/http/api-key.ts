import type { IncomingHttpHeaders } from 'node:http';

/**
 * The API key a request presents. Comet clients send it raw in Authorization (the Java SDK in
 * Comet-Sdk-Api); Foundry and Cairn clients send `Bearer <key>`. The same keys serve every facade.
 */
export function presentedApiKey(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.authorization ?? headers['comet-sdk-api'];
  const raw = Array.isArray(header) ? header[0] : header;
  const secret = raw?.replace(/^Bearer\s+/i, '').trim();
  return secret || undefined;
}
