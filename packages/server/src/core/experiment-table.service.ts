import { createHash } from 'node:crypto';
import type { Clock } from './clock.port.js';
import type { Experiment, SeriesSummary } from './entities.js';
import { InvalidArgumentError } from './errors.js';
import type { ExperimentOrder, ExperimentSearch, SortPosition } from './experiment-query.js';
import { HEARTBEAT_TIMEOUT_MILLIS, runState } from './experiments.service.js';
import { type Principal, requireScope } from './principal.js';
import type { ProjectRef, ProjectsService } from './projects.service.js';
import {
  columnField,
  columnId,
  isTimeColumn,
  parseColumnId,
  parseColumnList,
  parseFilter,
  parseSort,
  type TableColumn,
} from './query-language.js';
import type { CurrentValue, KeySource, ProjectKey, Store } from './store.port.js';

/** A cell of the experiment table: typed as logged. Non-finite metric values stay numbers here. */
export type TableValue = number | string | boolean | string[] | null;

export interface TableRow {
  key: string;
  name: string | null;
  /** One entry per requested column id, as the request spelled it. */
  values: Record<string, TableValue>;
}

export interface TablePage {
  items: TableRow[];
  nextCursor: string | null;
  /** Matching experiments in all, unless the caller asked not to count. */
  total?: number;
}

export interface TableQuery {
  /** The query language (query-language.ts). */
  filter?: string;
  /** One column id, `-` in front for descending. Default: newest first. */
  sort?: string;
  /** Column ids, comma-separated or one per entry. */
  columns?: string | readonly string[];
  archived?: 'false' | 'true' | 'all';
  cursor?: string;
  limit?: number;
  /** Default true: count the matching experiments. */
  count?: boolean;
}

/** What an export takes: a listing's options, without paging or counting. */
export type TableExportQuery = Pick<TableQuery, 'filter' | 'sort' | 'columns' | 'archived'>;

export interface TableExport {
  /** The requested columns in request order: their ids, and whether they hold times (epoch ms). */
  columns: { id: string; time: boolean }[];
  /** Every matching row in order, a page at a time, read as it is iterated (the first page already is). */
  pages: AsyncIterable<TableRow[]>;
}

export interface KeyQuery {
  source?: KeySource;
  search?: string;
  cursor?: string;
  limit?: number;
}

export interface CatalogueKey {
  source: KeySource;
  name: string;
  experiments: number;
  /** Parameters and others: the type of their current values across the project's experiments. */
  type?: 'number' | 'string' | 'boolean' | 'mixed';
}

export interface KeyPage {
  items: CatalogueKey[];
  nextCursor: string | null;
  total: number;
}

export const TABLE_PAGE_DEFAULT = 50;
export const TABLE_PAGE_MAX = 1000;
/** Columns per request: a wide table, one bound name per column in the page's reads. */
export const TABLE_MAX_COLUMNS = 500;
const NEWEST_FIRST: ExperimentOrder = { field: 'createdAt', direction: 'desc' };
const KEY_SOURCES: readonly KeySource[] = ['metric', 'other', 'param', 'system', 'tag'];

/**
 * The experiment table of Cairn's API: a project's experiments filtered by the query language,
 * sorted by any column, paged by keyset cursors, with only the requested columns read (one
 * query per source for the page). And the project's key catalogue, for column pickers.
 */
export class ExperimentTableService {
  constructor(
    private readonly store: Store,
    private readonly projects: ProjectsService,
    private readonly clock: Clock,
  ) {}

