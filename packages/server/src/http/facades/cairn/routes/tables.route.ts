import type { Readable } from 'node:stream';
import {
  ExperimentParams,
  NoContent,
  Problem,
  PutTableBody,
  type PutTableJsonBody,
  PutTableQuery,
  TableInfo,
  TableListResponse,
  TableParams,
  TableRowsQuery,
  TableRowsResponse,
} from '@cairn/schemas/cairn';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { TableInput } from '../../../../core/artifact-tables.service.js';
import type { Core } from '../../../../core/core.js';
import type { ArtifactTableInfo } from '../../../../core/entities.js';
import { InvalidArgumentError } from '../../../../core/errors.js';
import { cellToJson, checkColumns, rowsFromJson } from '../../../../core/table-rows.js';
import { MediaTypes } from '../../../binary-body.js';
import { CSV_MEDIA_TYPE, readCsv } from '../../../csv.js';
import { PARQUET_MEDIA_TYPE, parquetStream, readParquet } from '../../../parquet.js';
import { principalOf } from '../../../request-context.js';
import type { CairnApp } from '../cairn.plugin.js';
import { sendProblem } from '../cairn-errors.js';

const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem };
const OCTET_STREAM = 'application/octet-stream';
/** A streamed Parquet answer: never serialised, documented as bytes. */
const ParquetBytes = Type.Unsafe<Readable>({ type: 'string', format: 'binary' });

type UploadFormat = 'json' | 'csv' | 'parquet';
const FORMAT_BY_MEDIA_TYPE: Record<string, UploadFormat> = {
  'application/json': 'json',
  [CSV_MEDIA_TYPE]: 'csv',
  [PARQUET_MEDIA_TYPE]: 'parquet',
};

function wireInfo(table: ArtifactTableInfo) {
  return {
    name: table.name,
    description: table.description,
    columns: table.columns,
    rowCount: table.rowCount,
    sizeBytes: table.sizeBytes,
    createdAt: table.createdAt,
    updatedAt: table.updatedAt,
  };
}

/**
 * Table artifacts. Logging a table under an existing name replaces it whole (201 when new, 200
 * when replaced). CSV and Parquet bodies are taken as raw bytes under the server's body limit and
 * never parsed as JSON.
 */
export function registerTableRoutes(app: CairnApp, core: Core): void {
  // Scoped to these routes: elsewhere in the Cairn API these media types stay unsupported (415).
  app.register(async (scope) => {
    scope.addContentTypeParser(
      [CSV_MEDIA_TYPE, PARQUET_MEDIA_TYPE, OCTET_STREAM],
      { parseAs: 'buffer' },
      (_r, body, done) => done(null, body),
    );
    const tables = scope.withTypeProvider<TypeBoxTypeProvider>();

    /**
     * PUT /api/cairn/v1/experiments/:experimentKey/tables/:name — JSON `{description?, columns,
     * rows}`, text/csv, or Parquet (application/vnd.apache.parquet, or octet-stream + format=).
     */
    tables.put(
      '/experiments/:experimentKey/tables/:name',
      {
        schema: {
          params: TableParams,
          querystring: PutTableQuery,
          body: PutTableBody,
          response: { 200: TableInfo, 201: TableInfo, ...errors, 413: Problem, 415: Problem },
        },
      },
      async (request, reply) => {
        const format = uploadFormat(request.mediaType, request.query.format);
        if (!format) {
          return sendProblem(
            reply,
            415,
            `send tables as application/json, ${CSV_MEDIA_TYPE} or ${PARQUET_MEDIA_TYPE} (or ${OCTET_STREAM} with format=csv|parquet)`,
          );
        }
        const input = await tableInput(request, format);
        const { experimentKey, name } = request.params;
        const { table, replaced } = await core.artifactTables.put(principalOf(request), experimentKey, name, input);
        return reply.code(replaced ? 200 : 201).send(wireInfo(table));
      },
    );

    /** GET /api/cairn/v1/experiments/:experimentKey/tables — every table's metadata, by name. */
    tables.get(
      '/experiments/:experimentKey/tables',
      { schema: { params: ExperimentParams, response: { 200: TableListResponse, ...errors } } },
      async (request) => {
        const list = await core.artifactTables.list(principalOf(request), request.params.experimentKey);
        return { tables: list.map(wireInfo) };
      },
    );

    /**
     * GET /api/cairn/v1/experiments/:experimentKey/tables/:name?offset=&limit= — a page of rows
     * (default 100, at most 10,000); `format=parquet` answers the whole table as Parquet.
     */
    tables.get(
      '/experiments/:experimentKey/tables/:name',
      {
        schema: {
          params: TableParams,
          querystring: TableRowsQuery,
          response: {
            200: MediaTypes({ 'application/json': TableRowsResponse, [PARQUET_MEDIA_TYPE]: ParquetBytes }),
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const { experimentKey, name } = request.params;
        if (request.query.format === 'parquet') {
          const { table, batches } = await core.artifactTables.openRows(principal, experimentKey, name);
          return reply.type(PARQUET_MEDIA_TYPE).send(parquetStream(table.columns, batches));
        }
        const offset = request.query.offset ?? 0;
        const page = await core.artifactTables.readRows(principal, experimentKey, name, {
          offset,
          limit: request.query.limit ?? 100,
        });
        const types = page.table.columns.map((column) => column.type);
        return reply.send({
          ...wireInfo(page.table),
          offset,
          rows: page.rows.map((row) => row.map((cell, c) => cellToJson(types[c] ?? 'string', cell))),
        });
      },
    );

    /** DELETE /api/cairn/v1/experiments/:experimentKey/tables/:name */
    tables.delete(
      '/experiments/:experimentKey/tables/:name',
      { schema: { params: TableParams, response: { 204: NoContent, ...errors } } },
      async (request, reply) => {
        const { experimentKey, name } = request.params;
        await core.artifactTables.delete(principalOf(request), experimentKey, name);
        return reply.code(204).send(null);
      },
    );
  });
}

/** The upload's format from its media type; octet-stream needs `format`, which must agree with any other type. */
function uploadFormat(mediaType: string | undefined, format: UploadFormat | undefined): UploadFormat | undefined {
  if (mediaType === OCTET_STREAM) return format === 'csv' || format === 'parquet' ? format : undefined;
  const implied = mediaType === undefined ? undefined : FORMAT_BY_MEDIA_TYPE[mediaType];
  if (implied && format && format !== implied) {
    throw new InvalidArgumentError(`format=${format} contradicts Content-Type ${mediaType}`);
  }
  return implied;
}

async function tableInput(request: FastifyRequest, format: UploadFormat): Promise<TableInput> {
  const query = request.query as { description?: string };
  if (format === 'json') {
    const body = request.body as PutTableJsonBody;
    const columns = checkColumns(body.columns);
    return {
      description: body.description === undefined ? query.description : body.description,
      columns,
      rows: rowsFromJson(columns, body.rows),
    };
  }
  const bytes = request.body as Buffer;
  if (format === 'csv') return { description: query.description, ...readCsv(bytes) };
  // As many cells as the body limit would let a JSON or CSV upload carry ("0," per cell).
  const maxCells = Math.max(1, Math.floor(request.routeOptions.bodyLimit / 2));
  return { description: query.description, ...(await readParquet(bytes, { maxCells })) };
}
