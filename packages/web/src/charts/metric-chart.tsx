import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useSeriesWindow } from '../api/series.hooks';
import { InlineError } from '../app/panel';
import { onThemeChange } from '../app/theme';
import type { RunColumns } from './chart-data';
import { alignSeries } from './chart-data';
import { xAxisLabel } from './chart-format';
import type { ChartRun } from './chart-panel';
import type { ChartSettings } from './chart-settings';
import { buildPlotData, runSummaries } from './plot-data';
import { buildPlotOptions, type PlotTheme, readPlotTheme } from './plot-options';

export const PLOT_HEIGHT = 200;
/** The y axis' fixed width: the plot's width (and so the bucket count) is known before drawing. */
export const Y_AXIS_WIDTH = 56;
const MAX_BUCKETS = 2000;
/**
 * Buckets of all runs of a chart together, at most: 100 overlapping runs cannot show a distinct
 * value at every pixel each, and drawing or sending 100 × 460 buckets (line and band) cost a
 * third of a second and 3 MB a chart. Each run keeps at least MIN_RUN_BUCKETS; a zoom re-reads
 * at the same count, so exact points are still reached.
 */
const CHART_BUCKET_BUDGET = 20_000;
const MIN_RUN_BUCKETS = 150;

/** The plot's width in CSS px, measured on the element, settled for 150 ms before it counts. */
function useSettledWidth(ref: React.RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    setWidth(Math.floor(element.getBoundingClientRect().width));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const observer = new ResizeObserver(() => {
      clearTimeout(timer);
      timer = setTimeout(() => setWidth(Math.floor(element.getBoundingClientRect().width)), 150);
    });
    observer.observe(element);
    return () => {
      clearTimeout(timer);
      observer.disconnect();
    };
  }, [ref]);
  return width;
}

function useThemeVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => onThemeChange(() => setVersion((v) => v + 1)), []);
  return version;
}

/**
 * One metric of every run of the panel, drawn by uPlot. Mounted only while near the viewport
 * (ChartCard); reads its window of the series, keeps the previous answer drawn while a new
 * range loads, and never re-renders React on hover (the tooltip is written to the DOM).
 */
