import type { IncomingHttpHeaders } from 'node:http';

/**
 * The API key a request presents. Comet clients send it raw in Authorization (the Java SDK in
 * Comet-Sdk-Api); Foundry, Cairn and MLflow clients send `Bearer <key>` (MLFLOW_TRACKING_TOKEN);
 * MLflow clients may send Basic credentials instead (MLFLOW_TRACKING_USERNAME/PASSWORD), whose
 * password is the key (the user name alone when no password is set). The same keys serve every
 * facade.
 */
export function presentedApiKey(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.authorization ?? headers['comet-sdk-api'];
  const raw = (Array.isArray(header) ? header[0] : header)?.trim();
  const basic = raw && /^Basic\s+(\S+)$/i.exec(raw);
  if (basic) {
    const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const secret = colon < 0 ? decoded : decoded.slice(colon + 1) || decoded.slice(0, colon);
    return secret.trim() || undefined;
  }
  const secret = raw?.replace(/^Bearer\s+/i, '').trim();
  return secret || undefined;
}
