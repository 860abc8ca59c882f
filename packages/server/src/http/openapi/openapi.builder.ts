import type { FastifyInstance, RouteOptions } from 'fastify';

/** One OpenAPI 3.1 document per facade, generated from the very schemas that validate requests. */
export interface OpenApiFacade {
  title: string;
  description: string;
  /** Routes whose URL starts with this prefix belong to the facade (the prefix is kept in paths). */
  prefixes: string[];
  /** Routes under these prefixes are left out even when a prefix above takes them in (aliases). */
  excludePrefixes?: string[];
}

interface CollectedRoute {
  method: string;
  url: string;
  schema: RouteOptions['schema'];
}

const collected = new WeakMap<FastifyInstance, CollectedRoute[]>();

/** Call before routes are registered: remembers every route with its schema. */
export function collectRoutes(app: FastifyInstance): void {
  const routes: CollectedRoute[] = [];
  collected.set(app, routes);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routes.push({ method: method.toLowerCase(), url: route.url, schema: route.schema });
    }
  });
}

type JsonObject = Record<string, unknown>;

export function buildOpenApiDocument(app: FastifyInstance, facade: OpenApiFacade): JsonObject {
  const routes = (collected.get(app) ?? [])
    .filter((r) => facade.prefixes.some((p) => r.url.startsWith(p)))
    .filter((r) => !facade.excludePrefixes?.some((p) => r.url.startsWith(p)))
    .sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method));
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const operation: JsonObject = { operationId: `${route.method} ${path}` };
    const schema = (route.schema ?? {}) as JsonObject;
    const parameters = [
      ...toParameters(schema.querystring as JsonObject | undefined, 'query'),
      ...toParameters(schema.params as JsonObject | undefined, 'path'),
    ];
    if (parameters.length > 0) operation.parameters = parameters;
    if (schema.body) operation.requestBody = { content: requestContent(schema.body as JsonObject) };
    const responses: JsonObject = {};
    for (const [status, body] of Object.entries((schema.response ?? {}) as JsonObject)) {
      responses[status] = { description: status, content: { 'application/json': { schema: plain(body) } } };
    }
    if (Object.keys(responses).length === 0) responses['200'] = { description: '200' };
    operation.responses = responses;
    paths[path] ??= {};
    (paths[path] as Record<string, JsonObject>)[route.method] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: facade.title, version: '0.1.0', description: facade.description },
    paths,
  };
}

/** A body schema, or Fastify's per-media-type form `{ content: { [type]: { schema } } }`. */
function requestContent(body: JsonObject): JsonObject {
  const byType = body.content as Record<string, { schema: unknown }> | undefined;
  if (!byType || body.type !== undefined) return { 'application/json': { schema: plain(body) } };
  return Object.fromEntries(Object.entries(byType).map(([type, entry]) => [type, { schema: plain(entry.schema) }]));
}

function toParameters(schema: JsonObject | undefined, location: 'query' | 'path'): JsonObject[] {
  if (!schema) return [];
  const properties = (schema.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || required.has(name),
    schema: plain(property),
  }));
}

/** TypeBox schemas carry symbol keys; JSON round-tripping keeps exactly the JSON Schema. */
function plain(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema));
}
