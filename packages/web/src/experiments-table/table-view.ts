import { useCallback, useEffect, useMemo, useRef } from 'react';
import { useSearchParams } from 'react-router';
import { useCommonKeys } from '../api/experiment-table.hooks';
import { useUrlList, useUrlParam } from '../app/url-state';
import {
  BASE_COLUMNS,
  DEFAULT_ATTRIBUTE_COLUMNS,
  metricColumn,
  paramColumn,
  parseSort,
  splitColumns,
} from './column-ids';

export type ArchivedView = 'false' | 'true' | 'all';

/**
 * The project page's view, all of it in the URL (`q`, `sort`, `cols`, `group`, `archived`, `sel`,
 * `pin`), so a copied link opens the same table. Pins are also remembered per project.
 */
export function useTableViewState(workspace: string, project: string) {
  const [filter, setFilter] = useUrlParam('q');
  const [sort, setSort] = useUrlParam('sort');
  const [rawColumns, setRawColumns] = useUrlParam('cols');
  const [group, setGroup] = useUrlParam('group');
  const [archivedRaw, setArchived] = useUrlParam('archived', 'false');
  const [selected, setSelectedInUrl] = useUrlList('sel');
  // The URL's state reaches the next render only; keys pressed in a row must build on each other.
  const latestSelected = useRef(selected);
  latestSelected.current = selected;
  const setSelected = useCallback(
    (next: string[], options?: { push?: boolean }) => {
      latestSelected.current = next;
      setSelectedInUrl(next, options);
    },
    [setSelectedInUrl],
  );
  const selectedNow = useCallback(() => latestSelected.current, []);
  const toggleSelected = useCallback(
    (key: string) => {
      const current = latestSelected.current;
      setSelected(current.includes(key) ? current.filter((k) => k !== key) : [...current, key], { push: true });
    },
    [setSelected],
  );
  const [pinnedInUrl, setPinnedInUrl] = useUrlList('pin');
  const [, setParams] = useSearchParams();
  // Several parameters in one history entry: two setters in a row would each start from the same URL.
  const setGrouping = useCallback(
    (group: string | null) =>
      setParams((current) => {
        const next = new URLSearchParams(current);
        if (group) next.set('group', group);
        else next.delete('group');
        next.delete('sort');
        return next;
      }),
    [setParams],
  );
  const archived: ArchivedView = archivedRaw === 'true' || archivedRaw === 'all' ? archivedRaw : 'false';

  const common = useCommonKeys(workspace, project, !rawColumns);
  const defaults = useMemo(() => {
    if (!common.data) return common.isError ? [...DEFAULT_ATTRIBUTE_COLUMNS] : null;
    return [
      ...DEFAULT_ATTRIBUTE_COLUMNS,
      ...common.data.metrics.map((name) => metricColumn(name, 'last')),
      ...common.data.params.map(paramColumn),
    ];
  }, [common.data, common.isError]);
  const columns = useMemo(() => (rawColumns ? splitColumns(rawColumns) : defaults), [rawColumns, defaults]);
  const setColumns = useCallback(
    (next: string[]) => setRawColumns(next.length ? next.join(',') : 'name', { push: true }),
    [setRawColumns],
  );

  // The URL's pins win (a shared link); without any, the ones this browser kept for the project.
  const storageKey = `cairn.pins.${workspace}/${project}`;
  const pinned = useMemo(() => {
    if (pinnedInUrl.length) return pinnedInUrl;
    try {
      const stored: unknown = JSON.parse(window.localStorage.getItem(storageKey) ?? '[]');
      return Array.isArray(stored) ? stored.filter((key): key is string => typeof key === 'string') : [];
    } catch {
      return [];
    }
  }, [pinnedInUrl, storageKey]);
  useEffect(() => {
    if (pinnedInUrl.length) window.localStorage.setItem(storageKey, JSON.stringify(pinnedInUrl));
  }, [pinnedInUrl, storageKey]);
  const setPinned = useCallback(
    (next: string[]) => {
      window.localStorage.setItem(storageKey, JSON.stringify(next));
      setPinnedInUrl(next, { push: true });
    },
    [setPinnedInUrl, storageKey],
  );

  // Grouping sorts by the group column, so a group's rows are contiguous across pages.
  const parsedSort = parseSort(sort);
  const effectiveSort = group ? (parsedSort?.column === group ? sort : group) : sort;
  const requested = useMemo(
    () => (columns ? [...new Set([...BASE_COLUMNS, ...columns, ...(group ? [group] : [])])] : null),
    [columns, group],
  );

  return {
    filter,
    setFilter,
    sort: effectiveSort,
    setSort,
    columns,
    setColumns,
    defaults,
    requested,
    group,
    setGroup,
    setGrouping,
    archived,
    setArchived,
    selected,
    setSelected,
    toggleSelected,
    selectedNow,
    pinned,
    setPinned,
  };
}

export type TableViewState = ReturnType<typeof useTableViewState>;
