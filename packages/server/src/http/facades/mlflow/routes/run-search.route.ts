import { SearchRunsRequest, SearchRunsResponse } from '@cairn/schemas/mlflow';
import type { FastifyRequest } from 'fastify';
import type { SortPosition } from '../../../../core/experiment-query.js';
import { callerOf, type MlflowRouteContext } from '../mlflow.plugin.js';
import { MlflowApiError } from '../mlflow-errors.js';
import { compileRunFilter, compileRunOrder, DEFAULT_RUN_ORDER } from '../mlflow-filter.js';
import { findProjectByExperimentId, noSuchExperiment } from '../mlflow-ids.js';
import { inputOf, optionalEnum, optionalList, optionalString } from '../mlflow-request.js';
import { toWireRun } from './run.mapper.js';
import { maxResultsOf, orderByOf, VIEW_TYPES } from './search-params.js';

const ARCHIVED_OF_VIEW = { ACTIVE_ONLY: false, DELETED_ONLY: true, ALL: undefined } as const;

/**
 * Runs search: MLflow's filter and order compiled to the shared query core and run in the
 * database, paged by keyset. The page token is the sort position of the page's last run, so
 * paging through runs that are being logged to never repeats or skips one.
 */
export function registerRunSearchRoutes({ app, core }: MlflowRouteContext): void {
  async function search(request: FastifyRequest) {
    const input = inputOf(request);
    const maxResults = maxResultsOf(input);
    const where = compileRunFilter(optionalString(input, 'filter'));
    const orderBy = compileRunOrder(orderByOf(input)) ?? DEFAULT_RUN_ORDER;
    const archived = ARCHIVED_OF_VIEW[optionalEnum(input, 'run_view_type', VIEW_TYPES) ?? 'ACTIVE_ONLY'];
    const after = decodePosition(optionalString(input, 'page_token'));
    const { principal, workspace } = callerOf(request);
    const projectIds: string[] = [];
    for (const [i, value] of optionalList(input, 'experiment_ids').entries()) {
      const experimentId = typeof value === 'number' ? String(value) : value;
      if (typeof experimentId !== 'string' || experimentId === '') {
        throw new MlflowApiError('INVALID_PARAMETER_VALUE', `Invalid value for parameter 'experiment_ids[${i}]'.`);
      }
      const project = await findProjectByExperimentId(core, principal, workspace, experimentId);
      if (!project) throw noSuchExperiment(experimentId);
      projectIds.push(project.id);
    }
    if (projectIds.length === 0) return { runs: [] };
    const rows = await core.queries.searchPageAcross(
      principal,
      projectIds,
      { ...(archived === undefined ? {} : { archived }), ...(where ? { where } : {}), orderBy, limit: maxResults + 1 },
      after,
    );
    const page = rows.slice(0, maxResults);
    const records = new Map(
      (
        await core.runs.records(
          principal,
          page.map((row) => row.key),
        )
      ).map((r) => [r.experiment.id, r]),
    );
    const last = page.at(-1);
    return {
      // A run deleted between the search and the read is left out.
      runs: page.flatMap((row) => {
        const record = records.get(row.key);
        return record ? [toWireRun(record)] : [];
      }),
      ...(rows.length > maxResults && last ? { next_page_token: encodePosition(last.position) } : {}),
    };
  }
  const response = { 200: SearchRunsResponse };
  app.post('/runs/search', { schema: { body: SearchRunsRequest, response } }, search);
  app.get('/runs/search', { schema: { querystring: SearchRunsRequest, response } }, search);
}

function encodePosition(position: SortPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64');
}

/** A token Cairn issued; anything else is refused (the store also refuses a forged position). */
function decodePosition(token: string | undefined): SortPosition | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const position = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as SortPosition;
    const valueOk = position.value === null || ['number', 'string'].includes(typeof position.value);
    if (Number.isSafeInteger(position.segment) && typeof position.key === 'string' && valueOk) return position;
  } catch {
    // Falls through to the refusal.
  }
  throw new MlflowApiError('INVALID_PARAMETER_VALUE', 'Invalid page token, could not base64-decode');
}
