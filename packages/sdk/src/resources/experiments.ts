import { ConflictError } from '../core/errors.js';
import type { HttpClient, LevelLogger, RequestOptions } from '../core/http.js';
import { PagePromise } from '../core/pagination.js';
import { type EventStreamOptions, followEvents } from '../core/sse.js';
import type {
  CairnEvent,
  CatalogueKey,
  CatalogueKeyPage,
  CreateExperimentBody,
  EndExperimentBody,
  Experiment,
  ExperimentRow,
  ExperimentTablePage,
  KeySource,
  UpdateExperimentBody,
} from '../types.js';

const enc = encodeURIComponent;

/** The experiment table's query (docs/api/cairn.md "The experiment table"). */
export interface ExperimentTableParams {
  workspace: string;
  project: string;
  /** The query language: `params.lr < 0.1 and metrics.loss.min <= 0.2`. */
  filter?: string;
  /** One column id, `-` in front for descending: `-metrics.acc.max`. */
  sort?: string;
  /** Column ids to return in `values`. */
  columns?: string[] | string;
  /** false (default), true, or 'all'. */
  archived?: boolean | 'all';
  /** Rows per page, 1–1000 (default 50). */
  limit?: number;
  /** Count `total` (default true). */
  count?: boolean;
}

/** What `exportCsv` takes: the table's query without paging. */
export type ExperimentExportParams = Omit<ExperimentTableParams, 'limit' | 'count'>;

export interface KeyCatalogueParams {
  workspace: string;
  project: string;
  source?: KeySource;
  search?: string;
  limit?: number;
}

/**
 * `cairn.experiments(params)` pages through a project's experiment table (`for await` gives every
 * row); the methods manage single experiments.
 */
export interface ExperimentsResource {
  (params: ExperimentTableParams, options?: RequestOptions): PagePromise<ExperimentRow>;
  /** The same query as a POST body, for filters too long for a URL. */
  query(params: ExperimentTableParams, options?: RequestOptions): PagePromise<ExperimentRow>;
  /**
   * The whole filtered, sorted table as CSV (`…/experiments/export`): the answer's body as a byte
   * stream, read as the server writes it (a page of rows at a time), so an export of any size
   * can be piped to a file or a download without being held in memory. A bad filter or an
   * unknown project rejects before the stream is handed over.
   */
  exportCsv(params: ExperimentExportParams, options?: RequestOptions): Promise<ReadableStream<Uint8Array>>;
  /** The project's key catalogue: metric, param, other, tag and system names with counts. */
  keys(params: KeyCatalogueParams, options?: RequestOptions): PagePromise<CatalogueKey>;
  /** Creates an experiment (and its project when missing). */
  create(
    workspace: string,
    project: string,
    body?: CreateExperimentBody,
    options?: RequestOptions,
  ): Promise<Experiment>;
  get(key: string, options?: RequestOptions): Promise<Experiment>;
  update(key: string, body: UpdateExperimentBody, options?: RequestOptions): Promise<Experiment>;
  /** Marks it ended: SUCCEEDED unless told FAILED. */
  end(key: string, body?: EndExperimentBody, options?: RequestOptions): Promise<Experiment>;
  heartbeat(key: string, options?: RequestOptions): Promise<void>;
  delete(key: string, options?: RequestOptions): Promise<void>;
}

function tableQuery(params: ExperimentTableParams) {
  return {
    filter: params.filter,
    sort: params.sort,
    columns: Array.isArray(params.columns) ? params.columns.join(',') : params.columns,
    archived: params.archived,
    limit: params.limit,
    count: params.count,
  };
}

/** A body-less answer (never for a 200 CSV) reads as an empty stream. */
function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream({ start: (controller) => controller.close() });
}

