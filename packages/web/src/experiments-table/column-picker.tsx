import type { CatalogueKey, KeySource } from '@cairn/sdk';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useKeyCatalogue } from '../api/experiment-table.hooks';
import {
  ATTRIBUTES,
  catalogueColumn,
  columnLabel,
  METRIC_AGGREGATES,
  type MetricAggregate,
  metricColumn,
} from './column-ids';

const ITEM_HEIGHT = 30;
const SOURCE_TITLES: Record<KeySource, string> = {
  metric: 'Metrics',
  param: 'Parameters',
  other: 'Others',
  system: 'System',
  tag: 'Tags (filter by one)',
};

type Item =
  | { type: 'header'; title: string; count?: number }
  | { type: 'attribute'; id: string }
  | { type: 'key'; key: CatalogueKey };

/**
 * Picks the table's columns from the project's key catalogue: searched on the server and drawn
 * as a virtualized list, so ten thousand keys cost what a screenful does.
 */
export function ColumnPicker({
  workspace,
  project,
  columns,
  onChange,
  onReset,
  onFilterTag,
  onClose,
}: {
  workspace: string;
  project: string;
  columns: string[];
  onChange(columns: string[]): void;
  onReset(): void;
  onFilterTag(tag: string): void;
  onClose(): void;
}) {
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setSearch(typed.trim()), 200);
    return () => clearTimeout(timer);
  }, [typed]);
  const catalogue = useKeyCatalogue(workspace, project, search);
  const chosen = useMemo(() => new Set(columns), [columns]);
  const rootRef = useRef<HTMLDivElement>(null);
  const listRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const onDown = (event: MouseEvent) => {
      const target = event.target as Node;
      if (rootRef.current?.contains(target)) return;
      if ((target as Element).closest?.('[data-column-picker-toggle]')) return;
      onClose();
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [onClose]);

  const items = useMemo<Item[]>(() => {
    const out: Item[] = [];
    const needle = search.toLowerCase();
    const attributes = ATTRIBUTES.filter(
      (id) =>
        id !== 'name' &&
        id !== 'status' &&
        (id.toLowerCase().includes(needle) || columnLabel(id).label.toLowerCase().includes(needle)),
    );
    if (attributes.length) {
      out.push({ type: 'header', title: 'Attributes' });
      for (const id of attributes) out.push({ type: 'attribute', id });
    }
    let source: KeySource | null = null;
    for (const page of catalogue.data?.pages ?? []) {
      for (const key of page.items) {
        if (key.source !== source) {
          source = key.source;
          out.push({ type: 'header', title: SOURCE_TITLES[key.source] });
        }
        out.push({ type: 'key', key });
      }
    }
    return out;
  }, [catalogue.data, search]);

  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => listRef.current,
    estimateSize: () => ITEM_HEIGHT,
    overscan: 10,
  });
  const virtualItems = virtualizer.getVirtualItems();
  const last = virtualItems.at(-1)?.index ?? 0;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = catalogue;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && last >= items.length - 30) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, last, items.length]);

  const toggle = (id: string) =>
    onChange(chosen.has(id) ? columns.filter((column) => column !== id) : [...columns, id]);
  const total = catalogue.data?.pages[0]?.total;

  return (
    <div
      ref={rootRef}
      className="column-picker"
      role="dialog"
      aria-label="Columns"
      onKeyDown={(event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          onClose();
        }
      }}
    >
      <div className="column-picker-head">
        <input
          className="input"
          type="search"
          aria-label="Search columns"
          placeholder="Search parameters, metrics, …"
          value={typed}
          // biome-ignore lint/a11y/noAutofocus: the picker opens to be searched.
          autoFocus
          onChange={(event) => setTyped(event.target.value)}
        />
        <button type="button" className="btn btn-small" onClick={onReset}>
          Defaults
        </button>
      </div>
      {columns.length > 0 && (
        <div className="column-chips">
          {columns.map((id) => (
            <span key={id} className="column-chip" title={id}>
              {columnLabel(id).group && <span className="muted">{columnLabel(id).group} </span>}
              {columnLabel(id).label}
              <button type="button" aria-label={`Remove column ${id}`} onClick={() => toggle(id)}>
                ×
              </button>
            </span>
          ))}
        </div>
      )}
      <div className="muted column-picker-count" aria-live="polite">
        {catalogue.isPending
          ? 'Loading keys…'
          : total !== undefined
            ? `${total.toLocaleString()} key${total === 1 ? '' : 's'}`
            : ''}
        {catalogue.isError && ' · could not load the keys'}
      </div>
      <div ref={listRef} className="column-picker-list">
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualItems.map((virtual) => {
            const item = items[virtual.index];
            if (!item) return null;
            const style = { transform: `translateY(${virtual.start}px)`, height: ITEM_HEIGHT };
            if (item.type === 'header') {
              return (
                <div key={`h:${item.title}`} className="column-item column-group" style={style}>
                  {item.title}
                </div>
              );
            }
            if (item.type === 'attribute') {
              return (
                <label key={`a:${item.id}`} className="column-item" style={style}>
                  <input type="checkbox" checked={chosen.has(item.id)} onChange={() => toggle(item.id)} />
                  <span className="column-name">{columnLabel(item.id).label}</span>
                  <span className="muted mono">{item.id}</span>
                </label>
              );
            }
            const { key } = item;
            if (key.source === 'tag') {
              return (
                <div key={`t:${key.name}`} className="column-item" style={style}>
                  <span className="column-name">{key.name}</span>
                  <span className="muted">{key.experiments}</span>
                  <button type="button" className="btn btn-small column-item-end" onClick={() => onFilterTag(key.name)}>
                    Filter
                  </button>
                </div>
              );
            }
            if (key.source === 'metric') {
              return (
                <div key={`m:${key.name}`} className="column-item" style={style}>
                  <span className="column-name" title={key.name}>
                    {key.name}
                  </span>
                  <span className="muted">{key.experiments}</span>
                  <span className="column-item-end column-aggregates">
                    {METRIC_AGGREGATES.map((aggregate: MetricAggregate) => {
                      const id = metricColumn(key.name, aggregate);
                      return (
                        <label key={aggregate}>
                          <input
                            type="checkbox"
                            aria-label={`${key.name} ${aggregate}`}
                            checked={chosen.has(id) || (aggregate === 'last' && chosen.has(`metrics.${key.name}`))}
                            onChange={() =>
                              toggle(
                                chosen.has(`metrics.${key.name}`) && aggregate === 'last' ? `metrics.${key.name}` : id,
                              )
                            }
                          />
                          {aggregate}
                        </label>
                      );
                    })}
                  </span>
                </div>
              );
            }
            const id = catalogueColumn(key.source, key.name) ?? '';
            return (
              <label key={`${key.source}:${key.name}`} className="column-item" style={style}>
                <input type="checkbox" checked={chosen.has(id)} onChange={() => toggle(id)} />
                <span className="column-name" title={key.name}>
                  {key.name}
                </span>
                <span className="muted">{key.experiments}</span>
                {key.type && <span className="muted column-item-end">{key.type}</span>}
              </label>
            );
          })}
        </div>
      </div>
    </div>
  );
}
