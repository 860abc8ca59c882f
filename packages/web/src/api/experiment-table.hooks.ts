import type { CatalogueKey, CursorPage, Experiment, ExperimentRow, KeySource } from '@cairn/sdk';
import { type InfiniteData, type QueryClient, useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCairn } from '../auth/session';

/** What the experiment table shows: the URL's view of one project. */
export interface TableView {
  workspace: string;
  project: string;
  filter: string;
  sort: string;
  /** Column ids asked for (the always-needed ones included). */
  columns: string[];
  archived: 'false' | 'true' | 'all';
}

/** One loaded page: its rows (patched in place by live events) and the SDK page to go on from. */
export interface TablePage {
  rows: ExperimentRow[];
  total: number | undefined;
  page: CursorPage<ExperimentRow>;
}

/** Rows per request: a screen's worth many times over, small enough to answer fast. */
export const TABLE_PAGE_SIZE = 200;

function archivedParam(archived: TableView['archived']): boolean | 'all' {
  return archived === 'all' ? 'all' : archived === 'true';
}

export function tableQueryKey(view: TableView) {
  return [
    'experiments',
    'table',
    view.workspace,
    view.project,
    view.filter,
    view.sort,
    view.columns.join(','),
    view.archived,
  ] as const;
}

/**
 * The experiment table, a keyset page at a time (the POST form, so long filters fit). The first
 * page counts the total; the SDK's next pages carry that count in their cursor.
 */
export function useExperimentTable(view: TableView, enabled: boolean) {
  const cairn = useCairn();
  return useInfiniteQuery({
    queryKey: tableQueryKey(view),
    enabled,
    queryFn: async ({ pageParam, signal }): Promise<TablePage> => {
      const page = pageParam
        ? await pageParam.getNextPage()
        : await cairn.experiments.query(
            {
              workspace: view.workspace,
              project: view.project,
              ...(view.filter.trim() ? { filter: view.filter } : {}),
              ...(view.sort ? { sort: view.sort } : {}),
              columns: view.columns,
              archived: archivedParam(view.archived),
              limit: TABLE_PAGE_SIZE,
              count: true,
            },
            { signal },
          );
      return { rows: page.items, total: page.total, page };
    },
    initialPageParam: null as CursorPage<ExperimentRow> | null,
    getNextPageParam: (last) => (last.page.hasNextPage() ? last.page : undefined),
    // A new view keeps showing the old rows until its first page is there: no flash of empty table.
    placeholderData: (previous) => previous,
  });
}

/** Reads these experiments' rows of the view (whatever the filter), for pins and live refreshes. */
export async function fetchRowsByKey(
  cairn: ReturnType<typeof useCairn>,
  view: TableView,
  keys: readonly string[],
  filter: string,
): Promise<ExperimentRow[]> {
  if (keys.length === 0) return [];
  const page = await cairn.experiments.query({
    workspace: view.workspace,
    project: view.project,
    filter,
    columns: view.columns,
    archived: 'all',
    limit: Math.min(1000, keys.length),
    count: false,
  });
  return page.items;
}

/** Replaces rows of every loaded table of the project by key (live events, edits). */
export function patchTableRows(
  queryClient: QueryClient,
  workspace: string,
  project: string,
  patch: (row: ExperimentRow) => ExperimentRow,
): void {
  queryClient.setQueriesData<InfiniteData<TablePage> | ExperimentRow[]>(
    { queryKey: ['experiments', 'table', workspace, project] },
    (data) => {
      if (!data) return data;
      if (Array.isArray(data)) {
        const rows = data.map(patch);
        return rows.some((row, index) => row !== data[index]) ? rows : data;
      }
      let changed = false;
      const pages = data.pages.map((page) => {
        let pageChanged = false;
        const rows = page.rows.map((row) => {
          const next = patch(row);
          if (next !== row) pageChanged = true;
          return next;
        });
        if (!pageChanged) return page;
        changed = true;
        return { ...page, rows };
      });
      return changed ? { ...data, pages } : data;
    },
  );
}

