import {
  AddTagsBody,
  ExperimentKeyParams,
  IdempotencyHeaders,
  LoggedValueList,
  LoggedValuesQuery,
  LogValuesBody,
  NoContent,
  Problem,
  TagList,
  TagParams,
} from '@cairn/schemas/cairn';
import type { Core } from '../../../../core/core.js';
import type { ValueKind } from '../../../../core/entities.js';
import type { ClientStream } from '../../../../core/store.port.js';
import { principalOf } from '../../../request-context.js';
import { batchKeyOf, flattenValues, wireLoggedValue } from '../cairn.mapper.js';
import type { CairnApp } from '../cairn.plugin.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 429: Problem, 503: Problem };

/** Parameters, others and tags of one experiment. */
export function registerValueRoutes(app: CairnApp, core: Core): void {
  const kinds: { path: string; kind: ValueKind; stream: ClientStream }[] = [
    { path: 'params', kind: 'param', stream: 'cairn-params' },
    { path: 'others', kind: 'other', stream: 'cairn-others' },
  ];
  for (const { path, kind, stream } of kinds) {
    /**
     * GET /api/cairn/v1/experiments/:key/params (and /others) — the current value of each name,
     * by name; `history=true`: every logged value in logging order.
     */
    app.get(
      `/experiments/:key/${path}`,
      {
        schema: {
          params: ExperimentKeyParams,
          querystring: LoggedValuesQuery,
          response: { 200: LoggedValueList, ...errors },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const { key } = request.params;
        if (request.query.history) {
          return { items: (await core.experiments.valueHistory(principal, key, kind)).map(wireLoggedValue) };
        }
        // Summaries come by name (byte order, as the store lists names).
        const summaries = await core.experiments.summarizeValues(principal, key, kind);
        return { items: summaries.map((s) => wireLoggedValue(s.current)) };
      },
    );

    /**
     * POST /api/cairn/v1/experiments/:key/params (and /others) — `{ values, step?, timestamp?, context? }`;
     * nested objects are flattened with ".", arrays stored as JSON text, null as "". Exactly once
     * under an Idempotency-Key: a replay answers 204 and stores nothing.
     */
    app.post(
      `/experiments/:key/${path}`,
      {
        schema: {
          params: ExperimentKeyParams,
          headers: IdempotencyHeaders,
          body: LogValuesBody,
          response: { 204: NoContent, ...errors },
        },
      },
      async (request, reply) => {
        const { values, step, timestamp, context } = request.body;
        const inputs = flattenValues(values).map((entry) => ({
          ...entry,
          step: step ?? null,
          timestamp: timestamp ?? null,
          context: context ?? null,
        }));
        const batchKey = batchKeyOf(stream, request.headers);
        await core.experiments.logValues(principalOf(request), request.params.key, kind, inputs, {
          ...(batchKey ? { batchKey } : {}),
        });
        return reply.code(204).send(null);
      },
    );
  }

  /** GET /api/cairn/v1/experiments/:key/tags — in the order they were first added. */
  app.get(
    '/experiments/:key/tags',
    { schema: { params: ExperimentKeyParams, response: { 200: TagList, ...errors } } },
    async (request) => ({ tags: await core.experiments.getTags(principalOf(request), request.params.key) }),
  );

  /**
   * POST /api/cairn/v1/experiments/:key/tags — `{ tags }` added as a set; answers the tags after.
   * Exactly once under an Idempotency-Key: a replay adds nothing (a tag removed since stays
   * removed) and answers the experiment's tags.
   */
  app.post(
    '/experiments/:key/tags',
    {
      schema: {
        params: ExperimentKeyParams,
        headers: IdempotencyHeaders,
        body: AddTagsBody,
        response: { 200: TagList, ...errors },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const batchKey = batchKeyOf('cairn-tags', request.headers);
      await core.experiments.addTags(principal, request.params.key, request.body.tags, {
        ...(batchKey ? { batchKey } : {}),
      });
      return { tags: await core.experiments.getTags(principal, request.params.key) };
    },
  );

  /**
   * DELETE /api/cairn/v1/experiments/:key/tags/:tag — answers the tags after. Removing a tag the
   * experiment does not have changes nothing and is not an error, so a retried DELETE succeeds.
   */
  app.delete(
    '/experiments/:key/tags/:tag',
    { schema: { params: TagParams, response: { 200: TagList, ...errors } } },
    async (request) => {
      const principal = principalOf(request);
      await core.experiments.removeTag(principal, request.params.key, request.params.tag);
      return { tags: await core.experiments.getTags(principal, request.params.key) };
    },
  );
}