  async query(principal: Principal, ref: ProjectRef, query: TableQuery): Promise<TablePage> {
    requireScope(principal, 'read');
    const limit = pageLimit(query.limit, TABLE_PAGE_DEFAULT);
    const where = query.filter === undefined || query.filter.trim() === '' ? undefined : parseFilter(query.filter);
    const orderBy = query.sort === undefined || query.sort.trim() === '' ? NEWEST_FIRST : toOrder(query.sort);
    const columns = parseColumns(query.columns);
    const archived = query.archived === 'all' ? undefined : query.archived === 'true';
    const fingerprint = fingerprintOf([where ?? null, orderBy, archived ?? 'all']);
    const resumed = query.cursor === undefined ? undefined : decodeTableCursor(query.cursor, fingerprint);
    const after = resumed?.position;

    const { project } = await this.projects.findReadable(this.store, principal, ref);
    const now = this.clock.now();
    const search: ExperimentSearch = {
      projectId: project.id,
      ...(archived === undefined ? {} : { archived }),
      ...(where ? { where } : {}),
      orderBy,
      limit: limit + 1,
      now,
      heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MILLIS,
    };
    // Counting probes every experiment of the project (~0.3 s for a nested filter at 100k), so
    // the first count of a listing travels in its cursors and later pages answer with it.
    const [found, counted] = await Promise.all([
      this.store.experiments.searchPage(search, after),
      query.count === false || resumed?.total !== undefined
        ? resumed?.total
        : this.store.experiments.countMatching(search),
    ]);
    const page = found.slice(0, limit);
    const last = page[page.length - 1];
    const nextCursor =
      found.length > limit && last ? encodeTableCursor({ position: last.position, total: counted }, fingerprint) : null;
    const items = await this.rows(
      page.map((r) => r.key),
      columns,
      now,
    );
    return { items, nextCursor, ...(query.count === false || counted === undefined ? {} : { total: counted }) };
  }

  /**
   * The whole listing for an export, page by page along its keyset cursors, without counting.
   * The first page is read before this returns, so a bad filter, sort or column, or a project
   * the caller cannot read, fails here and not halfway through a streamed answer. Later pages
   * are read only as the consumer asks for them, so memory holds one page whatever the size.
   */
  async export(
    principal: Principal,
    ref: ProjectRef,
    query: TableExportQuery,
    pageSize = TABLE_PAGE_MAX,
  ): Promise<TableExport> {
    const columns = parseColumns(query.columns).map(({ id, column }) => ({ id, time: isTimeColumn(column) }));
    const page = (cursor?: string) =>
      this.query(principal, ref, { ...query, limit: pageSize, count: false, ...(cursor ? { cursor } : {}) });
    const first = await page();
    async function* pages(): AsyncGenerator<TableRow[]> {
      let current = first;
      for (;;) {
        yield current.items;
        if (current.nextCursor === null) return;
        current = await page(current.nextCursor);
      }
    }
    return { columns, pages: pages() };
  }

  async keys(principal: Principal, ref: ProjectRef, query: KeyQuery): Promise<KeyPage> {
    requireScope(principal, 'read');
    const limit = pageLimit(query.limit, TABLE_PAGE_DEFAULT);
    const search = query.search === '' ? undefined : query.search;
    const filter = {
      ...(query.source ? { source: query.source } : {}),
      ...(search === undefined ? {} : { search }),
    };
    const fingerprint = fingerprintOf(['keys', query.source ?? null, search ?? null]);
    const after = query.cursor === undefined ? undefined : decodeKeyCursor(query.cursor, fingerprint);
    const { project } = await this.projects.findReadable(this.store, principal, ref);
    const [found, total] = await Promise.all([
      this.store.experiments.listKeys(project.id, { ...filter, ...(after ? { after } : {}), limit: limit + 1 }),
      this.store.experiments.countKeys(project.id, filter),
    ]);
    const page = found.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toCatalogueKey),
      nextCursor: found.length > limit && last ? encodeKeyCursor(last, fingerprint) : null,
      total,
    };
  }

  /** The page's rows with the requested columns, reading each source once for the whole page. */
  private async rows(keys: string[], columns: RequestedColumn[], now: number): Promise<TableRow[]> {
    // Deleted between the search and this read: left out.
    const experiments = await this.store.experiments.getMany(keys);
    if (experiments.length === 0) return [];
    const ids = experiments.map((e) => e.id);
    const wants = (test: (c: TableColumn) => boolean) => columns.some((c) => test(c.column));
    const namesOf = (source: TableColumn['source']) => [
      ...new Set(columns.flatMap((c) => (c.column.source === source ? [c.column.name] : []))),
    ];
    const attribute = (...names: string[]) => wants((c) => c.source === 'attribute' && names.includes(c.name));
    const params = namesOf('param');
    const others = namesOf('other');
    const metrics = namesOf('metric');
    const [users, gits, paramValues, otherValues, summaries, tags, details] = await Promise.all([
      attribute('user') ? this.userNames(experiments) : new Map<string, string>(),
      attribute('gitBranch', 'gitCommit')
        ? this.store.experiments.getDocumentsOf(ids, 'git-metadata')
        : new Map<string, string>(),
      params.length > 0 ? this.store.values.listCurrentOf(ids, 'param', params) : new Map<string, CurrentValue[]>(),
      others.length > 0 ? this.store.values.listCurrentOf(ids, 'other', others) : new Map<string, CurrentValue[]>(),
      metrics.length > 0 ? this.store.series.listSummariesOf(ids, metrics) : new Map<string, SeriesSummary[]>(),
      attribute('tags') ? this.store.experiments.listTagsOf(ids) : new Map<string, string[]>(),
      wants((c) => c.source === 'system')
        ? this.store.experiments.getDocumentsOf(ids, 'system-details')
        : new Map<string, string>(),
    ]);
    return experiments.map((experiment) => {
      const id = experiment.id;
      const sources: RowSources = {
        experiment,
        now,
        userName: users.get(experiment.createdBy) ?? null,
        git: parseObject(gits.get(id)),
        params: byName(paramValues.get(id)),
        others: byName(otherValues.get(id)),
        series: byName(summaries.get(id)),
        tags: tags.get(id) ?? [],
        system: parseObject(details.get(id)),
      };
      const values: Record<string, TableValue> = {};
      for (const { id: columnKey, column } of columns) values[columnKey] = cell(column, sources);
      return { key: id, name: experiment.name, values };
    });
  }

  /** Creators' names; a page's experiments come from a handful of users. */
  private async userNames(experiments: Experiment[]): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    for (const userId of new Set(experiments.map((e) => e.createdBy))) {
      const user = await this.store.tenancy.getUser(userId);
      if (user) names.set(userId, user.name);
    }
    return names;
  }
}

