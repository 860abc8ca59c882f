/** The JSON layouts of the asset types comet_ml draws: confusion matrices and curves. */

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
  const body = parseObject(text);
  if (!body) return null;
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

/** A curve as comet_ml's `log_curve` uploads it (type `curve`): `{ x: number[], y: number[], name }`. */
export interface Curve {
  name: string | null;
  x: number[];
  y: number[];
}

export function parseCurve(text: string): Curve | null {
  const body = parseObject(text);
  if (!body) return null;
  const { x, y, name } = body;
  if (!Array.isArray(x) || !Array.isArray(y)) return null;
  const length = Math.min(x.length, y.length);
  // uPlot wants x ascending: sort the pairs (a ROC or PR curve can come in either direction).
  const pairs = Array.from({ length }, (_, i) => [Number(x[i]), Number(y[i])] as const).sort((a, b) => a[0] - b[0]);
  return { name: typeof name === 'string' ? name : null, x: pairs.map((p) => p[0]), y: pairs.map((p) => p[1]) };
}

/** A logged JSON document when it parses to an object; bad JSON, `null` or a scalar gives null. */
function parseObject(text: string): Record<string, unknown> | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  return typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : null;
}
