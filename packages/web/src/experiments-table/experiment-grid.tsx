// biome-ignore-all lint/a11y/useSemanticElements: a virtualized grid of divs with ARIA grid roles; native table layout cannot place only the visible cells.
// biome-ignore-all lint/a11y/useFocusableInteractive: grid rows and cells hold their own focusable controls (checkbox, link, menu button).
import type { ExperimentRow } from '@cairn/sdk';
import { type ColumnDef, getCoreRowModel, type Row, useReactTable } from '@tanstack/react-table';
import { useVirtualizer, type VirtualItem } from '@tanstack/react-virtual';
import {
  forwardRef,
  type MouseEvent,
  memo,
  type RefObject,
  useEffect,
  useImperativeHandle,
  useMemo,
  useRef,
  useState,
} from 'react';
import { Link } from 'react-router';
import { runColor } from '../charts/run-colors';
import { CellValue, cellText, StatusBadge } from './cells';
import { columnLabel, isTimeColumn, parseSort, sortable } from './column-ids';

/** Fixed row height: the virtualizer places rows by arithmetic, so 100,000 rows cost as few as 30. */
export const ROW_HEIGHT = 32;
const HEADER_HEIGHT = 44;
const SELECT_WIDTH = 36;
const NAME_WIDTH = 260;
const STATUS_WIDTH = 108;
const ACTIONS_WIDTH = 36;
const FIXED_WIDTH = SELECT_WIDTH + NAME_WIDTH + STATUS_WIDTH + ACTIONS_WIDTH;
/** Load the next page when the view comes this close to the last loaded row. */
const PREFETCH_ROWS = 150;

type Item =
  | { type: 'row'; row: Row<ExperimentRow>; pinned: boolean }
  | { type: 'group'; id: string; value: unknown; count: number; collapsed: boolean };

export interface GridHandle {
  /** Moves the focused row by `delta` (j/k) and scrolls it into view. */
  move(delta: number): void;
  focusedKey(): string | null;
}

export interface GridProps {
  workspace: string;
  project: string;
  rows: ExperimentRow[];
  pinned: ReadonlySet<string>;
  columns: string[];
  sort: string;
  onSort(column: string): void;
  group: string;
  /** The experiments' total (the whole listing), for the grid's row count. */
  total: number | undefined;
  selected: ReadonlySet<string>;
  onSelect(keys: string[]): void;
  hasMore: boolean;
  loadMore(): void;
  onRowMenu(keys: string[], anchor: HTMLElement): void;
  /** Kept up to date with the keys on screen, for live refreshes. */
  visibleKeys: RefObject<string[]>;
}

function groupId(value: unknown): string {
  return value === null || value === undefined ? '∅' : JSON.stringify(value);
}

