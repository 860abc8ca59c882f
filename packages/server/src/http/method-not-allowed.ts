import type { FastifyInstance } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';

/**
 * A request for a path some route serves, with a method none of them does (RFC 9110 §15.5.6).
 * Each facade's error handler answers it in its own format with status 405; the `Allow` header
 * is already on the reply.
 */
export class MethodNotAllowedError extends Error {
  readonly statusCode = 405;
  readonly code = 'CAIRN_METHOD_NOT_ALLOWED';

  constructor(
    method: string,
    readonly allow: readonly string[],
  ) {
    super(`method ${method} is not allowed here; allowed: ${allow.join(', ')}`);
  }
}

function noop(): void {}

/**
 * Answers 405 with `Allow` instead of 404 when the path is known and the method is not. Call
 * before routes are registered: it mirrors every route into a router of its own (Fastify's is not
 * exposed), and checks, for a request that matched no route, which methods would have matched it.
 * Runs as the first onRequest hook, so before authentication and before a body is parsed (a
 * `QUERY` without a media type must not be refused for that). HEAD is allowed wherever GET is
 * (Fastify serves it); OPTIONS is not served, so it too gets the 405 and the list.
 */
export function answerUndeclaredMethods(app: FastifyInstance): void {
  const router = FindMyWay();
  const methods = new Set<HTTPMethod>();
  app.addHook('onRoute', (route) => {
    for (const given of Array.isArray(route.method) ? route.method : [route.method]) {
      const method = given.toUpperCase() as HTTPMethod;
      if (router.hasRoute(method, route.url)) continue;
      router.on(method, route.url, noop, { url: route.url });
      methods.add(method);
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const path = request.url.split('?', 1)[0] ?? '/';
    const matches = [...methods].flatMap((method) => {
      const found = router.find(method, path);
      return found ? [{ method, url: (found.store as { url: string }).url }] : [];
    });
    // `…/experiments/search` also matches `…/experiments/:id` with another method: the resource is
    // the most specific route that matches (the fewest parameters), and Allow lists its methods.
    const specificity = (url: string) => (url.match(/[:*]/g) ?? []).length;
    const best = Math.min(...matches.map((match) => specificity(match.url)));
    const allow = matches
      .filter((match) => specificity(match.url) === best)
      .map((match) => match.method)
      .sort();
    if (allow.length === 0 || allow.includes(request.method as HTTPMethod)) return;
    reply.header('allow', allow.join(', '));
    throw new MethodNotAllowedError(request.method, allow);
  });
}
