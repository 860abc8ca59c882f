import { AuditEventList, AuditEventListQuery, Problem } from '@cairn/schemas/cairn';
import type { Core } from '../../../../core/core.js';
import { principalOf } from '../../../request-context.js';
import type { CairnApp } from '../cairn.plugin.js';
import { decodeQueryCursor, encodeQueryCursor } from '../offset-cursor.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 429: Problem, 503: Problem };

/** The audit log of administrative actions, for administrators. */
export function registerAuditRoutes(app: CairnApp, core: Core): void {
  /**
   * GET /api/cairn/v1/admin/audit-events?since=&actor=&action=&cursor=&limit= — newest first;
   * 403 unless the caller is an administrator with the `admin` scope. The cursor holds the last
   * event's id: events written meanwhile do not shift the pages that follow.
   */
  app.get(
    '/admin/audit-events',
    { schema: { querystring: AuditEventListQuery, response: { 200: AuditEventList, ...errors } } },
    async (request) => {
      const { since, actor, action, cursor, limit = 100 } = request.query;
      const query = ['audit-events', since, actor, action];
      const beforeId = cursor === undefined ? undefined : decodeQueryCursor(cursor, query, ['b']).b;
      const page = await core.audit.list(principalOf(request), {
        limit,
        ...(since === undefined ? {} : { since }),
        ...(actor === undefined ? {} : { actor }),
        ...(action === undefined ? {} : { action }),
        ...(beforeId === undefined ? {} : { beforeId }),
      });
      return {
        items: page.events,
        nextCursor: page.nextBeforeId === null ? null : encodeQueryCursor({ b: page.nextBeforeId }, query),
      };
    },
  );
}
