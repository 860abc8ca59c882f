import { APIError, type ExperimentRow } from '@cairn/sdk';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { fetchRowsByKey, type TableView, useExperimentEdits, useExperimentTable } from '../api/experiment-table.hooks';
import { liveLabel } from '../api/live';
import { useProject } from '../api/projects.hooks';
import { InlineError, PanelBoundary } from '../app/panel';
import { useShortcut } from '../app/shortcuts';
import { useCairn } from '../auth/session';
import { ChartPanel } from '../charts/chart-panel';
import { Onboarding } from '../projects/onboarding';
import { columnLabel, keysFilter, parseSort, quoteLiteral, sortable } from './column-ids';
import { ColumnPicker } from './column-picker';
import { ExperimentGrid, type GridHandle } from './experiment-grid';
import { QueryBar } from './query-bar';
import { ActionMenu, type MenuAction, RenameDialog, TagsDialog } from './row-actions';
import { type TableViewState, useTableViewState } from './table-view';
import { useLiveTable } from './use-live-table';
import './experiments-table.css';

const enc = encodeURIComponent;

type Dialog = { kind: 'rename'; key: string; name: string } | { kind: 'tags'; keys: string[] } | null;

/** The project page's body: loaded lazily by project.page.tsx, it holds the table's weight. */
export function ProjectView({ workspace, project }: { workspace: string; project: string }) {
  const cairn = useCairn();
  const navigate = useNavigate();
  const state = useTableViewState(workspace, project);
  const [waiting, setWaiting] = useState(false);
  // An empty (or not yet created) project is re-read until its first experiment shows up.
  const info = useProject(workspace, project, waiting ? 3_000 : undefined);
  const view: TableView | null = useMemo(
    () =>
      state.requested
        ? {
            workspace,
            project,
            filter: state.filter,
            sort: state.sort,
            columns: state.requested,
            archived: state.archived,
          }
        : null,
    [workspace, project, state.filter, state.sort, state.requested, state.archived],
  );
  const table = useExperimentTable(
    view ?? { workspace, project, filter: '', sort: '', columns: [], archived: 'false' },
    view !== null,
  );
  const pinnedRows = useQuery({
    queryKey: ['experiments', 'table', workspace, project, 'pins', state.pinned.join(','), view?.columns.join(',')],
    enabled: view !== null && state.pinned.length > 0,
    queryFn: () => (view ? fetchRowsByKey(cairn, view, state.pinned, keysFilter(state.pinned)) : []),
  });
  const visibleKeys = useRef<string[]>([]);
  const live = useLiveTable(view, visibleKeys);
  const edits = useExperimentEdits(workspace, project);
  const grid = useRef<GridHandle>(null);
  const [pickerOpen, setPickerOpen] = useState(false);
  const [menu, setMenu] = useState<{ keys: string[]; anchor: HTMLElement } | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const pinnedSet = useMemo(() => new Set(state.pinned), [state.pinned]);
  const rows = useMemo(() => {
    const loaded = table.data?.pages.flatMap((page) => page.rows) ?? [];
    const keep = (row: ExperimentRow) =>
      state.archived === 'all' || (row.values.archived === true) === (state.archived === 'true');
    const pins = (pinnedRows.data ?? []).filter((row) => pinnedSet.has(row.key));
    return [...pins, ...loaded.filter((row) => !pinnedSet.has(row.key) && keep(row))];
  }, [table.data, pinnedRows.data, pinnedSet, state.archived]);
  const rowsByKey = useMemo(() => new Map(rows.map((row) => [row.key, row])), [rows]);
  const total = table.data?.pages[0]?.total;
  const selected = useMemo(() => new Set(state.selected), [state.selected]);
  // Name and status have their own fixed columns. Memoized: the grid's rows compare it by identity.
  const dataColumns = useMemo(
    () => (state.columns ?? []).filter((id) => id !== 'name' && id !== 'status'),
    [state.columns],
  );

  const filterError =
    table.error instanceof APIError && table.error.status === 400
      ? (table.error.problem?.detail ?? table.error.message)
      : null;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = table;
  const loadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  const base = `/${enc(workspace)}/${enc(project)}`;
  const compareHref = `${base}/compare?e=${state.selected.map(enc).join(',')}`;
  const chartsHref = `${base}/charts?sel=${state.selected.map(enc).join(',')}`;
  const exportHref = useMemo(() => {
    const query = new URLSearchParams();
    if (state.filter) query.set('filter', state.filter);
    if (state.sort) query.set('sort', state.sort);
    query.set('columns', ['status', ...dataColumns].join(','));
    query.set('archived', state.archived);
    return `/api/cairn/v1/workspaces/${enc(workspace)}/projects/${enc(project)}/experiments/export?${query}`;
  }, [state.filter, state.sort, state.archived, dataColumns, workspace, project]);

  const onSort = (column: string) => {
    if (!sortable(column)) return;
    const current = parseSort(state.sort);
    if (state.group) {
      // Grouped, the group column stays the sort (groups must stay contiguous); only its direction flips.
      if (column === state.group) state.setSort(current?.descending ? column : `-${column}`, { push: true });
      return;
    }
    const next = current?.column !== column ? column : current.descending ? null : `-${column}`;
    state.setSort(next, { push: true });
  };

  const actionsFor = (keys: string[]): MenuAction[] => {
    const one = keys.length === 1 ? keys[0] : undefined;
    const row = one ? rowsByKey.get(one) : undefined;
    const allPinned = keys.every((key) => pinnedSet.has(key));
    const allArchived = keys.every((key) => rowsByKey.get(key)?.values.archived === true);
    const act = (work: Promise<void>) => {
      setActionError(null);
      work.catch(setActionError);
    };
    return [
      ...(one ? [{ label: 'Open', run: () => navigate(`${base}/${enc(one)}`) }] : []),
      {
        label: allPinned ? 'Unpin' : 'Pin to top',
        run: () =>
          state.setPinned(
            allPinned ? state.pinned.filter((key) => !keys.includes(key)) : [...new Set([...state.pinned, ...keys])],
          ),
      },
      ...(one ? [{ label: 'Rename…', run: () => setDialog({ kind: 'rename', key: one, name: row?.name ?? '' }) }] : []),
      { label: 'Tags…', run: () => setDialog({ kind: 'tags', keys }) },
      {
        label: allArchived ? 'Unarchive' : 'Archive',
        run: () => act(edits.setArchived(keys, !allArchived)),
      },
      ...(keys.length >= 2
        ? [{ label: 'Compare', run: () => navigate(`${base}/compare?e=${keys.map(enc).join(',')}`) }]
        : []),
    ];
  };

  useShortcut('j', 'Next experiment', () => grid.current?.move(1));
  useShortcut('k', 'Previous experiment', () => grid.current?.move(-1));
  useShortcut('Enter', 'Open the focused experiment', () => {
    const key = grid.current?.focusedKey();
    if (key) navigate(`${base}/${enc(key)}`);
  });
  useShortcut('x', 'Select the focused experiment', () => {
    const key = grid.current?.focusedKey();
    if (key) state.toggleSelected(key);
  });
  useShortcut('c', 'Compare the selected experiments', () => {
    const keys = state.selectedNow();
    if (keys.length >= 2) navigate(`${base}/compare?e=${keys.map(enc).join(',')}`);
  });

  const experimentCount = info.data?.experimentCount;
  const missing = info.isError && info.error instanceof APIError && info.error.status === 404;
  const emptyProject = experimentCount === 0 || missing;
  const queryClient = useQueryClient();
  const wasEmpty = useRef(false);
  useEffect(() => {
    setWaiting(emptyProject);
    // The first experiments bring the keys the default columns are chosen from.
    if (wasEmpty.current && !emptyProject) {
      void queryClient.invalidateQueries({ queryKey: ['experiments', 'keys', workspace, project, 'common'] });
    }
    wasEmpty.current = emptyProject;
  }, [emptyProject, queryClient, workspace, project]);
  const tagsOf = (keys: string[]) => {
    const all = new Set<string>();
    for (const key of keys) {
      const tags = rowsByKey.get(key)?.values.tags;
      if (Array.isArray(tags)) for (const tag of tags) all.add(String(tag));
    }
    return [...all];
  };

  return (
    <div className="project-page">
      <header className="project-head">
        <div className="project-title">
          <h1>
            <Link to="/" className="muted">
              {workspace}
            </Link>
            <span className="muted"> / </span>
            {project}
          </h1>
          {experimentCount !== undefined && experimentCount !== total && (
            // The toolbar counts the view; the project's own count only when it differs.
            <span className="muted project-count">{experimentCount.toLocaleString()} in the project</span>
          )}
          {!missing && (
            <span className={`badge${live === 'live' ? ' badge-ok' : ''}`} title="Live updates">
              {liveLabel(live)}
            </span>
          )}
        </div>
        {info.data?.description && <p className="muted project-description">{info.data.description}</p>}
      </header>
      {emptyProject ? (
        <div className="page">
          <p>This project has no experiments yet.</p>
          <Onboarding workspace={workspace} project={project} />
        </div>
      ) : (
        <>
          <div className="project-toolbar">
            <QueryBar
              workspace={workspace}
              project={project}
              value={state.filter}
              onApply={(filter) => state.setFilter(filter || null, { push: true })}
              error={filterError}
            />
            <div className="toolbar-row">
              <div className="column-picker-anchor">
                <button
                  type="button"
                  className="btn"
                  aria-expanded={pickerOpen}
                  data-column-picker-toggle
                  onClick={() => setPickerOpen((open) => !open)}
                >
                  Columns ({dataColumns.length})
                </button>
                {pickerOpen && (
                  <ColumnPicker
                    workspace={workspace}
                    project={project}
                    columns={dataColumns}
                    onChange={state.setColumns}
                    onReset={() => state.setColumns(state.defaults ?? [])}
                    onFilterTag={(tag) => {
                      const test = `tags = ${quoteLiteral(tag)}`;
                      state.setFilter(state.filter ? `(${state.filter}) and ${test}` : test, { push: true });
                    }}
                    onClose={() => setPickerOpen(false)}
                  />
                )}
              </div>
              <GroupBy state={state} columns={dataColumns} />
              <label className="toolbar-field">
                <span>Show</span>
                <select
                  className="input"
                  aria-label="Archived experiments"
                  value={state.archived}
                  onChange={(event) => state.setArchived(event.target.value, { push: true })}
                >
                  <option value="false">Active</option>
                  <option value="true">Archived</option>
                  <option value="all">All</option>
                </select>
              </label>
              <span className="muted toolbar-count" aria-live="polite">
                {total === undefined ? '' : `${total.toLocaleString()} experiment${total === 1 ? '' : 's'}`}
                {table.isFetching && !table.isFetchingNextPage ? ' · loading…' : ''}
              </span>
              <div className="toolbar-end">
                {state.selected.length > 0 && (
                  <>
                    <span className="muted">{state.selected.length} selected</span>
                    <button
                      type="button"
                      className="btn"
                      aria-haspopup="menu"
                      onClick={(event) => setMenu({ keys: state.selected, anchor: event.currentTarget })}
                    >
                      Actions ▾
                    </button>
                    <button type="button" className="btn" onClick={() => state.setSelected([], { push: true })}>
                      Clear
                    </button>
                  </>
                )}
                <Link
                  className={`btn${state.selected.length === 0 ? ' disabled' : ''}`}
                  to={chartsHref}
                  aria-disabled={state.selected.length === 0}
                  onClick={(event) => state.selected.length === 0 && event.preventDefault()}
                >
                  Charts
                </Link>
                <Link
                  className={`btn${state.selected.length < 2 ? ' disabled' : ''}`}
                  to={compareHref}
                  aria-disabled={state.selected.length < 2}
                  onClick={(event) => state.selected.length < 2 && event.preventDefault()}
                >
                  Compare
                </Link>
                <a className="btn" href={exportHref} download>
                  Export CSV
                </a>
              </div>
            </div>
          </div>
          {actionError !== null && <InlineError error={actionError} onRetry={() => setActionError(null)} />}
          {table.isError && !filterError && <InlineError error={table.error} onRetry={() => void table.refetch()} />}
          <div className="project-body">
            <div className="project-table">
              {table.isPending && view !== null ? (
                <div className="muted table-status" role="status">
                  Loading experiments…
                </div>
              ) : view === null ? (
                <div className="muted table-status" role="status">
                  Loading columns…
                </div>
              ) : filterError ? (
                <div className="muted table-status">Correct the filter to see experiments.</div>
              ) : rows.length === 0 && !table.isError ? (
                <div className="muted table-status">
                  {state.filter ? 'No experiment matches this filter.' : 'No experiments in this view.'}
                </div>
              ) : (
                <PanelBoundary>
                  <ExperimentGrid
                    ref={grid}
                    workspace={workspace}
                    project={project}
                    rows={rows}
                    pinned={pinnedSet}
                    columns={dataColumns}
                    sort={state.sort}
                    onSort={onSort}
                    group={state.group}
                    total={total}
                    selected={selected}
                    onSelect={(keys) => state.setSelected(keys, { push: true })}
                    hasMore={hasNextPage}
                    loadMore={loadMore}
                    onRowMenu={(keys, anchor) =>
                      setMenu({ keys: selected.has(keys[0] ?? '') ? state.selected : keys, anchor })
                    }
                    visibleKeys={visibleKeys}
                  />
                </PanelBoundary>
              )}
            </div>
            {state.selected.length > 0 && (
              <div className="project-charts">
                <PanelBoundary>
                  <ChartPanel
                    runs={state.selected.map((key) => ({ key, name: rowsByKey.get(key)?.name ?? key }))}
                    metrics={{ project: { workspace, project } }}
                  />
                </PanelBoundary>
              </div>
            )}
          </div>
        </>
      )}
      {menu && (
        <ActionMenu
          anchor={menu.anchor}
          label={menu.keys.length === 1 ? 'Experiment actions' : `Actions for ${menu.keys.length} experiments`}
          actions={actionsFor(menu.keys)}
          onClose={() => setMenu(null)}
        />
      )}
      {dialog?.kind === 'rename' && (
        <RenameDialog
          name={dialog.name}
          onSave={(name) => edits.rename(dialog.key, name)}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog?.kind === 'tags' && (
        <TagsDialog
          count={dialog.keys.length}
          tags={tagsOf(dialog.keys)}
          onAdd={(tags) => edits.addTags(dialog.keys, tags)}
          onRemove={(tag) => edits.removeTag(dialog.keys, tag)}
          onClose={() => setDialog(null)}
        />
      )}
    </div>
  );
}

/** Groups by a column: the table then sorts by it, so a group's rows stay together across pages. */
function GroupBy({ state, columns }: { state: TableViewState; columns: string[] }) {
  const choices = [...new Set(['status', 'user', ...columns])].filter(sortable);
  return (
    <label className="toolbar-field">
      <span>Group by</span>
      <select
        className="input"
        aria-label="Group by"
        value={state.group}
        onChange={(event) => state.setGrouping(event.target.value || null)}
      >
        <option value="">None</option>
        {choices.map((id) => (
          <option key={id} value={id}>
            {columnLabel(id).group ? `${columnLabel(id).group}: ` : ''}
            {columnLabel(id).label}
          </option>
        ))}
      </select>
    </label>
  );
}
