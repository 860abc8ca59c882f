import { type Static, type TSchema, Type } from '@sinclair/typebox';

/**
 * A JSON-Schema type list rather than anyOf: Fastify's Ajv coerces types, and under anyOf it
 * coerces into whichever branch it tries first (0, false and "" became null with the null branch
 * first; an explicit null became "" or 0 with it last). With a type list Ajv coerces only when no
 * listed type matches. For schemas that have a `type` (primitives, objects, arrays).
 */
export const Nullable = <T extends TSchema>(schema: T) =>
  Type.Unsafe<Static<T> | null>({ ...schema, type: ['null', schema.type] });