export function experimentsResource(http: HttpClient): ExperimentsResource {
  const path = (p: { workspace: string; project: string }) =>
    `/workspaces/${enc(p.workspace)}/projects/${enc(p.project)}`;
  const table = (params: ExperimentTableParams, options?: RequestOptions) =>
    new PagePromise<ExperimentRow>((cursor) =>
      http.request<ExperimentTablePage>(
        { method: 'GET', path: `${path(params)}/experiments`, query: { ...tableQuery(params), cursor } },
        options,
      ),
    );
  return Object.assign(table, {
    query(params: ExperimentTableParams, options?: RequestOptions) {
      return new PagePromise<ExperimentRow>((cursor) =>
        http.request<ExperimentTablePage>(
          {
            method: 'POST',
            path: `${path(params)}/experiments/query`,
            json: dropUndefined({ ...tableQuery(params), cursor }),
            idempotent: true,
          },
          options,
        ),
      );
    },
    async exportCsv(params: ExperimentExportParams, options?: RequestOptions) {
      const { limit: _limit, count: _count, ...query } = tableQuery(params);
      const response = await http.response(
        { method: 'GET', path: `${path(params)}/experiments/export`, query, headers: { accept: 'text/csv' } },
        options,
      );
      return response.body ?? emptyStream();
    },
    keys(params: KeyCatalogueParams, options?: RequestOptions) {
      return new PagePromise<CatalogueKey>((cursor) =>
        http.request<CatalogueKeyPage>(
          {
            method: 'GET',
            path: `${path(params)}/keys`,
            query: { source: params.source, search: params.search, limit: params.limit, cursor },
          },
          options,
        ),
      );
    },
    create(workspace: string, project: string, body: CreateExperimentBody = {}, options?: RequestOptions) {
      return http.request<Experiment>(
        { method: 'POST', path: `${path({ workspace, project })}/experiments`, json: body },
        options,
      );
    },
    get(key: string, options?: RequestOptions) {
      return http.request<Experiment>({ method: 'GET', path: `/experiments/${enc(key)}` }, options);
    },
    update(key: string, body: UpdateExperimentBody, options?: RequestOptions) {
      return http.request<Experiment>({ method: 'PATCH', path: `/experiments/${enc(key)}`, json: body }, options);
    },
    end(key: string, body: EndExperimentBody = {}, options?: RequestOptions) {
      return http.request<Experiment>(
        { method: 'POST', path: `/experiments/${enc(key)}/end`, json: body, idempotent: true },
        options,
      );
    },
    heartbeat(key: string, options?: RequestOptions) {
      return http.request<void>(
        { method: 'POST', path: `/experiments/${enc(key)}/heartbeat`, idempotent: true },
        options,
      );
    },
    delete(key: string, options?: RequestOptions) {
      return http.request<void>({ method: 'DELETE', path: `/experiments/${enc(key)}` }, options);
    },
  });
}

/**
 * Creates an experiment under a key chosen here. A retry after a lost answer then meets its own
 * experiment (409), which is read back instead of creating a second one.
 */
export async function createWithOwnKey(
  experiments: ExperimentsResource,
  workspace: string,
  project: string,
  key: string,
  name: string | null,
  options?: RequestOptions,
): Promise<Experiment> {
  try {
    return await experiments.create(workspace, project, { key, ...(name ? { name } : {}) }, options);
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    const existing = await experiments.get(key, options);
    if (existing.workspace !== workspace || existing.project !== project) throw error;
    return existing;
  }
}

export interface EventsResource {
  /** Live events of one experiment; reconnects with Last-Event-ID until the loop stops or `signal` fires. */
  experiment(key: string, options?: EventStreamOptions & RequestOptions): AsyncIterable<CairnEvent>;
  /** Live events of every experiment of a project. */
  project(workspace: string, project: string, options?: EventStreamOptions & RequestOptions): AsyncIterable<CairnEvent>;
}

export function eventsResource(http: HttpClient, log: LevelLogger): EventsResource {
  const follow = (path: string, options: EventStreamOptions & RequestOptions = {}) => ({
    [Symbol.asyncIterator]: () =>
      followEvents<CairnEvent>(
        (lastEventId, signal) =>
          http.response(
            {
              method: 'GET',
              path,
              headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
            },
            { ...options, ...(signal ? { signal } : {}), maxRetries: 0 },
          ),
        options,
        log,
      ),
  });
  return {
    experiment: (key, options) => follow(`/experiments/${enc(key)}/events`, options),
    project: (workspace, project, options) =>
      follow(`/workspaces/${enc(workspace)}/projects/${enc(project)}/events`, options),
  };
}

function dropUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
