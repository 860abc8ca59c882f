import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from '../shared/nullable.js';

/**
 * Browser sessions of the web UI: an API key or a one-time sign-in token is traded for an
 * HttpOnly session cookie (docs/api/cairn.md, "Browser sessions").
 */

export const OpenSessionBody = Type.Union([
  Type.Object({ apiKey: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
  Type.Object({ signInToken: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
]);
export type OpenSessionBody = Static<typeof OpenSessionBody>;

export const Session = Type.Object({
  user: Type.Object({
    id: Type.String(),
    name: Type.String(),
    email: Nullable(Type.String()),
    isAdmin: Type.Boolean(),
  }),
  scopes: Type.Array(Type.String()),
  /** Send as `X-CSRF-Token` with every request other than GET and HEAD made with the cookie. */
  csrfToken: Type.String(),
  /** Epoch ms. */
  expiresAt: Type.Integer(),
});
export type Session = Static<typeof Session>;