interface RequestedColumn {
  /** The column id as the request spelled it: the key of its value. */
  id: string;
  column: TableColumn;
}

interface RowSources {
  experiment: Experiment;
  now: number;
  userName: string | null;
  git: Record<string, unknown> | undefined;
  params: Map<string, CurrentValue>;
  others: Map<string, CurrentValue>;
  series: Map<string, SeriesSummary>;
  tags: string[];
  system: Record<string, unknown> | undefined;
}

function cell(column: TableColumn, s: RowSources): TableValue {
  switch (column.source) {
    case 'param':
    case 'other': {
      const value = (column.source === 'param' ? s.params : s.others).get(column.name);
      if (!value) return null;
      return value.type === 'number'
        ? Number(value.text)
        : value.type === 'boolean'
          ? value.text === 'true'
          : value.text;
    }
    case 'metric': {
      const summary = s.series.get(column.name);
      if (!summary) return null;
      return column.aggregate === 'count' ? summary.count : summary[column.aggregate].value;
    }
    case 'system':
      return jsonCell(s.system?.[column.name]);
    case 'attribute':
      return attributeCell(column.name, s);
  }
}

function attributeCell(name: Extract<TableColumn, { source: 'attribute' }>['name'], s: RowSources): TableValue {
  const e = s.experiment;
  switch (name) {
    case 'key':
      return e.id;
    case 'name':
      return e.name;
    case 'status':
      return runState(e, s.now).status;
    case 'running':
      return runState(e, s.now).running;
    case 'archived':
      return e.archived;
    case 'startTime':
      return e.startTime;
    case 'endTime':
      return runState(e, s.now).endTime;
    case 'duration':
      return runState(e, s.now).durationMillis;
    case 'lastUpdated':
      return e.updatedAt;
    case 'user':
      return s.userName;
    case 'fileName':
      return e.fileName;
    case 'filePath':
      return e.filePath;
    case 'gitBranch': {
      // comet_ml logs the ref ("refs/heads/main"); the branch is its last part (as the query reads it).
      const branch = s.git?.branch;
      return typeof branch === 'string' ? branch.replace(/^refs\/heads\//, '') : jsonCell(branch);
    }
    case 'gitCommit':
      return jsonCell(s.git?.parent);
    case 'tags':
      return s.tags;
  }
}

/** A JSON field as a cell: scalars as they are, objects and arrays as their JSON text. */
function jsonCell(value: unknown): TableValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

function parseObject(json: string | undefined): Record<string, unknown> | undefined {
  if (json === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(json);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function byName<T extends { name: string }>(items: T[] | undefined): Map<string, T> {
  return new Map((items ?? []).map((item) => [item.name, item]));
}

function toOrder(sort: string): ExperimentOrder {
  const { column, direction } = parseSort(sort);
  const field = columnField(column);
  if (!field) throw new InvalidArgumentError(`invalid sort: ${columnId(column)} cannot be sorted by`);
  return { field, direction };
}

function parseColumns(columns: TableQuery['columns']): RequestedColumn[] {
  if (columns === undefined) return [];
  const parsed =
    typeof columns === 'string' ? parseColumnList(columns) : columns.map((id) => ({ id, column: parseColumnId(id) }));
  if (parsed.length > TABLE_MAX_COLUMNS) {
    throw new InvalidArgumentError(`at most ${TABLE_MAX_COLUMNS} columns can be requested, got ${parsed.length}`);
  }
  return parsed;
}

function pageLimit(limit: number | undefined, fallback: number): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1 || limit > TABLE_PAGE_MAX) {
    throw new InvalidArgumentError(`limit must be an integer from 1 to ${TABLE_PAGE_MAX}`);
  }
  return limit;
}

function toCatalogueKey(key: ProjectKey): CatalogueKey {
  const base = { source: key.source, name: key.name, experiments: key.experiments };
  if (key.source !== 'param' && key.source !== 'other') return base;
  const types = (['number', 'string', 'boolean'] as const).filter((type) => key[`${type}s`] > 0);
  return { ...base, type: types.length === 1 ? (types[0] as 'number' | 'string' | 'boolean') : 'mixed' };
}

// --- Cursors --------------------------------------------------------------------------------
// Opaque to clients: a version prefix, then base64url JSON holding the position and a
// fingerprint of the query, so that a cursor replayed with another filter, sort, archived state,
// source or search is refused instead of silently paging a different list.

/** A short hash of what a cursor is only valid for. */
function fingerprintOf(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

/** Where a listing resumes, and the total counted on an earlier page of it. */
interface TableCursor {
  position: SortPosition;
  total: number | undefined;
}

function encodeTableCursor(cursor: TableCursor, fingerprint: string): string {
  const { position, total } = cursor;
  // Numbers as text: JSON has no Infinity, and String(n) round-trips every double exactly.
  const value =
    position.value === null
      ? null
      : typeof position.value === 'number'
        ? { n: String(position.value) }
        : { t: position.value };
  const body = {
    h: fingerprint,
    s: position.segment,
    v: value,
    k: position.key,
    ...(total === undefined ? {} : { c: total }),
  };
  return `t1.${Buffer.from(JSON.stringify(body)).toString('base64url')}`;
}

function decodeTableCursor(cursor: string, fingerprint: string): TableCursor {
  const body = decodeCursor(cursor, 't1.', fingerprint);
  const { s: segment, v: value, k: key, c: total } = body;
  if (!Number.isSafeInteger(segment) || typeof key !== 'string') throw badCursor();
  if (total !== undefined && !(Number.isSafeInteger(total) && (total as number) >= 0)) throw badCursor();
  const at = (v: number | string | null) => ({
    position: { segment: segment as number, value: v, key },
    total: total as number | undefined,
  });
  if (value === null) return at(null);
  if (typeof value !== 'object') throw badCursor();
  const { n, t } = value as { n?: unknown; t?: unknown };
  if (typeof n === 'string') {
    const number = Number(n);
    if (Number.isNaN(number) || n.trim() === '') throw badCursor();
    return at(number);
  }
  if (typeof t === 'string') return at(t);
  throw badCursor();
}

function encodeKeyCursor(key: ProjectKey, fingerprint: string): string {
  return `k1.${Buffer.from(JSON.stringify({ h: fingerprint, s: key.source, n: key.name })).toString('base64url')}`;
}

function decodeKeyCursor(cursor: string, fingerprint: string): { source: KeySource; name: string } {
  const { s: source, n: name } = decodeCursor(cursor, 'k1.', fingerprint);
  if (!KEY_SOURCES.includes(source as KeySource) || typeof name !== 'string') throw badCursor();
  return { source: source as KeySource, name };
}

function decodeCursor(cursor: string, prefix: string, fingerprint: string): Record<string, unknown> {
  if (!cursor.startsWith(prefix)) throw badCursor();
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(cursor.slice(prefix.length), 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (typeof body !== 'object' || body === null) throw badCursor();
  const fields = body as Record<string, unknown>;
  if (fields.h !== fingerprint) throw new InvalidArgumentError('the cursor belongs to another query');
  return fields;
}

function badCursor(): InvalidArgumentError {
  return new InvalidArgumentError('the cursor is not one this listing issued');
}
