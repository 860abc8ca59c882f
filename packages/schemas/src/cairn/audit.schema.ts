import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from '../shared/nullable.js';

/** The audit log of administrative actions (docs/api/cairn.md, "The audit log"), for administrators. */

export const AuditAction = Type.Union(
  [
    Type.Literal('store.bootstrap'),
    Type.Literal('user.create'),
    Type.Literal('user.sign-in-link'),
    Type.Literal('workspace.create'),
    Type.Literal('membership.add'),
    Type.Literal('key.create'),
    Type.Literal('key.revoke'),
    Type.Literal('project.delete'),
    Type.Literal('project.trash'),
    Type.Literal('project.restore'),
  ],
  { description: 'What was done' },
);
export type AuditAction = Static<typeof AuditAction>;

export const AuditEventListQuery = Type.Object({
  /** Epoch ms: events at or after it. */
  since: Type.Optional(Type.Integer({ minimum: 0 })),
  /** The actor's name exactly: a user's, or for `cli` events the operating-system user's. */
  actor: Type.Optional(Type.String({ minLength: 1 })),
  action: Type.Optional(AuditAction),
  cursor: Type.Optional(Type.String({ maxLength: 4096 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});
export type AuditEventListQuery = Static<typeof AuditEventListQuery>;

export const AuditEvent = Type.Object({
  /** Increases with every event: the log's order. */
  id: Type.Integer(),
  at: Type.Integer(),
  /** The acting user; null for an operator's `cairn` command or the server itself. */
  actorUserId: Nullable(Type.String()),
  actorName: Type.String(),
  action: AuditAction,
  targetType: Type.Union([
    Type.Literal('user'),
    Type.Literal('workspace'),
    Type.Literal('membership'),
    Type.Literal('api-key'),
    Type.Literal('project'),
  ]),
  targetId: Type.String(),
  targetName: Nullable(Type.String()),
  workspaceId: Nullable(Type.String()),
  workspaceName: Nullable(Type.String()),
  /** Facts of the action (a key's prefix and scopes, how many experiments went); never a secret. */
  details: Type.Record(Type.String(), Type.Unknown()),
  /** `api` (an HTTP API), `cli` (the operator's `cairn` on the store) or `server` (first start). */
  source: Type.Union([Type.Literal('api'), Type.Literal('cli'), Type.Literal('server')]),
  /** The request's `x-request-id` (`api` events): the line to look for in the server's log. */
  requestId: Nullable(Type.String()),
});
export type AuditEvent = Static<typeof AuditEvent>;

/** Newest first. */
export const AuditEventList = Type.Object({
  items: Type.Array(AuditEvent),
  nextCursor: Nullable(Type.String()),
});
export type AuditEventList = Static<typeof AuditEventList>;
