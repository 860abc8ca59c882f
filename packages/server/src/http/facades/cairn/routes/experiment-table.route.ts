import { Readable } from 'node:stream';
import {
  ExperimentExportQuery,
  ExperimentTableBody,
  ExperimentTableParams,
  ExperimentTableQuery,
  ExperimentTableResponse,
  KeyCatalogueQuery,
  KeyCatalogueResponse,
  Problem,
} from '@cairn/schemas/cairn';
import type { Core } from '../../../../core/core.js';
import type { TableExport, TablePage, TableQuery, TableValue } from '../../../../core/experiment-table.service.js';
import type { ProjectRef } from '../../../../core/projects.service.js';
import { BinaryBody, MediaTypes } from '../../../binary-body.js';
import { CSV_EXPORT_MEDIA_TYPE, csvRecord, spreadsheetSafe } from '../../../csv.js';
import { attachmentWithPlainName } from '../../../download-headers.js';
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
  archived?: 'false' | 'true' | 'all' | boolean;
  cursor?: string;
  limit?: number;
  count?: boolean;
}): TableQuery {
  const archived = typeof options.archived === 'boolean' ? String(options.archived) : options.archived;
  return Object.fromEntries(
    Object.entries({ ...options, archived }).filter(([, value]) => value !== undefined),
  ) as TableQuery;
}

/** Dates beyond ±8.64e15 ms cannot be written as ISO-8601: such a time stays a number. */
const MAX_DATE_MILLIS = 8.64e15;

/**
 * A cell of the CSV export: as in the table answer, but tags joined with `;`, times as
 * ISO-8601 UTC, null as empty, and text defused for spreadsheets. Numbers (non-finite ones as
 * `NaN`, `Infinity`, `-Infinity`) are never altered.
 */
function csvCell(value: TableValue, time: boolean): string {
  if (value === null) return '';
  if (typeof value === 'number') {
    return time && Math.abs(value) <= MAX_DATE_MILLIS ? new Date(value).toISOString() : String(value);
  }
  if (typeof value === 'boolean') return String(value);
  return spreadsheetSafe(Array.isArray(value) ? value.join(';') : value);
}

/** The export's CSV, one chunk per page: the header row, then each row's key, name and columns. */
async function* csvChunks({ columns, pages }: TableExport): AsyncGenerator<Buffer> {
  yield Buffer.from(csvRecord(['key', 'name', ...columns.map((c) => c.id)]));
  for await (const rows of pages) {
    let chunk = '';
    for (const row of rows) {
      const cells = columns.map((c) => csvCell(row.values[c.id] ?? null, c.time));
      chunk += csvRecord([row.key, csvCell(row.name, false), ...cells]);
    }
    yield Buffer.from(chunk);
  }
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
   * GET /api/cairn/v1/workspaces/:workspace/projects/:project/experiments/export?filter=&sort=&columns=&archived=
   * — the whole filtered, sorted table as CSV, streamed: each page is read when the client has
   * taken the one before (the stream's backpressure), so memory holds one page at any size.
   */
  app.get(
    '/workspaces/:workspace/projects/:project/experiments/export',
    {
      schema: {
        params: ExperimentTableParams,
        querystring: ExperimentExportQuery,
        response: { 200: MediaTypes({ 'text/csv': BinaryBody }), ...errors },
      },
    },
    async (request, reply) => {
      // Reads the first page: a bad filter or an unknown project is a problem answer, before any CSV.
      const exported = await core.table.export(
        principalOf(request),
        projectRef(request.params),
        tableQuery(request.query),
      );
      return reply
        .type(CSV_EXPORT_MEDIA_TYPE)
        .header('content-disposition', attachmentWithPlainName(`${request.params.project}-experiments.csv`))
        .send(Readable.from(csvChunks(exported), { objectMode: false }));
    },
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
