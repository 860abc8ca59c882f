import { NoContent, OpenSessionBody, Problem, Session } from '@cairn/schemas/cairn';
import type { Core } from '../../../../core/core.js';
import { wireSession } from '../cairn.mapper.js';
import type { CairnApp } from '../cairn.plugin.js';
import { type SessionCookie, sessionSecretOf } from '../session-auth.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 429: Problem, 503: Problem };

/** Browser sessions of the web UI: an API key or a sign-in token traded for an HttpOnly cookie. */
export function registerSessionRoutes(app: CairnApp, core: Core, cookie: SessionCookie): void {
  /**
   * POST /api/cairn/v1/sessions — `{ apiKey }` or `{ signInToken }`; answers the session and sets
   * its cookie. The only route that needs no authentication.
   */
  app.post(
    '/sessions',
    { config: { anonymous: true }, schema: { body: OpenSessionBody, response: { 201: Session, ...errors } } },
    async (request, reply) => {
      const { secret, session } = await core.sessions.open(request.body);
      cookie.set(reply, secret, Math.floor(core.sessions.ttlMillis / 1000));
      return reply.code(201).send(wireSession(session));
    },
  );

  /** GET /api/cairn/v1/sessions/current — the session of the cookie (401 without a live one). */
  app.get('/sessions/current', { schema: { response: { 200: Session, ...errors } } }, async (request) =>
    wireSession(await core.sessions.current(sessionSecretOf(request))),
  );

  /** DELETE /api/cairn/v1/sessions/current — signs out: the session ends and the cookie is cleared. */
  app.delete('/sessions/current', { schema: { response: { 204: NoContent, ...errors } } }, async (request, reply) => {
    await core.sessions.signOut(sessionSecretOf(request));
    cookie.clear(reply);
    return reply.code(204).send(null);
  });
}
