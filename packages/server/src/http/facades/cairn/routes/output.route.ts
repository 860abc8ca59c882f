import {
  ExperimentKeyParams,
  IdempotencyHeaders,
  LogOutputBody,
  NoContent,
  OutputPage,
  OutputQuery,
  Problem,
} from '@cairn/schemas/cairn';
import type { Core } from '../../../../core/core.js';
import type { OutputFilter } from '../../../../core/entities.js';
import { principalOf } from '../../../request-context.js';
import { batchKeyOf, wireOutputLine } from '../cairn.mapper.js';
import type { CairnApp } from '../cairn.plugin.js';
import { decodeQueryCursor, encodeQueryCursor } from '../offset-cursor.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 429: Problem, 503: Problem };

/** Fields of an output cursor: the last line returned, and the count and horizon of `total`. */
const CURSOR_FIELDS = ['after', 'total', 'upTo'] as const;

/** The stdout/stderr of an experiment, as lines in arrival order. */
export function registerOutputRoutes(app: CairnApp, core: Core): void {
  /**
   * GET /api/cairn/v1/experiments/:key/output?cursor=&limit=&stream=&search= — a page of lines in
   * arrival order, filtered and paged in the database; `total` counts the matching lines (up to
   * the last line when the page was read). `seq` is the line's position in the whole output.
   */
  app.get(
    '/experiments/:key/output',
    {
      schema: { params: ExperimentKeyParams, querystring: OutputQuery, response: { 200: OutputPage, ...errors } },
    },
    async (request) => {
      const { key } = request.params;
      const { cursor, limit = 1000, stream, search } = request.query;
      const filter: OutputFilter = {};
      if (stream !== undefined) filter.stderr = stream === 'stderr';
      if (search) filter.search = search;
      const query = ['output', key, stream ?? null, search ?? null];
      const position = cursor === undefined ? undefined : decodeQueryCursor(cursor, query, CURSOR_FIELDS);
      const page = await core.experiments.readOutput(principalOf(request), key, {
        filter,
        afterLine: position?.after ?? 0,
        limit,
        ...(position ? { counted: { total: position.total, upToLine: position.upTo } } : {}),
      });
      const last = page.lines[page.lines.length - 1];
      return {
        items: page.lines.map(wireOutputLine),
        nextCursor:
          page.hasMore && last
            ? encodeQueryCursor({ after: last.line, total: page.total, upTo: page.upToLine }, query)
            : null,
        total: page.total,
      };
    },
  );

  /**
   * POST /api/cairn/v1/experiments/:key/output — `{ lines: [{ text, stderr?, context?, timestamp? }] }`
   * appended in order (a missing timestamp is the server's time). Exactly once under an
   * Idempotency-Key: a replay answers 204 and appends nothing.
   */
  app.post(
    '/experiments/:key/output',
    {
      schema: {
        params: ExperimentKeyParams,
        headers: IdempotencyHeaders,
        body: LogOutputBody,
        response: { 204: NoContent, ...errors },
      },
    },
    async (request, reply) => {
      await core.experiments.logOutput(
        principalOf(request),
        request.params.key,
        request.body.lines.map((line) => ({
          text: line.text,
          stderr: line.stderr ?? false,
          context: line.context ?? null,
          timestamp: line.timestamp ?? null,
        })),
        batchKeyOf('cairn-output', request.headers),
      );
      return reply.code(204).send(null);
    },
  );
}
