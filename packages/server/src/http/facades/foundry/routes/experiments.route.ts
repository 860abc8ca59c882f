import { createHash } from 'node:crypto';
import {
  ArtifactTableParams,
  ArtifactTableRows,
  DoubleSeriesV1,
  Experiment,
  ExperimentParams,
  FoundryParquet,
  ModelParams,
  ModelResponse,
  OffsetPageQuery,
  PreviewQuery,
  SearchExperimentsRequest,
  SearchExperimentsResponse,
  SeriesParams,
  withErrors,
} from '@cairn/schemas/foundry';
import type { FastifyRequest } from 'fastify';
import type { MetricPoint } from '../../../../core/entities.js';
import { NotFoundError } from '../../../../core/errors.js';
import type { ExperimentOrderField } from '../../../../core/experiment-query.js';
import type { ExperimentRecord } from '../../../../core/experiment-query.service.js';
import { experimentKeyOfRid, modelRid, projectIdOfModelRid } from '../../../../core/rids.js';
import { cellToJson } from '../../../../core/table-rows.js';
import { parquetStream, type SeriesParquetPoint, seriesParquetStream } from '../../../parquet.js';
import { principalOf } from '../../../request-context.js';
import type { FoundryRouteContext } from '../foundry.plugin.js';
import { FoundryApiError } from '../foundry-errors.js';
import { double, toWireExperiment } from './experiment.mapper.js';
import { invalid, toCondition } from './search-filter.mapper.js';

const SEARCH_PAGE_DEFAULT = 50;
const SEARCH_PAGE_MAX = 100;
const SERIES_PAGE_DEFAULT = 200;
const SERIES_PAGE_MAX = 1000;
const TABLE_PAGE_DEFAULT = 10;
const TABLE_PAGE_MAX = 100;
/** Points per row group when a series is written as Parquet. */
const PARQUET_PAGE_POINTS = 10_000;