export function MetricChart({
  metric,
  runs,
  settings,
  syncKey,
  onZoom,
  onState,
}: {
  metric: string;
  runs: ChartRun[];
  settings: ChartSettings;
  syncKey: string;
  onZoom(range: { from: number; to: number } | null): void;
  /** What is drawn, for the card's header and its test hooks. */
  onState(state: DrawnState): void;
}) {
  const frame = useRef<HTMLDivElement>(null);
  const tooltip = useRef<HTMLDivElement>(null);
  const width = useSettledWidth(frame);
  const themeVersion = useThemeVersion();
  const plotWidth = Math.max(0, width - Y_AXIS_WIDTH - 8);
  const dpr = typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1;
  const perRun = Math.max(MIN_RUN_BUCKETS, Math.floor(CHART_BUCKET_BUDGET / Math.max(1, runs.length)));
  const buckets = Math.max(1, Math.min(MAX_BUCKETS, Math.round(plotWidth * dpr), perRun));
  const experiments = useMemo(() => runs.map((run) => run.key), [runs]);
  const query = useSeriesWindow(
    {
      experiments,
      metric,
      x: settings.x,
      from: settings.zoom?.from ?? null,
      to: settings.zoom?.to ?? null,
      buckets,
    },
    plotWidth > 0,
  );

  // The previous answer may be of another x axis while the new one loads: never draw it then.
  const data = query.data && query.data.x === settings.x ? query.data : undefined;
  const aligned = useMemo(() => {
    if (!data) return null;
    const byKey = new Map<string, RunColumns>(data.series.map((s) => [s.experiment, s]));
    const ordered = experiments.map((key) => byKey.get(key)).filter((s): s is RunColumns => s !== undefined);
    // Buckets of a zoomed read share the window's grid; the cells are the same as the server's.
    const zoomed = query.isPlaceholderData ? null : settings.zoom;
    return alignSeries(ordered, { cells: buckets, lo: zoomed?.from ?? null, hi: zoomed?.to ?? null });
  }, [data, experiments, buckets, settings.zoom, query.isPlaceholderData]);
  const plotData = useMemo(
    () =>
      aligned
        ? buildPlotData(aligned, { smooth: settings.smooth, log: settings.log, outliers: settings.outliers })
        : null,
    [aligned, settings.smooth, settings.log, settings.outliers],
  );

  const plot = useRef<uPlot | null>(null);
  const live = useRef({ plotData, aligned, settings, onZoom, runs });
  live.current = { plotData, aligned, settings, onZoom, runs };
  const theme = useMemo<PlotTheme | null>(() => (themeVersion >= 0 ? readPlotTheme() : null), [themeVersion]);
  // What forces a new uPlot: its series layout, scales or colors. Data alone only calls setData.
  const layout = plotData
    ? [
        plotData.runs.map((r) => `${r.experiment}:${r.minIdx}:${r.rawIdx}:${r.lineIdx}`).join(','),
        settings.x,
        settings.log,
        themeVersion,
      ].join('|')
    : '';

  // biome-ignore lint/correctness/useExhaustiveDependencies: rebuilt when the layout changes, the rest is read from refs.
  useLayoutEffect(() => {
    const target = frame.current;
    const current = live.current.plotData;
    if (!target || !current || !theme || plotWidth <= 0) return;
    const options = buildPlotOptions({
      metric,
      runs: live.current.runs,
      plotData: current,
      width: plotWidth + Y_AXIS_WIDTH,
      height: PLOT_HEIGHT,
      yAxisWidth: Y_AXIS_WIDTH,
      theme,
      syncKey,
      get: () => live.current,
      tooltip: () => tooltip.current,
    });
    const created = new uPlot(options, current.columns as uPlot.AlignedData, target);
    plot.current = created;
    return () => {
      created.destroy();
      plot.current = null;
    };
  }, [layout, syncKey]);

  // A zoom redraws even before its data arrives: the x range comes from the zoom (a ref), so the
  // previous answer is shown at the new range meanwhile.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the zoom is read through the live ref.
  useLayoutEffect(() => {
    if (plot.current && plotData) plot.current.setData(plotData.columns as uPlot.AlignedData, true);
  }, [plotData, settings.zoom]);

  useLayoutEffect(() => {
    if (plot.current && plotWidth > 0) plot.current.setSize({ width: plotWidth + Y_AXIS_WIDTH, height: PLOT_HEIGHT });
  }, [plotWidth]);

  useEffect(() => {
    onState({
      loading: query.isFetching,
      exact: aligned?.exact ?? null,
      maxPerCell: aligned?.maxPerCell ?? 0,
      points: aligned?.points ?? 0,
      lastX: aligned?.lastX ?? null,
      clipped: plotData?.yRange?.clipped ?? 0,
      runsWithData: aligned?.runs.length ?? 0,
      summaries: aligned ? runSummaries(aligned) : [],
    });
  }, [aligned, plotData, query.isFetching, onState]);

  return (
    <div className="chart-frame" ref={frame} style={{ height: PLOT_HEIGHT }}>
      <div className="chart-tooltip" ref={tooltip} hidden />
      {query.isError && !data && <InlineError error={query.error} onRetry={() => void query.refetch()} />}
      {data && aligned && aligned.points === 0 && (
        <div className="chart-empty muted">
          No points of {metric} for these runs{settings.zoom ? ' in this range' : ''} on the{' '}
          {xAxisLabel(settings.x).toLowerCase()} axis
        </div>
      )}
    </div>
  );
}

export interface DrawnState {
  loading: boolean;
  exact: boolean | null;
  maxPerCell: number;
  points: number;
  lastX: number | null;
  clipped: number;
  runsWithData: number;
  summaries: ReturnType<typeof runSummaries>;
}
