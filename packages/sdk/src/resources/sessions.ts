import type { HttpClient, RequestOptions } from '../core/http.js';
import type { ApiKey, CreateApiKeyBody, CreatedApiKey, OpenSessionBody, Session } from '../types.js';

/**
 * `…/sessions`: browser sessions. A page trades an API key (or a sign-in link's token) for an
 * HttpOnly cookie once; later calls of the same origin carry the cookie, and writes echo
 * `session.csrfToken` in `X-CSRF-Token` (give it in the client's `headers`).
 */
export interface SessionsResource {
  create(body: OpenSessionBody, options?: RequestOptions): Promise<Session>;
  /** The cookie's session; a `AuthenticationError` (401) when there is none. */
  current(options?: RequestOptions): Promise<Session>;
  /** Signs out: the session is revoked and the cookie cleared. */
  delete(options?: RequestOptions): Promise<void>;
}

/** `…/me/api-keys`: the caller's own keys. */
export interface ApiKeysResource {
  /** Newest first, revoked ones included. */
  list(options?: RequestOptions): Promise<ApiKey[]>;
  /** The secret comes back only here. */
  create(body: CreateApiKeyBody, options?: RequestOptions): Promise<CreatedApiKey>;
  revoke(id: string, options?: RequestOptions): Promise<void>;
}

export function sessionsResource(http: HttpClient): SessionsResource {
  return {
    create(body, options) {
      return http.request({ method: 'POST', path: '/sessions', json: body }, options);
    },
    current(options) {
      return http.request({ method: 'GET', path: '/sessions/current' }, options);
    },
    async delete(options) {
      await http.request({ method: 'DELETE', path: '/sessions/current' }, options);
    },
  };
}

export function apiKeysResource(http: HttpClient): ApiKeysResource {
  return {
    async list(options) {
      return (await http.request<{ items: ApiKey[] }>({ method: 'GET', path: '/me/api-keys' }, options)).items;
    },
    create(body, options) {
      return http.request({ method: 'POST', path: '/me/api-keys', json: body }, options);
    },
    async revoke(id, options) {
      await http.request({ method: 'DELETE', path: `/me/api-keys/${encodeURIComponent(id)}` }, options);
    },
  };
}