/** E1–E3 of the spec, and Model.get for client smoke tests. */
export function registerExperimentRoutes({ app, core }: FoundryRouteContext): void {
  /** The readable project a model RID names, or the error the endpoint declares. */
  async function projectOf(request: FastifyRequest, rid: string, notFound: () => FoundryApiError) {
    const projectId = projectIdOfModelRid(rid);
    if (!projectId) throw notFound();
    try {
      return await core.queries.project(principalOf(request), { projectId });
    } catch (error) {
      if (error instanceof NotFoundError) throw notFound();
      throw error;
    }
  }

  async function recordOf(request: FastifyRequest, model: string, experiment: string): Promise<ExperimentRecord> {
    const notFound = () =>
      new FoundryApiError('NOT_FOUND', 'ModelExperimentNotFound', { modelRid: model, experimentRid: experiment });
    const project = await projectOf(request, model, notFound);
    const key = experimentKeyOfRid(experiment);
    const record = key && (await core.queries.record(principalOf(request), { projectId: project.id }, key));
    if (!record) throw notFound();
    return record;
  }

  /** GET /v2/models/{modelRid} */
  app.get(
    '/models/:modelRid',
    { schema: { params: ModelParams, querystring: PreviewQuery, response: withErrors({ 200: ModelResponse }) } },
    async (request) => {
      const { modelRid: rid } = request.params;
      const project = await projectOf(
        request,
        rid,
        () => new FoundryApiError('NOT_FOUND', 'ModelNotFound', { modelRid: rid }),
      );
      return { rid: modelRid(project.id) };
    },
  );

  /** E1: GET /v2/models/{modelRid}/experiments/{experimentRid} */
  app.get(
    '/models/:modelRid/experiments/:experimentRid',
    { schema: { params: ExperimentParams, querystring: PreviewQuery, response: withErrors({ 200: Experiment }) } },
    async (request) => toWireExperiment(await recordOf(request, request.params.modelRid, request.params.experimentRid)),
  );

  /** E2: POST /v2/models/{modelRid}/experiments/search */
  app.post(
    '/models/:modelRid/experiments/search',
    {
      schema: {
        params: ModelParams,
        querystring: PreviewQuery,
        body: SearchExperimentsRequest,
        response: withErrors({ 200: SearchExperimentsResponse }),
      },
    },
    async (request) => {
      const { modelRid: rid } = request.params;
      const body = request.body ?? {};
      const project = await projectOf(
        request,
        rid,
        () => new FoundryApiError('NOT_FOUND', 'ModelNotFound', { modelRid: rid }),
      );
      const where = body.where === undefined || body.where === null ? undefined : toCondition(body.where);
      const orderBy = parseOrderBy(body.orderBy);
      const pageSize = parsePageSize(body.pageSize, SEARCH_PAGE_DEFAULT, SEARCH_PAGE_MAX);
      const fingerprint = queryFingerprint(body.where, body.orderBy);
      const offset =
        body.pageToken === undefined || body.pageToken === null ? 0 : decodePageToken(body.pageToken, fingerprint);
      const records = await core.queries.searchRecords(
        principalOf(request),
        { projectId: project.id },
        {
          ...(where ? { where } : {}),
          orderBy,
          offset,
          limit: pageSize + 1,
        },
      );
      const more = records.length > pageSize;
      return {
        data: records.slice(0, pageSize).map(toWireExperiment),
        ...(more ? { nextPageToken: encodePageToken(offset + pageSize, fingerprint) } : {}),
      };
    },
  );

  async function seriesOf(
    request: FastifyRequest,
    params: { modelRid: string; experimentRid: string; seriesName: string },
  ): Promise<ExperimentRecord> {
    const { modelRid: model, experimentRid: experiment, seriesName } = params;
    const record = await recordOf(request, model, experiment);
    if (!record.series.some((s) => s.name === seriesName)) {
      throw new FoundryApiError('NOT_FOUND', 'ExperimentSeriesNotFound', {
        modelRid: model,
        experimentRid: experiment,
        seriesName,
      });
    }
    return record;
  }

  async function tableOf(
    request: FastifyRequest,
    params: { modelRid: string; experimentRid: string; artifactName: string },
  ): Promise<ExperimentRecord> {
    const { modelRid: model, experimentRid: experiment, artifactName } = params;
    const record = await recordOf(request, model, experiment);
    if (!record.tables.some((t) => t.name === artifactName)) {
      throw new FoundryApiError('NOT_FOUND', 'ExperimentArtifactNotFound', {
        modelRid: model,
        experimentRid: experiment,
        artifactName,
      });
    }
    return record;
  }

  /** E4: GET /v2/models/{modelRid}/experiments/{experimentRid}/series/{seriesName}/parquet */
  app.get(
    '/models/:modelRid/experiments/:experimentRid/series/:seriesName/parquet',
    { schema: { params: SeriesParams, querystring: PreviewQuery, response: withErrors({ 200: FoundryParquet }) } },
    async (request, reply) => {
      const record = await seriesOf(request, request.params);
      const principal = principalOf(request);
      const pages = seriesPages((offset, limit) =>
        core.metrics.readMetric(principal, record.experiment.id, request.params.seriesName, { offset, limit }),
      );
      return reply.type('application/octet-stream').send(seriesParquetStream(pages));
    },
  );

  /** E5: GET /v2/models/{modelRid}/experiments/{experimentRid}/artifactTables/{artifactName}/json */
  app.get(
    '/models/:modelRid/experiments/:experimentRid/artifactTables/:artifactName/json',
    {
      schema: {
        params: ArtifactTableParams,
        querystring: OffsetPageQuery,
        response: withErrors({ 200: ArtifactTableRows }),
      },
    },
    async (request) => {
      const record = await tableOf(request, request.params);
      const pageSize = parsePageSize(request.query.pageSize, TABLE_PAGE_DEFAULT, TABLE_PAGE_MAX);
      const offset = parseOffset(request.query.offset);
      const page = await core.artifactTables.readRows(
        principalOf(request),
        record.experiment.id,
        request.params.artifactName,
        { offset, limit: pageSize },
      );
      const columns = page.table.columns;
      // A JSON array of row objects, column name to value (spec E5).
      return page.rows.map((row) =>
        Object.fromEntries(columns.map((column, c) => [column.name, cellToJson(column.type, row[c] ?? null)])),
      );
    },
  );

  /** E6: GET /v2/models/{modelRid}/experiments/{experimentRid}/artifactTables/{artifactName}/parquet */
  app.get(
    '/models/:modelRid/experiments/:experimentRid/artifactTables/:artifactName/parquet',
    {
      schema: { params: ArtifactTableParams, querystring: PreviewQuery, response: withErrors({ 200: FoundryParquet }) },
    },
    async (request, reply) => {
      const record = await tableOf(request, request.params);
      const { table, batches } = await core.artifactTables.openRows(
        principalOf(request),
        record.experiment.id,
        request.params.artifactName,
      );
      return reply.type('application/octet-stream').send(parquetStream(table.columns, batches));
    },
  );

  /** E3: GET /v2/models/{modelRid}/experiments/{experimentRid}/series/{seriesName}/json */
  app.get(
    '/models/:modelRid/experiments/:experimentRid/series/:seriesName/json',
    { schema: { params: SeriesParams, querystring: OffsetPageQuery, response: withErrors({ 200: DoubleSeriesV1 }) } },
    async (request) => {
      const { seriesName } = request.params;
      const record = await seriesOf(request, request.params);
      const pageSize = parsePageSize(request.query.pageSize, SERIES_PAGE_DEFAULT, SERIES_PAGE_MAX);
      const offset = parseOffset(request.query.offset);
      const points = await core.metrics.readMetric(principalOf(request), record.experiment.id, seriesName, {
        offset,
        limit: pageSize,
      });
      return {
        type: 'doubleV1' as const,
        // Foundry steps are required longs: a point logged without a step takes its position.
        series: points.map((p, i) => ({ value: double(p.value), timestamp: p.timestamp, step: p.step ?? offset + i })),
      };
    },
  );
}

