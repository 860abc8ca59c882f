import type { ConfusionMatrix } from './asset-formats';

/** A heatmap table: each cell's shade grows with its count (relative to the largest), counts written in. */
export function ConfusionMatrixView({ matrix }: { matrix: ConfusionMatrix }) {
  const max = Math.max(1, ...matrix.matrix.flat().filter(Number.isFinite));
  const columns = matrix.matrix.reduce((n, row) => Math.max(n, row.length), 0);
  return (
    <div className="cm">
      {matrix.title && <div className="cm-title">{matrix.title}</div>}
      <div className="cm-column-label">{matrix.columnLabel}</div>
      <div className="cm-body">
        <div className="cm-row-label">{matrix.rowLabel}</div>
        <table className="cm-table" aria-label={matrix.title ?? 'Confusion matrix'}>
          <thead>
            <tr>
              <td />
              {Array.from({ length: columns }, (_, c) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: columns are positions.
                <th key={c} scope="col">
                  {matrix.labels[c] ?? c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {matrix.matrix.map((row, r) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions.
              <tr key={r}>
                <th scope="row">{matrix.labels[r] ?? r}</th>
                {row.map((count, c) => {
                  const share = Number.isFinite(count) ? count / max : 0;
                  return (
                    <td
                      // biome-ignore lint/suspicious/noArrayIndexKey: cells are positions.
                      key={c}
                      className={`cm-cell${r === c ? ' cm-diagonal' : ''}${share > 0.55 ? ' cm-strong' : ''}`}
                      style={{
                        background: `color-mix(in srgb, var(--accent) ${Math.round(share * 100)}%, var(--bg-elevated))`,
                      }}
                      data-count={count}
                      title={`${matrix.rowLabel} ${matrix.labels[r] ?? r}, ${matrix.columnLabel} ${matrix.labels[c] ?? c}: ${count}`}
                    >
                      {count}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
