import type { HttpClient, RequestOptions } from '../core/http.js';
import { PagePromise } from '../core/pagination.js';
import type { AuditEvent, AuditEventList, AuditEventListQuery } from '../types.js';

/** `…/admin/audit-events`: the audit log of administrative actions, for administrators. */
export interface AuditResource {
  /**
   * Events newest first, filtered by `since` (epoch ms), `actor` and `action`; `for await` for
   * all of them. A `PermissionDeniedError` (403) unless the key is an administrator's with the
   * `admin` scope.
   */
  list(params?: Omit<AuditEventListQuery, 'cursor'>, options?: RequestOptions): PagePromise<AuditEvent>;
}

export function auditResource(http: HttpClient): AuditResource {
  return {
    list(params = {}, options) {
      return new PagePromise((cursor) =>
        http.request<AuditEventList>(
          {
            method: 'GET',
            path: '/admin/audit-events',
            query: { since: params.since, actor: params.actor, action: params.action, limit: params.limit, cursor },
          },
          options,
        ),
      );
    },
  };
}
