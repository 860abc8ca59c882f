import { Type } from '@sinclair/typebox';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { StatedRule } from './stated-rules.js';

/** One OpenAPI 3.1 document per facade, generated from the very schemas that validate requests. */
export interface OpenApiFacade {
  title: string;
  description: string;
  /** Routes whose URL starts with this prefix belong to the facade (the prefix is kept in paths). */
  prefixes: string[];
  /** Routes under these prefixes are left out even when a prefix above takes them in (aliases). */
  excludePrefixes?: string[];
  /** The facade's error body and its media type: every error response is documented with them. */
  errors: { schema: unknown; mediaType: string };
  /** `components.securitySchemes`: how the facade authenticates. */
  securitySchemes: Record<string, JsonObject>;
  /**
   * The security requirements of a route (any one of them suffices); `[]` for a public route.
   * Default: any one of the document's schemes.
   */
  securityOf?(route: DocumentedRoute): Record<string, string[]>[] | undefined;
  /** Rules no schema can state, added to the 400 response of the operations they apply to. */
  statedRules?: StatedRule[];
}

/** What a facade may look at to decide a route's security. */
export interface DocumentedRoute {
  method: string;
  url: string;
  config: Record<string, unknown>;
  schema?: RouteOptions['schema'];
}

interface CollectedRoute extends DocumentedRoute {
  schema: RouteOptions['schema'];
}

/**
 * Errors any route can answer besides those it declares: 400 (a request its schema refuses), 401
 * and 403 (authentication and scopes, not on public routes), 404 (what it names is not there),
 * 429 and 503 (overload and shutdown, with Retry-After); routes that take a body also 413 (over
 * the body limit) and 415 (a media type they do not take).
 */
const COMMON_ERRORS = ['400', '404', '429', '503'];
const AUTH_ERRORS = ['401', '403'];
const BODY_ERRORS = ['413', '415'];

/** Fastify's error body for what it refuses before routing (431: request line and headers too large). */
const TransportError = Type.Object(
  { error: Type.String(), message: Type.String(), statusCode: Type.Integer() },
  { $id: 'TransportError' },
);

const collected = new WeakMap<FastifyInstance, CollectedRoute[]>();

/** Call before routes are registered: remembers every route with its schema. */
export function collectRoutes(app: FastifyInstance): void {
  const routes: CollectedRoute[] = [];
  collected.set(app, routes);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({
        method: method.toLowerCase(),
        url: route.url,
        schema: route.schema,
        config: (route.config ?? {}) as Record<string, unknown>,
      });
    }
  });
}

export type JsonObject = Record<string, unknown>;

export function buildOpenApiDocument(app: FastifyInstance, facade: OpenApiFacade): JsonObject {
  const routes = (collected.get(app) ?? [])
    .filter((r) => facade.prefixes.some((p) => r.url.startsWith(p)))
    .filter((r) => !facade.excludePrefixes?.some((p) => r.url.startsWith(p)))
    // `hide` (the @fastify/swagger convention): a compatibility shim, not part of the contract.
    .filter((r) => !(r.schema as JsonObject | undefined)?.hide)
    .sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method));
  const components = new Components();
  const errorSchema = components.take(facade.errors.schema);
  const anyScheme = Object.keys(facade.securitySchemes).map((name) => ({ [name]: [] }));
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{path}');
    const operation: JsonObject = { operationId: `${route.method} ${path}` };
    const schema = (route.schema ?? {}) as JsonObject;
    const parameters = [
      ...toParameters(components, schema.querystring as JsonObject | undefined, 'query'),
      ...toParameters(components, schema.params as JsonObject | undefined, 'path'),
    ];
    if (route.url.endsWith('*')) {
      // The wildcard's own schema when the route states one (`params: {'*': …}`).
      const wildcard = ((schema.params as JsonObject | undefined)?.properties as JsonObject | undefined)?.['*'];
      const pathSchema = wildcard ? components.take(wildcard as JsonObject) : { type: 'string', minLength: 1 };
      parameters.push({ name: 'path', in: 'path', required: true, schema: pathSchema });
    }
    if (parameters.length > 0) operation.parameters = parameters;
    // A route that reads its body itself (multipart, raw streams) states it in `documentedBody`.
    const body = (schema.body ?? route.config.documentedBody) as JsonObject | undefined;
    if (body) operation.requestBody = { required: true, content: content(components, body) };
    const security = facade.securityOf?.(route) ?? anyScheme;
    operation.security = security;
    const responses: JsonObject = {};
    for (const [status, body] of Object.entries((schema.response ?? {}) as JsonObject)) {
      // 204 and 304 carry no body, so no media type either.
      if (status === '204' || status === '304') {
        responses[status] = { description: status };
        continue;
      }
      responses[status] = {
        description: status,
        content:
          Number(status) >= 400 ? errorContent(facade, components, body) : content(components, body as JsonObject),
      };
    }
    if (!Object.keys(responses).some((status) => status.startsWith('2'))) responses['200'] = { description: '200' };
    const implied = [...COMMON_ERRORS, ...(security.length > 0 ? AUTH_ERRORS : []), ...(body ? BODY_ERRORS : [])];
    for (const status of implied) {
      responses[status] ??= {
        description: status,
        content: { [facade.errors.mediaType]: { schema: errorSchema } },
      };
    }
    // Node answers a request line and headers over its 16 KiB limit before any route runs, in
    // Fastify's own error body: every operation can receive it.
    responses['431'] ??= {
      description: '431',
      content: { 'application/json': { schema: components.take(TransportError) } },
    };
    const rules = (facade.statedRules ?? []).filter((rule) => appliesTo(rule, operation, schema));
    if (rules.length > 0) {
      responses['400'] = {
        ...(responses['400'] as JsonObject),
        description: `400: the request breaks its schema or one of these rules: ${rules.map((r) => r.rule).join('; ')}.`,
      };
      operation['x-stated-rules'] = rules.map(({ rule, refusal, status }) => ({
        rule,
        refusal,
        ...(status ? { status } : {}),
      }));
    }
    operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
    paths[path] ??= {};
    (paths[path] as Record<string, JsonObject>)[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: facade.title, version: '0.1.0', description: facade.description },
    paths,
    components: { schemas: components.schemas, securitySchemes: facade.securitySchemes },
  };
}

