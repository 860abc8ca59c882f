import type { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';

/**
 * A raw byte response (octet-stream, zip). It is streamed, so Fastify never serialises it; the
 * schema documents the response and types `reply.send` for the stream.
 */
export const BinaryBody = Type.Unsafe<Readable>({ type: 'string', format: 'binary' });