/** Pages of one series in logging order, for streaming it whole without holding it whole. */
async function* seriesPages(
  read: (offset: number, limit: number) => Promise<MetricPoint[]>,
): AsyncGenerator<SeriesParquetPoint[]> {
  for (let offset = 0; ; offset += PARQUET_PAGE_POINTS) {
    const points = await read(offset, PARQUET_PAGE_POINTS);
    if (points.length > 0) {
      yield points.map((p, i) => ({ value: p.value, timestamp: p.timestamp, step: p.step ?? offset + i }));
    }
    if (points.length < PARQUET_PAGE_POINTS) return;
  }
}

function parseOrderBy(value: unknown): { field: ExperimentOrderField; direction: 'asc' | 'desc' } {
  // No text relevance here: "relevance" is newest first (spec §6).
  if (value === undefined || value === null) return { field: 'createdAt', direction: 'desc' };
  const order = value as { field?: unknown; direction?: unknown };
  if (typeof value !== 'object' || (order.field !== 'EXPERIMENT_NAME' && order.field !== 'CREATED_TIME')) {
    throw new FoundryApiError('INVALID_ARGUMENT', 'Default:InvalidArgument', {
      message: 'orderBy.field must be EXPERIMENT_NAME or CREATED_TIME',
    });
  }
  if (order.direction !== 'ASC' && order.direction !== 'DESC') {
    throw new FoundryApiError('INVALID_ARGUMENT', 'Default:InvalidArgument', {
      message: 'orderBy.direction must be ASC or DESC',
    });
  }
  return {
    field: order.field === 'EXPERIMENT_NAME' ? 'name' : 'createdAt',
    direction: order.direction === 'ASC' ? 'asc' : 'desc',
  };
}

/** Longs arrive as numbers or numeric strings; above the maximum they are clamped (spec §6). */
function parsePageSize(value: unknown, fallback: number, max: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const size = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isInteger(size) || size <= 0) {
    throw new FoundryApiError('INVALID_ARGUMENT', 'InvalidPageSize', { pageSize: value });
  }
  return Math.min(size, max);
}

function parseOffset(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const offset = Number(value);
  if (!Number.isInteger(offset) || offset < 0) {
    throw new FoundryApiError('INVALID_ARGUMENT', 'Default:InvalidArgument', {
      message: 'offset must be a non-negative integer',
    });
  }
  return offset;
}

/** Ties a page token to the query it was minted for: a token from another query is refused. */
function queryFingerprint(where: unknown, orderBy: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([where ?? null, orderBy ?? null]))
    .digest('base64url')
    .slice(0, 12);
}

function encodePageToken(offset: number, fingerprint: string): string {
  return `v1.${Buffer.from(JSON.stringify({ o: offset, h: fingerprint })).toString('base64url')}`;
}

function decodePageToken(token: unknown, fingerprint: string): number {
  // The token as sent: a string verbatim, anything else (the body is not typed) as its JSON text,
  // never String()'s "[object Object]".
  const sent = typeof token === 'string' ? token : JSON.stringify(token);
  const refuse = () => new FoundryApiError('INVALID_ARGUMENT', 'InvalidPageToken', { pageToken: sent });
  if (typeof token !== 'string' || !token.startsWith('v1.')) throw refuse();
  try {
    const decoded = JSON.parse(Buffer.from(token.slice(3), 'base64url').toString('utf8')) as {
      o?: unknown;
      h?: unknown;
    };
    if (decoded.h !== fingerprint || typeof decoded.o !== 'number' || !Number.isInteger(decoded.o) || decoded.o < 0) {
      throw refuse();
    }
    return decoded.o;
  } catch {
    throw refuse();
  }
}

export { invalid };
