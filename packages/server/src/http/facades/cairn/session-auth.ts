import cookie from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from '../../../core/core.js';
import { PermissionDeniedError, UnauthenticatedError } from '../../../core/errors.js';
import { presentedApiKey } from '../../api-key.js';
import type { CairnApp } from './cairn.plugin.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route needs no caller (POST /sessions, which is how a browser becomes one). */
    anonymous?: boolean;
  }
  interface FastifyRequest {
    /** The session cookie's secret, when the request was authenticated by it. */
    sessionSecret?: string;
  }
}

export const SESSION_COOKIE = 'cairn_session';

/** Methods a page of another site can make a browser send with its cookies without consequence. */
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** Writes and clears the session cookie: HttpOnly, SameSite=Strict, Secure when served over https. */
export class SessionCookie {
  private readonly secure: boolean;

  constructor(publicUrl: string) {
    this.secure = new URL(publicUrl).protocol === 'https:';
  }

  set(reply: FastifyReply, secret: string, maxAgeSeconds: number): void {
    reply.setCookie(SESSION_COOKIE, secret, { ...this.attributes(), maxAge: maxAgeSeconds });
  }

  clear(reply: FastifyReply): void {
    reply.clearCookie(SESSION_COOKIE, this.attributes());
  }

  private attributes() {
    return { httpOnly: true, sameSite: 'strict', path: '/', secure: this.secure } as const;
  }
}

/**
 * Authentication of Cairn's API: `Authorization` (an API key) when present, else the session
 * cookie. Cookie requests other than GET and HEAD must come from this server's own pages: the
 * browser's Origin, when sent, must be this server's, and X-CSRF-Token must be the session's.
 * SameSite=Strict already keeps the cookie off other sites' requests; the checks hold where it
 * does not (old browsers, a sibling subdomain counting as the same site).
 */
export async function registerSessionAuth(app: CairnApp, core: Core, publicUrl: string): Promise<void> {
  const publicOrigin = new URL(publicUrl).origin;
  await app.register(cookie);
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.anonymous) {
      // Nothing to steal here, but a foreign page must not sign a browser into its own account.
      refuseForeignOrigin(request, publicOrigin);
      return;
    }
    const apiKey = presentedApiKey(request.headers);
    const secret = apiKey === undefined ? request.cookies[SESSION_COOKIE] : undefined;
    if (!secret) {
      request.principal = await core.auth.authenticate(apiKey);
      return;
    }
    request.principal = await core.sessions.authenticate(secret);
    request.sessionSecret = secret;
    if (SAFE_METHODS.has(request.method)) return;
    refuseForeignOrigin(request, publicOrigin);
    const presented = request.headers['x-csrf-token'];
    if (!core.sessions.verifyCsrfToken(secret, typeof presented === 'string' ? presented : undefined)) {
      throw new PermissionDeniedError(
        'missing or wrong X-CSRF-Token: requests other than GET and HEAD made with the session cookie need the csrfToken of the session',
      );
    }
  });
}

/** The session secret of a request authenticated by its cookie (routes about the session itself). */
export function sessionSecretOf(request: FastifyRequest): string {
  if (request.sessionSecret === undefined) {
    throw new UnauthenticatedError('no session: this request was not made with a session cookie');
  }
  return request.sessionSecret;
}

/**
 * A browser names the page's origin in `Origin` on every cross-origin request and on same-origin
 * ones other than GET and HEAD. Ours is the public URL's, or the one of the Host asked for (a
 * server reached under another name than CAIRN_PUBLIC_URL, e.g. on localhost).
 */
function refuseForeignOrigin(request: FastifyRequest, publicOrigin: string): void {
  const origin = request.headers.origin;
  if (origin === undefined || origin === publicOrigin) return;
  const host = hostOf(origin);
  if (host !== undefined && host === request.headers.host) return;
  throw new PermissionDeniedError(`cross-origin request refused: Origin ${origin} is not this server's`);
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    // `Origin: null` (sandboxed frames, file: pages) and garbage belong to nobody.
    return undefined;
  }
}