/** Whether a stated rule applies to an operation: named by it, or by a parameter or body property. */
function appliesTo(rule: StatedRule, operation: JsonObject, schema: JsonObject): boolean {
  const [method, path] = String(operation.operationId).split(' ');
  if (rule.operations?.includes(`${method?.toUpperCase()} ${path}`)) return true;
  if (rule.jsonBody) return JSON.stringify(operation.requestBody ?? {}).includes('"application/json"');
  if (rule.parameter === undefined) return false;
  const names = ((operation.parameters ?? []) as { name: string }[]).map((p) => p.name);
  const body = schema.body as JsonObject | undefined;
  const bodyProperties = (body?.properties ?? {}) as JsonObject;
  return names.includes(rule.parameter) || rule.parameter in bodyProperties;
}

/**
 * Schemas named by `$id` (TypeBox's shared and recursive schemas) go to `components.schemas`
 * once, and every use of them becomes a `$ref` there: bare `$ref: "Name"` would not resolve
 * inside an OpenAPI document.
 */
class Components {
  readonly schemas: Record<string, unknown> = {};

  /** A plain JSON copy of `schema` with its named parts moved to the components. */
  take(schema: unknown): unknown {
    return this.walk(JSON.parse(JSON.stringify(schema)));
  }

  private walk(node: unknown): unknown {
    if (Array.isArray(node)) return node.map((item) => this.walk(item));
    if (node === null || typeof node !== 'object') return node;
    const { $id, ...rest } = node as JsonObject;
    const walked: JsonObject = {};
    for (const [key, value] of Object.entries(rest)) {
      walked[key] =
        key === '$ref' && typeof value === 'string' && !value.startsWith('#') ? ref(value) : this.walk(value);
    }
    if (typeof $id !== 'string') return walked;
    this.schemas[$id] ??= walked;
    return { $ref: ref($id) };
  }
}

function ref(name: string): string {
  return `#/components/schemas/${name}`;
}

/** An error response: its declared schema (or the facade's), in the facade's error media type. */
function errorContent(facade: OpenApiFacade, components: Components, body: unknown): JsonObject {
  const byType = (body as JsonObject).content as Record<string, { schema: unknown }> | undefined;
  if (byType && (body as JsonObject).type === undefined) return content(components, body as JsonObject);
  return { [facade.errors.mediaType]: { schema: components.take(body) } };
}

/** A body schema (JSON), or Fastify's per-media-type form `{ content: { [type]: { schema } } }`. */
function content(components: Components, body: JsonObject): JsonObject {
  const byType = body.content as Record<string, { schema: unknown }> | undefined;
  if (!byType || body.type !== undefined) return { 'application/json': { schema: components.take(body) } };
  return Object.fromEntries(
    Object.entries(byType).map(([type, entry]) => [type, { schema: components.take(entry.schema) }]),
  );
}

function toParameters(
  components: Components,
  schema: JsonObject | undefined,
  location: 'query' | 'path',
): JsonObject[] {
  if (!schema) return [];
  const properties = (schema.properties ?? {}) as Record<string, JsonObject>;
  // Parameters cannot state "one of these" (`anyOf` of required names): such a rule is stated in
  // words (stated-rules.ts), and only plainly required names are required parameters.
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties)
    .filter(([name]) => name !== '*')
    .map(([name, property]) => ({
      name,
      in: location,
      required: location === 'path' || required.has(name),
      schema: components.take(property),
    }));
}