/** The experiment table: rows and columns virtualized, name/status fixed on the left. */
export const ExperimentGrid = forwardRef<GridHandle, GridProps>(function ExperimentGrid(props, ref) {
  const { rows, columns, group, selected, pinned, workspace, project } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [focused, setFocused] = useState<number | null>(null);
  const lastClicked = useRef<number | null>(null);

  const columnDefs = useMemo<ColumnDef<ExperimentRow>[]>(
    () =>
      columns.map((id) => ({
        id,
        accessorFn: (row) => row.values[id],
        size: id === 'tags' ? 200 : isTimeColumn(id) ? 200 : 130,
      })),
    [columns],
  );
  const table = useReactTable({
    data: rows,
    columns: columnDefs,
    getCoreRowModel: getCoreRowModel(),
    getRowId: (row) => row.key,
    columnResizeMode: 'onChange',
    defaultColumn: { minSize: 60, maxSize: 800 },
    manualSorting: true,
  });
  const tableRows = table.getRowModel().rows;

  const items = useMemo<Item[]>(() => {
    const out: Item[] = [];
    let currentGroup: Extract<Item, { type: 'group' }> | null = null;
    for (const row of tableRows) {
      const isPinned = pinned.has(row.id);
      if (group && !isPinned) {
        const value = row.original.values[group];
        const id = groupId(value);
        if (!currentGroup || currentGroup.id !== id) {
          currentGroup = { type: 'group', id, value, count: 0, collapsed: collapsed.has(id) };
          out.push(currentGroup);
        }
        currentGroup.count++;
        if (currentGroup.collapsed) continue;
      }
      out.push({ type: 'row', row, pinned: isPinned });
    }
    return out;
  }, [tableRows, group, pinned, collapsed]);

  const rowVirtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    paddingStart: HEADER_HEIGHT,
  });
  const headers = table.getHeaderGroups()[0]?.headers ?? [];
  const columnSizing = table.getState().columnSizing;
  const columnVirtualizer = useVirtualizer({
    horizontal: true,
    count: headers.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (index) => headers[index]?.getSize() ?? 130,
    overscan: 3,
    paddingStart: FIXED_WIDTH,
  });
  // biome-ignore lint/correctness/useExhaustiveDependencies: a resize or a new column set re-measures.
  useEffect(() => columnVirtualizer.measure(), [columnSizing, columns]);

  const virtualRows = rowVirtualizer.getVirtualItems();
  const virtualColumns = columnVirtualizer.getVirtualItems();
  const lastVisible = virtualRows.at(-1)?.index ?? 0;
  const { hasMore, loadMore, visibleKeys } = props;
  useEffect(() => {
    if (hasMore && lastVisible >= items.length - PREFETCH_ROWS) loadMore();
  }, [hasMore, lastVisible, items.length, loadMore]);
  useEffect(() => {
    visibleKeys.current = virtualRows.flatMap((virtual) => {
      const item = items[virtual.index];
      return item?.type === 'row' ? [item.row.id] : [];
    });
  });

  // The column virtualizer starts after the fixed columns (its paddingStart), so its size is the width.
  const totalWidth = columnVirtualizer.getTotalSize();
  const rowIndexes = useMemo(() => items.flatMap((item, index) => (item.type === 'row' ? [index] : [])), [items]);

  useImperativeHandle(
    ref,
    () => ({
      move(delta: number) {
        if (rowIndexes.length === 0) return;
        const at = focused === null ? -1 : rowIndexes.indexOf(focused);
        const next =
          rowIndexes[Math.max(0, Math.min(rowIndexes.length - 1, at === -1 && delta < 0 ? 0 : at + delta))] ?? 0;
        setFocused(next);
        rowVirtualizer.scrollToIndex(next, { align: 'auto' });
      },
      focusedKey() {
        const item = focused === null ? undefined : items[focused];
        return item?.type === 'row' ? item.row.id : null;
      },
    }),
    [focused, items, rowIndexes, rowVirtualizer],
  );

  const toggle = (index: number, key: string, event: MouseEvent) => {
    const next = new Set(selected);
    if (event.shiftKey && lastClicked.current !== null) {
      const [from, to] = [Math.min(lastClicked.current, index), Math.max(lastClicked.current, index)];
      const adding = !selected.has(key);
      for (let i = from; i <= to; i++) {
        const item = items[i];
        if (item?.type !== 'row') continue;
        if (adding) next.add(item.row.id);
        else next.delete(item.row.id);
      }
    } else if (next.has(key)) next.delete(key);
    else next.add(key);
    lastClicked.current = index;
    props.onSelect([...next]);
  };
  // Stable callbacks for the memoized rows: they read the latest state through a ref.
  const latest = useRef({ toggle, onRowMenu: props.onRowMenu, setFocused });
  latest.current = { toggle, onRowMenu: props.onRowMenu, setFocused };
  const rowActions = useMemo<RowActions>(
    () => ({
      toggle: (index, key, event) => latest.current.toggle(index, key, event),
      menu: (key, anchor) => latest.current.onRowMenu([key], anchor),
      focus: (index) => latest.current.setFocused(index),
    }),
    [],
  );
  // Rows re-render when the visible columns (or their widths) change, not on every scroll frame.
  const columnsKey = virtualColumns.map((column) => `${column.index}:${column.start}:${column.size}`).join(',');
  const loadedKeys = tableRows.map((row) => row.id);
  const allSelected = loadedKeys.length > 0 && loadedKeys.every((key) => selected.has(key));
  const someSelected = !allSelected && loadedKeys.some((key) => selected.has(key));
  const sort = parseSort(props.sort);
  const base = `/${encodeURIComponent(workspace)}/${encodeURIComponent(project)}`;

  return (
    <div
      ref={scrollRef}
      className="grid-scroll"
      data-testid="experiments-table-scroller"
      role="grid"
      aria-label="Experiments"
      aria-rowcount={(props.total ?? rows.length) + 1}
      aria-colcount={columns.length + 4}
      aria-multiselectable="true"
      tabIndex={-1}
    >
      <div className="grid-canvas" style={{ height: rowVirtualizer.getTotalSize(), width: totalWidth }}>
        <div className="grid-header" role="row" aria-rowindex={1} style={{ width: totalWidth, height: HEADER_HEIGHT }}>
          <div className="grid-fixed" style={{ width: FIXED_WIDTH }}>
            <div className="grid-cell grid-select" role="columnheader" style={{ width: SELECT_WIDTH }}>
              <input
                type="checkbox"
                aria-label="Select all loaded experiments"
                checked={allSelected}
                ref={(input) => {
                  if (input) input.indeterminate = someSelected;
                }}
                onChange={() => props.onSelect(allSelected ? [] : loadedKeys)}
              />
            </div>
            <HeaderCell id="name" label="Name" width={NAME_WIDTH} sort={sort} onSort={props.onSort} />
            <HeaderCell id="status" label="Status" width={STATUS_WIDTH} sort={sort} onSort={props.onSort} />
            <div className="grid-cell" role="columnheader" style={{ width: ACTIONS_WIDTH }}>
              <span className="visually-hidden">Actions</span>
            </div>
          </div>
          {virtualColumns.map((virtual) => {
            const header = headers[virtual.index];
            if (!header) return null;
            const id = header.column.id;
            return (
              <HeaderCell
                key={id}
                id={id}
                width={header.getSize()}
                left={virtual.start}
                sort={sort}
                onSort={props.onSort}
                colIndex={virtual.index + 5}
                resize={header.getResizeHandler()}
                resizing={header.column.getIsResizing()}
              />
            );
          })}
        </div>
        {virtualRows.map((virtual) => {
          const item = items[virtual.index];
          if (!item) return null;
          if (item.type === 'group') {
            return (
              <div
                key={`g:${item.id}`}
                className="grid-row grid-group"
                role="row"
                style={{ transform: `translateY(${virtual.start}px)`, width: totalWidth }}
              >
                <div className="grid-fixed grid-group-cell" role="gridcell" style={{ width: FIXED_WIDTH }}>
                  <button
                    type="button"
                    className="btn btn-small"
                    aria-expanded={!item.collapsed}
                    onClick={() =>
                      setCollapsed((current) => {
                        const next = new Set(current);
                        if (next.has(item.id)) next.delete(item.id);
                        else next.add(item.id);
                        return next;
                      })
                    }
                  >
                    {item.collapsed ? '▸' : '▾'}
                  </button>
                  <span className="grid-group-label">
                    {columnLabel(group).label}: <strong>{cellText(group, item.value).text || '(none)'}</strong>
                  </span>
                  <span className="muted">{item.count} loaded</span>
                </div>
              </div>
            );
          }
          const row = item.row.original;
          return (
            <GridRow
              key={row.key}
              row={row}
              index={virtual.index}
              start={virtual.start}
              width={totalWidth}
              pinned={item.pinned}
              selected={selected.has(row.key)}
              focused={focused === virtual.index}
              columns={columns}
              virtualColumns={virtualColumns}
              columnsKey={columnsKey}
              base={base}
              actions={rowActions}
            />
          );
        })}
      </div>
    </div>
  );
});

