/**
 * A confusion matrix as comet_ml's `log_confusion_matrix` uploads it (type `confusion-matrix`,
 * `confusion-matrix.json`): `{ version, title, labels, matrix, rowLabel, columnLabel, ... }`,
 * `matrix[row][column]` counting the examples of actual class `row` predicted as `column`.
 */
export interface ConfusionMatrix {
  title: string | null;
  labels: string[];
  matrix: number[][];
  rowLabel: string;
  columnLabel: string;
}

export function parseConfusionMatrix(text: string): ConfusionMatrix | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof json !== 'object' || json === null) return null;
  const body = json as Record<string, unknown>;
  const matrix = body.matrix;
  if (!Array.isArray(matrix) || !matrix.every((row) => Array.isArray(row))) return null;
  const rows = (matrix as unknown[][]).map((row) =>
    row.map((cell) => (typeof cell === 'number' ? cell : Number(cell))),
  );
  const size = Math.max(rows.length, ...rows.map((r) => r.length));
  const labels = Array.isArray(body.labels)
    ? body.labels.map(String)
    : Array.from({ length: size }, (_, i) => String(i));
  return {
    title: typeof body.title === 'string' ? body.title : null,
    labels,
    matrix: rows,
    rowLabel: typeof body.rowLabel === 'string' ? body.rowLabel : 'Actual',
    columnLabel: typeof body.columnLabel === 'string' ? body.columnLabel : 'Predicted',
  };
}

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