/** The table's values that an Experiment carries, keyed by column id. */
function experimentValues(experiment: Experiment): Record<string, unknown> {
  return {
    name: experiment.name,
    status: experiment.status,
    running: experiment.running,
    archived: experiment.archived,
    starttime: experiment.startTime,
    endtime: experiment.endTime,
    duration: experiment.durationMillis,
    tags: experiment.tags,
    key: experiment.key,
  };
}

/** The row with what the experiment now says (its name, status, archived flag, times, tags). */
export function rowFromExperiment(row: ExperimentRow, experiment: Experiment): ExperimentRow {
  if (row.key !== experiment.key) return row;
  const known = experimentValues(experiment);
  const values = { ...row.values };
  for (const column of Object.keys(values)) {
    const id = column.toLowerCase().replace(/^attributes\./, '');
    if (id in known) values[column] = known[id] as never;
  }
  return { ...row, name: experiment.name, values };
}

/** A project's key catalogue, paged; `search` runs on the server. */
export function useKeyCatalogue(workspace: string, project: string, search: string, source?: KeySource) {
  const cairn = useCairn();
  return useInfiniteQuery({
    queryKey: ['experiments', 'keys', workspace, project, source ?? 'all', search],
    queryFn: async ({ pageParam, signal }): Promise<CursorPage<CatalogueKey>> =>
      pageParam
        ? pageParam.getNextPage()
        : await cairn.experiments.keys(
            { workspace, project, ...(search ? { search } : {}), ...(source ? { source } : {}), limit: 200 },
            { signal },
          ),
    initialPageParam: null as CursorPage<CatalogueKey> | null,
    getNextPageParam: (last) => (last.hasNextPage() ? last : undefined),
    placeholderData: (previous) => previous,
    staleTime: 60_000,
  });
}

/** The most common metric and parameter names of a project, for the default columns. */
export function useCommonKeys(workspace: string, project: string, enabled: boolean) {
  const cairn = useCairn();
  return useQuery({
    queryKey: ['experiments', 'keys', workspace, project, 'common'],
    enabled,
    queryFn: async () => {
      const [metrics, params] = await Promise.all([
        cairn.experiments.keys({ workspace, project, source: 'metric', limit: 1000 }),
        cairn.experiments.keys({ workspace, project, source: 'param', limit: 1000 }),
      ]);
      const top = (items: CatalogueKey[], count: number) =>
        [...items]
          .filter((item) => !item.name.startsWith('sys.'))
          .sort((a, b) => b.experiments - a.experiments || (a.name < b.name ? -1 : 1))
          .slice(0, count)
          .map((item) => item.name);
      return { metrics: top(metrics.items, 3), params: top(params.items, 3) };
    },
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** Edits of experiments from the table; rows are patched from the answers at once. */
export function useExperimentEdits(workspace: string, project: string) {
  const cairn = useCairn();
  const queryClient = useQueryClient();
  const patchExperiment = (experiment: Experiment) =>
    patchTableRows(queryClient, workspace, project, (row) => rowFromExperiment(row, experiment));
  const patchTags = (key: string, tags: string[]) =>
    patchTableRows(queryClient, workspace, project, (row) => {
      if (row.key !== key) return row;
      const column = Object.keys(row.values).find((id) => id.toLowerCase().replace(/^attributes\./, '') === 'tags');
      return column ? { ...row, values: { ...row.values, [column]: tags } } : row;
    });
  return {
    async rename(key: string, name: string) {
      patchExperiment(await cairn.experiments.update(key, { name }));
    },
    async setArchived(keys: readonly string[], archived: boolean) {
      for (const key of keys) patchExperiment(await cairn.experiments.update(key, { archived }));
    },
    async addTags(keys: readonly string[], tags: string[]) {
      for (const key of keys) patchTags(key, await cairn.tags.add(key, tags));
    },
    async removeTag(keys: readonly string[], tag: string) {
      for (const key of keys) patchTags(key, await cairn.tags.remove(key, tag));
    },
  };
}
