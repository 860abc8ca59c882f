import { Type } from '@sinclair/typebox';

/*
 * Parts of multipart/form-data uploads. The server reads these bodies part by part as a stream,
 * so nothing validates them against a schema: the routes enforce what these state.
 */

/**
 * The file part of an upload: any bytes, so no `type` (the text of any JSON value is a file too),
 * but one part, never a list of parts. OpenAPI 3.1 spells a file `contentMediaType:
 * application/octet-stream` (3.0's `format: binary`, on which schemathesis 4.32 fails under the
 * uploads' oneOf).
 */
export const FilePart = (description: string) =>
  Type.Unsafe<Uint8Array>({ contentMediaType: 'application/octet-stream', not: { type: 'array' }, description });

/** A part holding JSON text (any JSON document). */
export const JsonTextPart = (description: string) => Type.String({ contentMediaType: 'application/json', description });

/** Characters a remote asset's link may not hold (it becomes a Location header). */
export const RemoteLink = Type.String({ minLength: 1, maxLength: 8192, pattern: '^[^\\u0000-\\u001f\\u007f]*$' });

/**
 * Names no part may have: @fastify/multipart refuses a field named like a property of
 * Object.prototype (`constructor`, `__proto__`, `toString`, …) with 400.
 */
export const PartName = Type.String({
  pattern: `^(?!(?:${Object.getOwnPropertyNames(Object.prototype).join('|')})$)`,
});

/** The multipart plugins' `fields` limit: at most this many parts besides the file. */
export const MAX_FIELD_PARTS = 20;
