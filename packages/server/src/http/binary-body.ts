import type { Readable } from 'node:stream';
import { type TSchema, Type } from '@sinclair/typebox';

/**
 * A raw byte response (octet-stream, zip). It is streamed, so Fastify never serialises it; the
 * schema documents the response and types `reply.send` for the stream.
 */
export const BinaryBody = Type.Unsafe<Readable>({ type: 'string', format: 'binary' });

/**
 * A response in the given media types: Fastify's per-media-type form (it serialises by the
 * reply's Content-Type), which the OpenAPI builder emits as the response's `content`.
 */
export function MediaTypes<T extends Record<string, TSchema>>(
  types: T,
): { content: { [K in keyof T]: { schema: T[K] } } } {
  return {
    content: Object.fromEntries(Object.entries(types).map(([type, schema]) => [type, { schema }])) as {
      [K in keyof T]: { schema: T[K] };
    },
  };
}

/** A stored file served with the media type its name implies: any type. */
export const AnyBytes = MediaTypes({ '*/*': BinaryBody });
/** A zip archive. */
export const ZipBytes = MediaTypes({ 'application/zip': BinaryBody });
/** Bytes served as `application/octet-stream` whatever they hold (Comet's downloads). */
export const OctetStreamBytes = MediaTypes({ 'application/octet-stream': BinaryBody });