interface RowActions {
  toggle(index: number, key: string, event: MouseEvent): void;
  menu(key: string, anchor: HTMLElement): void;
  focus(index: number): void;
}

interface GridRowProps {
  row: ExperimentRow;
  index: number;
  start: number;
  width: number;
  pinned: boolean;
  selected: boolean;
  focused: boolean;
  columns: string[];
  virtualColumns: VirtualItem[];
  columnsKey: string;
  base: string;
  actions: RowActions;
}

/**
 * One experiment's row. A row's place never changes while scrolling (fixed heights), so memoized
 * rows leave React only the rows that scroll into view to draw.
 */
const GridRow = memo(
  function GridRow({
    row,
    index,
    start,
    width,
    pinned,
    selected,
    focused,
    columns,
    virtualColumns,
    base,
    actions,
  }: GridRowProps) {
    const archived = row.values.archived === true;
    return (
      <div
        className={`grid-row${selected ? ' selected' : ''}${focused ? ' focused' : ''}${pinned ? ' pinned' : ''}${archived ? ' archived' : ''}`}
        role="row"
        aria-selected={selected}
        aria-rowindex={index + 2}
        data-key={row.key}
        style={{ transform: `translateY(${start}px)`, width }}
        onMouseDown={() => actions.focus(index)}
      >
        <div className="grid-fixed" style={{ width: FIXED_WIDTH }}>
          <div className="grid-cell grid-select" role="gridcell" style={{ width: SELECT_WIDTH }}>
            <input
              type="checkbox"
              aria-label={`Select ${row.name ?? row.key}`}
              checked={selected}
              onClick={(event) => actions.toggle(index, row.key, event)}
              onChange={() => undefined}
            />
          </div>
          <div className="grid-cell grid-name" role="gridcell" style={{ width: NAME_WIDTH }}>
            <span className="run-swatch" style={{ background: runColor(row.key) }} aria-hidden="true" />
            {pinned && (
              // An SVG, not an emoji: servers and CI machines often lack an emoji font.
              <svg className="pin-mark" viewBox="0 0 16 16" width="12" height="12" role="img" aria-label="Pinned">
                <title>Pinned</title>
                <path d="M5 1h6v1.5l-1 .5v4l2.5 2.5V11H8.75v4L8 16l-.75-1v-4H3.5V9.5L6 7V3l-1-.5z" />
              </svg>
            )}
            <Link to={`${base}/${encodeURIComponent(row.key)}`} title={row.name ?? row.key}>
              {row.name ?? row.key.slice(0, 12)}
            </Link>
            {archived && <span className="badge">archived</span>}
          </div>
          <div className="grid-cell" role="gridcell" style={{ width: STATUS_WIDTH }}>
            <StatusBadge status={row.values.status} running={row.values.running} />
          </div>
          <div className="grid-cell grid-actions" role="gridcell" style={{ width: ACTIONS_WIDTH }}>
            <button
              type="button"
              className="row-menu-button"
              aria-label={`Actions for ${row.name ?? row.key}`}
              aria-haspopup="menu"
              onClick={(event) => actions.menu(row.key, event.currentTarget)}
            >
              ⋯
            </button>
          </div>
        </div>
        {virtualColumns.map((column) => {
          const id = columns[column.index];
          if (id === undefined) return null;
          return (
            <div
              key={id}
              className="grid-cell grid-data"
              role="gridcell"
              aria-colindex={column.index + 5}
              style={{ left: column.start, width: column.size }}
            >
              <CellValue column={id} value={row.values[id]} />
            </div>
          );
        })}
      </div>
    );
  },
  (before, after) =>
    before.row === after.row &&
    before.index === after.index &&
    before.start === after.start &&
    before.width === after.width &&
    before.pinned === after.pinned &&
    before.selected === after.selected &&
    before.focused === after.focused &&
    before.columns === after.columns &&
    before.columnsKey === after.columnsKey &&
    before.base === after.base &&
    before.actions === after.actions,
);

