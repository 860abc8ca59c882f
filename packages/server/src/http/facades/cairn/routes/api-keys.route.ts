import { ApiKeyList, ApiKeyParams, CreateApiKeyBody, CreatedApiKey, NoContent, Problem } from '@cairn/schemas/cairn';
import type { Core } from '../../../../core/core.js';
import { principalOf } from '../../../request-context.js';
import { wireApiKey } from '../cairn.mapper.js';
import type { CairnApp } from '../cairn.plugin.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 429: Problem, 503: Problem };

/** The caller's own API keys: list, create (the secret shown once), revoke. */
export function registerApiKeyRoutes(app: CairnApp, core: Core): void {
  /** GET /api/cairn/v1/me/api-keys — newest first, revoked ones included. */
  app.get('/me/api-keys', { schema: { response: { 200: ApiKeyList, ...errors } } }, async (request) => ({
    items: (await core.auth.listOwnKeys(principalOf(request))).map(wireApiKey),
  }));

  /**
   * POST /api/cairn/v1/me/api-keys — scopes default to the caller's; more than those is 403. An
   * `expiresAt` must lie in the future (400); without it the key never expires.
   */
  app.post(
    '/me/api-keys',
    { schema: { body: CreateApiKeyBody, response: { 201: CreatedApiKey, ...errors } } },
    async (request, reply) => {
      const { name, scopes, expiresAt } = request.body;
      const { key, secret } = await core.auth.createOwnKey(
        principalOf(request),
        name,
        scopes,
        { expiresAt: expiresAt ?? null },
        request.id,
      );
      return reply.code(201).send({ key: wireApiKey(key), secret });
    },
  );

  /** DELETE /api/cairn/v1/me/api-keys/:id — revokes the key and its sessions; another user's key is 404. */
  app.delete(
    '/me/api-keys/:id',
    { schema: { params: ApiKeyParams, response: { 204: NoContent, ...errors } } },
    async (request, reply) => {
      await core.auth.revokeOwnKey(principalOf(request), request.params.id, request.id);
      return reply.code(204).send(null);
    },
  );
}
