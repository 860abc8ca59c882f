import type { TSchema } from '@sinclair/typebox';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The request body as the OpenAPI document states it, for a route that reads its body itself
     * (multipart uploads, which @fastify/multipart streams part by part, and raw byte streams):
     * Fastify validates nothing against it, so the route must enforce what it states.
     */
    documentedBody?: DocumentedBody;
  }
}

/** A request body by media type, in Fastify's per-media-type form (what the OpenAPI builder reads). */
export interface DocumentedBody {
  content: Record<string, { schema: TSchema }>;
}

/** A `multipart/form-data` body with these parts (`parts.required`: the parts it must have). */
export function MultipartBody(parts: TSchema): DocumentedBody {
  return { content: { 'multipart/form-data': { schema: parts } } };
}

/** A raw body in any of these media types. */
export function RawBody(types: Record<string, TSchema>): DocumentedBody {
  return { content: Object.fromEntries(Object.entries(types).map(([type, schema]) => [type, { schema }])) };
}