function HeaderCell({
  id,
  label,
  width,
  left,
  sort,
  onSort,
  colIndex,
  resize,
  resizing,
}: {
  id: string;
  label?: string;
  width: number;
  left?: number;
  sort: { column: string; descending: boolean } | null;
  onSort(column: string): void;
  colIndex?: number;
  resize?: (event: unknown) => void;
  resizing?: boolean;
}) {
  const { label: shortLabel, group } = columnLabel(id);
  const active = sort?.column === id;
  const ariaSort = active ? (sort.descending ? 'descending' : 'ascending') : 'none';
  return (
    <div
      className={`grid-cell grid-head${left === undefined ? '' : ' grid-data'}`}
      role="columnheader"
      aria-sort={sortable(id) ? ariaSort : undefined}
      aria-colindex={colIndex}
      style={{ width, ...(left === undefined ? {} : { left }) }}
      title={id}
    >
      {sortable(id) ? (
        <button type="button" className="grid-sort" onClick={() => onSort(id)}>
          <span className="grid-head-text">
            {group && <span className="grid-head-group">{group}</span>}
            <span className="grid-head-label">{label ?? shortLabel}</span>
          </span>
          <span className="grid-sort-mark" aria-hidden="true">
            {active ? (sort.descending ? '▼' : '▲') : ''}
          </span>
        </button>
      ) : (
        <span className="grid-head-text">
          {group && <span className="grid-head-group">{group}</span>}
          <span className="grid-head-label">{label ?? shortLabel}</span>
        </span>
      )}
      {resize && (
        <div
          className={`grid-resizer${resizing ? ' resizing' : ''}`}
          onMouseDown={resize}
          onTouchStart={resize}
          aria-hidden="true"
        />
      )}
    </div>
  );
}
