import { lazy, Suspense } from 'react';

/** A run drawn in charts: its key and the name shown in legends and tooltips. */
export interface ChartRun {
  key: string;
  name: string;
}

export interface ChartPanelProps {
  /** The experiments to draw, one stable color each (runColor(key)). */
  runs: ChartRun[];
  /**
   * Where the metric names come from: the project's key catalogue (project page, compare) or the
   * runs' own metric lists (experiment page). `prefix` keeps only metrics starting with it
   * (the System tab passes `sys.`); `exclude` drops metrics starting with it.
   */
  metrics: { project: { workspace: string; project: string } } | { fromRuns: true };
  prefix?: string;
  exclude?: string;
  /** Follow the runs' live points (default true). */
  live?: boolean;
}

const ChartPanelView = lazy(() => import('./chart-panel-view'));

/**
 * Charts of the given runs (one per metric, every run overlaid). uPlot and the chart code load
 * with the first panel shown, not with the app.
 */
export function ChartPanel(props: ChartPanelProps) {
  return (
    <Suspense
      fallback={
        <p className="muted" role="status">
          Loading charts…
        </p>
      }
    >
      <ChartPanelView {...props} />
    </Suspense>
  );
}
