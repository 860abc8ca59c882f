import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from '../shared/nullable.js';
import { Millis } from '../shared/numbers.js';

/** The caller's own API keys (docs/api/cairn.md, "The caller's API keys"). */

export const ApiKey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** The first characters of the secret, to tell keys apart. */
  prefix: Type.String(),
  scopes: Type.Array(Type.String()),
  createdAt: Type.Integer(),
  lastUsedAt: Nullable(Type.Integer()),
  revokedAt: Nullable(Type.Integer()),
  /** Epoch ms from which the key no longer authenticates; null when it never expires. */
  expiresAt: Nullable(Type.Integer()),
});
export type ApiKey = Static<typeof ApiKey>;

export const ApiKeyList = Type.Object({ items: Type.Array(ApiKey) });
export type ApiKeyList = Static<typeof ApiKeyList>;

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    /** `read`, `write`, `admin`, `api:models-read`; the caller's own scopes when left out. */
    scopes: Type.Optional(
      Type.Array(
        Type.Union([
          Type.Literal('read'),
          Type.Literal('write'),
          Type.Literal('admin'),
          Type.Literal('api:models-read'),
        ]),
        { minItems: 1 },
      ),
    ),
    /** Epoch ms from which the key no longer authenticates (in the future); it never expires when left out. */
    expiresAt: Type.Optional(Millis()),
  },
  { additionalProperties: false },
);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;

/** A new key with its secret: the only time the secret is shown. */
export const CreatedApiKey = Type.Object({ key: ApiKey, secret: Type.String() });
export type CreatedApiKey = Static<typeof CreatedApiKey>;

export const ApiKeyParams = Type.Object({ id: Type.String({ minLength: 1 }) });
