import { Type } from '@sinclair/typebox';

/** The webhook delivery log (read-only), for a workspace's members and administrators. */

export const DeliveryStatus = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]);

export const WebhookDeliveriesQuery = Type.Object({
  workspaceName: Type.String({ minLength: 1 }),
  status: Type.Optional(DeliveryStatus),
  /** Newest first; 100 unless given. */
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
});

const NullableInteger = Type.Unsafe<number | null>({ type: ['integer', 'null'] });
const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });

/** One event to one URL. Configured header values are not shown: they are often secrets. */
export const WebhookDeliveryRow = Type.Object({
  id: Type.String(),
  event: Type.String(),
  url: Type.String(),
  status: DeliveryStatus,
  attempts: Type.Integer(),
  /** HTTP status of the last attempt; null when it got no response. */
  lastStatus: NullableInteger,
  lastError: NullableString,
  /** Epoch ms of the next attempt; null once delivered or given up. */
  nextAttemptAt: NullableInteger,
  deliveredAt: NullableInteger,
  createdAt: Type.Integer(),
  /** The JSON body POSTed. */
  payload: Type.Object({
    workspaceName: Type.String(),
    registryModelName: Type.String(),
    version: Type.String(),
    stages: Type.Array(Type.String()),
    event: Type.String(),
    stage: NullableString,
    registryModelId: Type.String(),
    registryModelItemId: Type.String(),
    userName: Type.String(),
    timestamp: Type.Integer(),
  }),
});

export const WebhookDeliveriesResponse = Type.Object({ deliveries: Type.Array(WebhookDeliveryRow) });
