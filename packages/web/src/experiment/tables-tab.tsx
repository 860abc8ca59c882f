import type { TableInfo } from '@cairn/sdk';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';
import { useTableRows, useTables } from '../api/experiment.hooks';
import { QueryView } from '../app/panel';
import { useUrlParam } from '../app/url-state';
import type { TabProps } from './experiment.page';
import { formatBytes, formatTime, formatValue } from './format';

const PAGE_SIZE = 500;
const ROW_HEIGHT = 29;

/** The experiment's table artifacts: pick one, page through its rows. */
export function TablesTab({ experimentKey }: TabProps) {
  const query = useTables(experimentKey);
  const [selected, setSelected] = useUrlParam('table');
  return (
    <QueryView query={query}>
      {(tables) => {
        if (tables.length === 0) return <p className="muted">No tables were logged.</p>;
        const table = tables.find((t) => t.name === selected) ?? tables[0];
        if (!table) return null;
        return (
          <div className="tables-tab">
            <nav aria-label="Tables" className="tables-list">
              <ul>
                {tables.map((t) => (
                  <li key={t.name}>
                    <button
                      type="button"
                      className={t === table ? 'tables-item selected' : 'tables-item'}
                      aria-current={t === table ? 'true' : undefined}
                      onClick={() => setSelected(t.name, { push: true })}
                    >
                      <span>{t.name}</span>
                      <span className="muted">
                        {t.rowCount.toLocaleString()} rows · {formatBytes(t.sizeBytes)}
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
            </nav>
            <TableViewer key={table.name} experimentKey={experimentKey} table={table} />
          </div>
        );
      }}
    </QueryView>
  );
}

function TableViewer({ experimentKey, table }: { experimentKey: string; table: TableInfo }) {
  const [offsetParam, setOffset] = useUrlParam('offset', '0');
  const offset = Math.max(0, Math.floor(Number(offsetParam) || 0));
  const query = useTableRows(experimentKey, table.name, offset, PAGE_SIZE);
  const scroller = useRef<HTMLDivElement>(null);
  const rows = query.data?.rows ?? [];
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 15,
  });
  const items = virtualizer.getVirtualItems();
  const top = items[0]?.start ?? 0;
  const bottom = virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0);
  const last = Math.min(offset + PAGE_SIZE, table.rowCount);
  const page = (next: number) => {
    setOffset(String(next), { push: true });
    scroller.current?.scrollTo({ top: 0 });
  };
  return (
    <section className="panel table-viewer" aria-label={`Table ${table.name}`}>
      <div className="panel-header">
        {table.name}
        {table.description && <span className="muted">{table.description}</span>}
        <span className="panel-header-end muted">updated {formatTime(table.updatedAt)}</span>
      </div>
      <div className="toolbar table-pager">
        <button
          type="button"
          className="btn btn-small"
          disabled={offset === 0}
          onClick={() => page(Math.max(0, offset - PAGE_SIZE))}
        >
          Previous
        </button>
        <span role="status">
          Rows {table.rowCount === 0 ? 0 : offset + 1}–{last} of {table.rowCount.toLocaleString()}
        </span>
        <button
          type="button"
          className="btn btn-small"
          disabled={offset + PAGE_SIZE >= table.rowCount}
          onClick={() => page(offset + PAGE_SIZE)}
        >
          Next
        </button>
      </div>
      <QueryView query={query}>
        {() => (
          <div ref={scroller} className="table-scroll">
            <table className="simple data-table">
              <thead>
                <tr>
                  <th className="num">#</th>
                  {table.columns.map((c) => (
                    <th key={c.name} title={c.type}>
                      {c.name} <span className="muted col-type">{c.type}</span>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {top > 0 && (
                  <tr className="spacer-row">
                    <td style={{ height: top, padding: 0, border: 0 }} colSpan={table.columns.length + 1} />
                  </tr>
                )}
                {items.map((item) => {
                  const row = rows[item.index] ?? [];
                  return (
                    // Rows are measured once drawn: a cell's font metrics decide its height, not the estimate.
                    <tr key={item.key} data-index={item.index} ref={virtualizer.measureElement}>
                      <td className="num muted">{offset + item.index + 1}</td>
                      {table.columns.map((c, i) => (
                        <td key={c.name} className="mono">
                          {formatValue(row[i])}
                        </td>
                      ))}
                    </tr>
                  );
                })}
                {bottom > 0 && (
                  <tr className="spacer-row">
                    <td style={{ height: bottom, padding: 0, border: 0 }} colSpan={table.columns.length + 1} />
                  </tr>
                )}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
    </section>
  );
}
