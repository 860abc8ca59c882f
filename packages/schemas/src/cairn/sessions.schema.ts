import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from '../shared/nullable.js';

/** `POST /sessions`: an API key, or the token of a one-time sign-in link. */
export const CreateSessionBody = Type.Union([
  Type.Object({ apiKey: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false }),
  Type.Object({ signInToken: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false }),
]);
export type CreateSessionBody = Static<typeof CreateSessionBody>;

/** A browser session: who it is, what it may do, and the token its writes must echo. */
export const Session = Type.Object({
  user: Type.Object({
    id: Type.String(),
    name: Type.String(),
    email: Nullable(Type.String()),
    isAdmin: Type.Boolean(),
  }),
  scopes: Type.Array(Type.String()),
  /** Sent back as `X-CSRF-Token` on every cookie-authenticated request other than GET and HEAD. */
  csrfToken: Type.String(),
  expiresAt: Type.Integer(),
});
export type Session = Static<typeof Session>;

export const ApiKeyInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** The secret's first characters, to tell keys apart. */
  prefix: Type.String(),
  scopes: Type.Array(Type.String()),
  createdAt: Type.Integer(),
  lastUsedAt: Nullable(Type.Integer()),
  revokedAt: Nullable(Type.Integer()),
});
export type ApiKeyInfo = Static<typeof ApiKeyInfo>;

export const ApiKeyList = Type.Object({ items: Type.Array(ApiKeyInfo) });
export type ApiKeyList = Static<typeof ApiKeyList>;

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    scopes: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 16 })),
  },
  { additionalProperties: false },
);
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;

/** The secret is in this answer only; the server keeps its hash. */
export const CreatedApiKey = Type.Object({ key: ApiKeyInfo, secret: Type.String() });
export type CreatedApiKey = Static<typeof CreatedApiKey>;

export const ApiKeyParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
