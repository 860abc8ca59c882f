import {
  ExperimentTableBody,
  ExperimentTableParams,
  ExperimentTableQuery,
  ExperimentTableResponse,
  KeyCatalogueQuery,
  KeyCatalogueResponse,
  Problem,
} from '@cairn/schemas/cairn';
import type { Core } from '../../../../core/core.js';
import type { TablePage, TableQuery, TableValue } from '../../../../core/experiment-table.service.js';
import type { ProjectRef } from '../../../../core/projects.service.js';
import { principalOf } from '../../../request-context.js';
import type { CairnApp } from '../cairn.plugin.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };

function projectRef(params: { workspace: string; project: string }): ProjectRef {
  return { workspaceName: params.workspace, projectName: params.project };
}

/** Non-finite metric values travel as strings, as everywhere in this API. */
function wireCell(value: TableValue): TableValue {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

function wirePage(page: TablePage): ExperimentTableResponse {
  return {
    ...page,
    items: page.items.map((row) => ({
      ...row,
      values: Object.fromEntries(Object.entries(row.values).map(([id, value]) => [id, wireCell(value)])),
    })),
  };
}

/** Query-string and body options in the core's terms (absent options stay absent). */
function tableQuery(options: {
  filter?: string;
  sort?: string;
  columns?: string | string[];
  archived?: 'false' | 'true' | 'all';
  cursor?: string;
  limit?: number;
  count?: boolean;
}): TableQuery {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as TableQuery;
}

export function registerExperimentTableRoutes(app: CairnApp, core: Core): void {
  /**
   * GET /api/cairn/v1/workspaces/:workspace/projects/:project/experiments?filter=&sort=&columns=&archived=&cursor=&limit=&count=
   * — the experiment table: filtered, sorted by any column, keyset-paged, only the requested columns.
   */
  app.get(
    '/workspaces/:workspace/projects/:project/experiments',
    {
      schema: {
        params: ExperimentTableParams,
        querystring: ExperimentTableQuery,
        response: { 200: ExperimentTableResponse, ...errors },
      },
    },
    async (request) =>
      wirePage(await core.table.query(principalOf(request), projectRef(request.params), tableQuery(request.query))),
  );

  /**
   * POST /api/cairn/v1/workspaces/:workspace/projects/:project/experiments/query — the same
   * table with the options as a JSON body, for filters and column lists too long for a URL. A
   * read: the read scope suffices.
   */
  app.post(
    '/workspaces/:workspace/projects/:project/experiments/query',
    {
      schema: {
        params: ExperimentTableParams,
        body: ExperimentTableBody,
        response: { 200: ExperimentTableResponse, ...errors, 413: Problem, 415: Problem },
      },
    },
    async (request) =>
      wirePage(
        await core.table.query(principalOf(request), projectRef(request.params), tableQuery(request.body ?? {})),
      ),
  );

  /**
   * GET /api/cairn/v1/workspaces/:workspace/projects/:project/keys?source=&search=&cursor=&limit=
   * — the project's key catalogue (metrics, params, others, tags, system fields) with how many
   * experiments have each key, by source then name, paged and searchable.
   */
  app.get(
    '/workspaces/:workspace/projects/:project/keys',
    {
      schema: {
        params: ExperimentTableParams,
        querystring: KeyCatalogueQuery,
        response: { 200: KeyCatalogueResponse, ...errors },
      },
    },
    async (request) => {
      const { source, search, cursor, limit } = request.query;
      return core.table.keys(principalOf(request), projectRef(request.params), {
        ...(source === undefined ? {} : { source }),
        ...(search === undefined ? {} : { search }),
        ...(cursor === undefined ? {} : { cursor }),
        ...(limit === undefined ? {} : { limit }),
      });
    },
  );
}
