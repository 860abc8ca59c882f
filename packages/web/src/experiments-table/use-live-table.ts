import type { CairnEvent, ExperimentRow } from '@cairn/sdk';
import { type InfiniteData, useQueryClient } from '@tanstack/react-query';
import { type RefObject, useEffect, useRef } from 'react';
import {
  fetchRowsByKey,
  patchTableRows,
  rowFromExperiment,
  type TablePage,
  type TableView,
  tableQueryKey,
} from '../api/experiment-table.hooks';
import { useLiveEvents } from '../api/live';
import { useCairn } from '../auth/session';
import { andFilter, keysFilter, quoteLiteral } from './column-ids';

/** At most one refresh of changed rows per this interval, however fast runs log. */
const REFRESH_INTERVAL_MS = 2_000;
/** The query language allows 200 tests per filter. */
const MAX_KEYS_PER_REFRESH = 200;

/**
 * Keeps the loaded table live: `experiment` events patch their row in place (status, name, tags,
 * archived) and bring in new experiments that match the view; `points`/`values` events mark rows
 * whose metric and parameter cells are re-read, visible ones first, throttled.
 */
export function useLiveTable(view: TableView | null, visibleKeys: RefObject<string[]>) {
  const cairn = useCairn();
  const queryClient = useQueryClient();
  const pending = useRef(new Set<string>());
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastRefresh = useRef(0);
  const viewRef = useRef(view);
  viewRef.current = view;

  useEffect(() => () => clearTimeout(timer.current), []);

  /** Keys of every row held for the project: the view's pages and the pinned rows. */
  const loadedKeys = (): Set<string> => {
    const current = viewRef.current;
    const keys = new Set<string>();
    if (!current) return keys;
    const held = queryClient.getQueriesData<InfiniteData<TablePage> | ExperimentRow[]>({
      queryKey: ['experiments', 'table', current.workspace, current.project],
    });
    for (const [, data] of held) {
      if (Array.isArray(data)) for (const row of data) keys.add(row.key);
      else for (const page of data?.pages ?? []) for (const row of page.rows) keys.add(row.key);
    }
    return keys;
  };

  const refresh = async () => {
    const current = viewRef.current;
    if (!current || pending.current.size === 0) return;
    lastRefresh.current = Date.now();
    const visible = new Set(visibleKeys.current);
    const ordered = [...pending.current].sort((a, b) => Number(visible.has(b)) - Number(visible.has(a)));
    const batch = ordered.slice(0, MAX_KEYS_PER_REFRESH);
    for (const key of batch) pending.current.delete(key);
    try {
      const rows = await fetchRowsByKey(cairn, current, batch, keysFilter(batch));
      const fresh = new Map(rows.map((row) => [row.key, row]));
      patchTableRows(queryClient, current.workspace, current.project, (row) => {
        const next = fresh.get(row.key);
        return next ? { ...row, name: next.name, values: { ...row.values, ...next.values } } : row;
      });
    } catch {
      // A failed refresh leaves the cells as they were; the next event tries again.
    }
    if (pending.current.size > 0) schedule();
  };

  const schedule = () => {
    if (timer.current !== undefined) return;
    const wait = Math.max(0, lastRefresh.current + REFRESH_INTERVAL_MS - Date.now());
    timer.current = setTimeout(() => {
      timer.current = undefined;
      void refresh();
    }, wait);
  };

  const addNew = async (key: string) => {
    const current = viewRef.current;
    if (!current) return;
    const filter = andFilter(current.filter, `key = ${quoteLiteral(key)}`);
    const [row] = await fetchRowsByKey(cairn, { ...current }, [key], filter).catch(() => []);
    if (!row || !matchesArchived(row, current.archived)) return;
    const queryKey = tableQueryKey(current);
    if (current.sort) {
      // Under another order its place is unknown until re-read: re-read while that is cheap.
      const pages = queryClient.getQueryData<InfiniteData<TablePage>>(queryKey)?.pages.length ?? 0;
      if (pages <= 2) void queryClient.invalidateQueries({ queryKey, exact: true });
      return;
    }
    // Newest first (the default order): a new experiment belongs on top.
    queryClient.setQueryData<InfiniteData<TablePage>>(queryKey, (data) => {
      const first = data?.pages[0];
      if (!data || !first || first.rows.some((existing) => existing.key === row.key)) return data;
      const total = first.total === undefined ? undefined : first.total + 1;
      return { ...data, pages: [{ ...first, rows: [row, ...first.rows], total }, ...data.pages.slice(1)] };
    });
  };

  return useLiveEvents(view ? { workspace: view.workspace, project: view.project } : null, (event: CairnEvent) => {
    const current = viewRef.current;
    if (!current) return;
    switch (event.event) {
      case 'experiment': {
        const experiment = event.data.experiment;
        if (experiment.project !== current.project || experiment.workspace !== current.workspace) {
          // Moved away: its row stays until the next read.
          return;
        }
        if (loadedKeys().has(experiment.key)) {
          patchTableRows(queryClient, current.workspace, current.project, (row) => rowFromExperiment(row, experiment));
        } else {
          void addNew(experiment.key);
          // The header's experiment count.
          void queryClient.invalidateQueries({
            queryKey: ['projects', current.workspace, current.project],
            exact: true,
          });
        }
        return;
      }
      case 'points':
      case 'values':
        if (loadedKeys().has(event.data.experiment)) {
          pending.current.add(event.data.experiment);
          schedule();
        }
        return;
      case 'reset':
        void queryClient.invalidateQueries({ queryKey: ['experiments', 'table', current.workspace, current.project] });
        return;
      default:
        return;
    }
  });
}

function matchesArchived(row: ExperimentRow, archived: TableView['archived']): boolean {
  if (archived === 'all') return true;
  return (row.values.archived === true) === (archived === 'true');
}
