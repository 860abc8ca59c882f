import { formatDateTime, formatDuration, formatNumber } from '../app/format';
import { isTimeColumn, parseColumn } from './column-ids';

/** running (from the heartbeat), else the status the run ended with. */
export function StatusBadge({ status, running }: { status: unknown; running: unknown }) {
  if (running === true) return <span className="badge badge-running">running</span>;
  if (status === 'FAILED') return <span className="badge badge-failed">FAILED</span>;
  if (status === 'SUCCEEDED') return <span className="badge badge-ok">SUCCEEDED</span>;
  // A RUNNING run whose client stopped beating reads as ended.
  if (status === 'RUNNING') return <span className="badge">ended</span>;
  return null;
}

/** The text of a value as the cell shows it, and the exact value for its title. */
export function cellText(column: string, value: unknown): { text: string; title?: string } {
  if (value === null || value === undefined) return { text: '' };
  const attribute = parseColumn(column).kind === 'attribute' ? parseColumn(column).name : '';
  if (typeof value === 'number') {
    if (isTimeColumn(attribute)) return { text: formatDateTime(value), title: new Date(value).toISOString() };
    if (attribute === 'duration') return { text: formatDuration(value), title: `${value} ms` };
    return { text: formatNumber(value), title: value.toString() };
  }
  if (Array.isArray(value)) return { text: value.join(', ') };
  return { text: String(value), title: String(value) };
}

export function CellValue({ column, value }: { column: string; value: unknown }) {
  if (Array.isArray(value)) {
    return (
      <span className="cell-tags" title={value.join(', ')}>
        {value.map((tag) => (
          <span key={String(tag)} className="badge">
            {String(tag)}
          </span>
        ))}
      </span>
    );
  }
  const { text, title } = cellText(column, value);
  const numeric = typeof value === 'number' || value === 'NaN' || value === 'Infinity' || value === '-Infinity';
  return (
    <span className={numeric ? 'cell-number' : 'cell-text'} title={title}>
      {text}
    </span>
  );
}
