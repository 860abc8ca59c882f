import { type AlignedChart, debiasedEma, drawable, outlierRange, positiveOnly } from './chart-data';

/**
 * uPlot's series for an aligned chart: per run, the band edges (min, max), the faint raw line
 * when smoothing, and the drawn line. Pure, so the layout of the columns is tested.
 */
export interface PlotRun {
  experiment: string;
  minIdx: number | null;
  maxIdx: number | null;
  rawIdx: number | null;
  lineIdx: number;
  /** The smoothed line as drawn (or the line itself without smoothing), for the tooltip. */
  drawn: (number | null)[];
}

export interface PlotData {
  /** x first, then the series columns in the order of `runs`' indices. */
  columns: (number | null)[][];
  runs: PlotRun[];
  /** Some run has a band to draw. */
  band: boolean;
  /** The y range when ignoring outliers, with how many values it leaves outside. */
  yRange: { min: number; max: number; clipped: number } | null;
}

export function buildPlotData(
  aligned: AlignedChart,
  options: { smooth: number; log: boolean; outliers: boolean },
): PlotData {
  const columns: (number | null)[][] = [aligned.xs];
  const band = !aligned.exact;
  const shown = (values: (number | null)[]) => (options.log ? positiveOnly(values) : drawable(values));
  const runs = aligned.runs.map((run) => {
    let minIdx: number | null = null;
    let maxIdx: number | null = null;
    let rawIdx: number | null = null;
    if (band) {
      minIdx = columns.push(shown(run.min)) - 1;
      maxIdx = columns.push(shown(run.max)) - 1;
    }
    let drawn = run.line;
    if (options.smooth > 0) {
      rawIdx = columns.push(shown(run.line)) - 1;
      drawn = debiasedEma(run.line, options.smooth);
    }
    const lineIdx = columns.push(shown(drawn)) - 1;
    return { experiment: run.experiment, minIdx, maxIdx, rawIdx, lineIdx, drawn };
  });
  const yRange = options.outliers
    ? outlierRange(
        aligned.runs.map((run) => run.line),
        { log: options.log },
      )
    : null;
  return { columns, runs, band, yRange };
}

/** Per run: the lowest and highest value drawn and the last one, for the accessible summary. */
export function runSummaries(
  aligned: AlignedChart,
): { experiment: string; min: number; max: number; last: number; points: number }[] {
  const out: { experiment: string; min: number; max: number; last: number; points: number }[] = [];
  for (const run of aligned.runs) {
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let last: number | null = null;
    let points = 0;
    run.line.forEach((v, i) => {
      if (v === null) return;
      points += run.count[i] ?? 1;
      last = v;
      const lo = run.min[i] ?? v;
      const hi = run.max[i] ?? v;
      if (!Number.isNaN(lo)) min = Math.min(min, lo);
      if (!Number.isNaN(hi)) max = Math.max(max, hi);
    });
    if (last !== null) out.push({ experiment: run.experiment, min, max, last, points });
  }
  return out;
}
