import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

type AjvOptions = { customOptions: AjvCompiler.Options };
/** What Fastify hands a validator compiler at run time (the package's typings say only `schema`). */
type RouteSchema = { schema: unknown; method: string; url: string; httpPart?: string };
type Compile = (route: RouteSchema) => unknown;
type BuildValidator = NonNullable<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']
>;

/**
 * Querystring, path parameters and headers are strings on the wire, so their validator coerces
 * ("5" → 5, "true" → true, a lone value → a one-element array). A JSON body has real types: the
 * same coercion there would accept `false` for a string or "1" for a number, which the documents
 * do not allow. Bodies get a validator without coercion; where a facade accepts a value in two
 * spellings (comet_ml's numeric strings) its schema says so with a type list.
 */
export function bodyWithoutCoercion(ajv: AjvOptions): Pick<FastifyServerOptions, 'ajv' | 'schemaController'> {
  const pool = AjvCompiler();
  // Fastify hands back the `ajv` option given here; the closure's copy keeps its precise type.
  const buildValidator = (externalSchemas: Parameters<typeof pool>[0]): Compile => {
    const wire = pool(externalSchemas, { customOptions: ajv.customOptions }) as unknown as Compile;
    const json = pool(externalSchemas, {
      customOptions: { ...ajv.customOptions, coerceTypes: false },
    }) as unknown as Compile;
    return (route) => (route.httpPart === 'body' ? json(route) : wire(route));
  };
  return {
    ajv,
    schemaController: { compilersFactory: { buildValidator: buildValidator as unknown as BuildValidator } },
  };
}
