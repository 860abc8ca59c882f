import uPlot from 'uplot';
import { cssVar } from '../app/theme';
import type { AlignedChart } from './chart-data';
import { durationUnit, formatDuration, formatValue, formatX } from './chart-format';
import type { ChartRun } from './chart-panel';
import type { ChartSettings } from './chart-settings';
import type { PlotData } from './plot-data';
import { runColor, withAlpha } from './run-colors';

/** The colors a canvas cannot take from CSS by itself: read again on every theme change. */
export interface PlotTheme {
  axis: string;
  grid: string;
  fg: string;
  bandAlpha: number;
  font: string;
}

export function readPlotTheme(): PlotTheme {
  const family = getComputedStyle(document.body).fontFamily || 'system-ui, sans-serif';
  return {
    axis: cssVar('--chart-axis') || '#5c6876',
    grid: cssVar('--chart-grid') || 'rgba(0,0,0,0.08)',
    fg: cssVar('--fg') || '#1b2430',
    bandAlpha: Number(cssVar('--chart-band-alpha')) || 0.2,
    font: `11px ${family}`,
  };
}

/** Axis ticks: short, so the y axis keeps its fixed width (10k, 1.5M, 2e-5). */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (value === 0) return '0';
  if (abs >= 1e4) {
    const units: [number, string][] = [
      [1e12, 'T'],
      [1e9, 'G'],
      [1e6, 'M'],
      [1e3, 'k'],
    ];
    for (const [size, suffix] of units) {
      if (abs >= size) return `${Number((value / size).toPrecision(3))}${suffix}`;
    }
  }
  if (abs < 1e-3) return value.toExponential(1).replace('.0e', 'e');
  return String(Number(value.toPrecision(4)));
}

// A log axis leaves out some splits (null) where labels would crowd.
const tickText = (value: number | null) => (value == null ? '' : formatTick(value));

// Relative time ticks fall on round durations: 1 s … 30 s, 1 min … 30 min, 1 h … 1 day and more.
const DURATION_INCREMENTS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 172_800_000, 604_800_000,
];

interface LiveRefs {
  plotData: PlotData | null;
  aligned: AlignedChart | null;
  settings: ChartSettings;
  onZoom(range: { from: number; to: number } | null): void;
  runs: ChartRun[];
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The nearest index at or around `idx` where `values` has a value, within `reach` indices. */
function nearestIndex(values: readonly (number | null)[], idx: number, reach: number): number | null {
  for (let d = 0; d <= reach; d++) {
    if (values[idx - d] != null) return idx - d;
    if (values[idx + d] != null) return idx + d;
  }
  return null;
}

/**
 * The tooltip at data index `idx`: the x (a range for buckets), then every run's value with its
 * color, for buckets also min and max, for smoothing the smoothed value beside the raw one.
 */
export function tooltipHtml(refs: LiveRefs, idx: number, xSpan: number): string {
  const { aligned, plotData, settings, runs } = refs;
  if (!aligned || !plotData) return '';
  const x = aligned.xs[idx];
  if (x === undefined) return '';
  const names = new Map(runs.map((run) => [run.key, run.name]));
  // Every x axis counts in whole units: a cell stands for the whole units inside it.
  const header =
    aligned.halfCell > 0
      ? `${escapeHtml(formatX(settings.x, Math.ceil(x - aligned.halfCell)))} – ${escapeHtml(formatX(settings.x, Math.floor(x + aligned.halfCell)))}`
      : escapeHtml(formatX(settings.x, x));
  const reach = aligned.runs.length * 2 + 2;
  const rows: string[] = [];
  aligned.runs.forEach((run, r) => {
    const at = nearestIndex(run.line, idx, reach);
    if (at === null) return;
    const atX = aligned.xs[at] as number;
    if (at !== idx && Math.abs(atX - x) > xSpan / 50) return;
    const value = run.line[at] as number;
    const smoothed = plotData.runs[r]?.drawn[at];
    const color = runColor(run.experiment);
    const name = escapeHtml(names.get(run.experiment) ?? run.experiment);
    const main =
      settings.smooth > 0 && smoothed != null
        ? `${escapeHtml(formatValue(smoothed))} <span class="muted">(${escapeHtml(formatValue(value))})</span>`
        : escapeHtml(formatValue(value));
    const count = run.count[at] ?? 1;
    const extremes =
      !aligned.exact && count > 1
        ? `<span class="chart-tooltip-range">${escapeHtml(formatValue(run.min[at] ?? null))} … ${escapeHtml(formatValue(run.max[at] ?? null))} · ${count} pts</span>`
        : '';
    rows.push(
      `<div class="chart-tooltip-row"><span class="chart-swatch" style="background:${color}"></span><span class="chart-tooltip-name">${name}</span><span class="chart-tooltip-value">${main}</span>${extremes}</div>`,
    );
  });
  return `<div class="chart-tooltip-x">${header}</div>${rows.join('')}`;
}

export function buildPlotOptions(input: {
  metric: string;
  runs: ChartRun[];
  plotData: PlotData;
  width: number;
  height: number;
  yAxisWidth: number;
  theme: PlotTheme;
  syncKey: string;
  get(): LiveRefs;
  tooltip(): HTMLDivElement | null;
}): uPlot.Options {
  const { plotData, theme, get } = input;
  const settings = get().settings;
  const names = new Map(input.runs.map((run) => [run.key, run.name]));
  const series: uPlot.Series[] = [{ label: settings.x }];
  for (const run of plotData.runs) {
    const color = runColor(run.experiment);
    const name = names.get(run.experiment) ?? run.experiment;
    // Indices follow plotData's column layout: min, max, raw, line.
    if (run.minIdx !== null && run.maxIdx !== null) {
      // The band's edges are drawn faintly too: a spike in one bucket is a sliver of fill, but a
      // visible line. Under smoothing the faint raw line is there already; edges would be clutter.
      const edge = withAlpha(color, 0.4);
      const edgeWidth = run.rawIdx === null ? 1 : 0;
      series.push({ label: `${name} min`, stroke: edge, width: edgeWidth, points: { show: false }, spanGaps: true });
      // The max series fills down to the min series itself (one polygon per run): uPlot's own
      // bands clip every band against both edges, which cost half a second a chart at 100 runs.
      series.push({
        label: `${name} max`,
        stroke: edge,
        width: edgeWidth,
        fill: withAlpha(color, theme.bandAlpha),
        points: { show: false },
        paths: bandPaths(run.minIdx),
      });
    }
    if (run.rawIdx !== null) {
      series.push({
        label: `${name} raw`,
        stroke: withAlpha(color, 0.28),
        width: 1,
        points: { show: false },
        spanGaps: true,
      });
    }
    series.push({ label: name, stroke: color, width: 1.5, spanGaps: true, points: { size: 4 } });
  }

  const axisBase = {
    stroke: theme.axis,
    font: theme.font,
    grid: { stroke: theme.grid, width: 1 },
    ticks: { stroke: theme.grid, width: 1, size: 4 },
  };
  // Wall time ticks take two lines (time, and the date where it changes).
  const xAxis: uPlot.Axis = { ...axisBase, size: settings.x === 'wall' ? 44 : 30, space: 70 };
  if (settings.x === 'relative') {
    xAxis.incrs = DURATION_INCREMENTS;
    xAxis.values = (u, splits) => {
      const unit = durationUnit((u.scales.x?.max ?? 0) - (u.scales.x?.min ?? 0));
      return splits.map((v) => (v == null ? '' : formatDuration(v, unit)));
    };
  } else if (settings.x !== 'wall') {
    xAxis.values = (_u, splits) => splits.map(tickText);
  }

  let hovered = false;
  const hideTooltip = () => {
    const el = input.tooltip();
    if (el) el.hidden = true;
  };

  return {
    width: input.width,
    height: input.height,
    ms: 1,
    pxAlign: false,
    legend: { show: false },
    // Room on the right for the last x tick's label, which uPlot centers on the plot's edge.
    padding: [8, settings.x === 'wall' ? 32 : 20, 0, 0],
    series,
    scales: {
      x: {
        time: settings.x === 'wall',
        range: (_u, min, max) => {
          const zoom = get().settings.zoom;
          if (zoom) return zoom.from === zoom.to ? [zoom.from - 0.5, zoom.to + 0.5] : [zoom.from, zoom.to];
          if (min == null || max == null) return [0, 1];
          return min === max ? [min - 1, max + 1] : [min, max];
        },
      },
      y: settings.log
        ? {
            distr: 3,
            log: 10,
            range: (_u, min, max) => {
              const y = get().plotData?.yRange;
              if (y && y.min > 0) return uPlot.rangeLog(y.min, y.max, 10, true);
              if (min == null || max == null) return [1, 10];
              return uPlot.rangeLog(min, max, 10, true);
            },
          }
        : {
            range: (_u, min, max) => {
              const y = get().plotData?.yRange;
              const lo = y ? y.min : min;
              const hi = y ? y.max : max;
              if (lo == null || hi == null) return [0, 1];
              return uPlot.rangeNum(lo, hi, 0.08, true) as uPlot.Range.MinMax;
            },
          },
    },
    axes: [xAxis, { ...axisBase, size: input.yAxisWidth, values: (_u, splits) => splits.map(tickText) }],
    cursor: {
      sync: { key: input.syncKey, setSeries: false },
      drag: { x: true, y: false, setScale: false },
      points: { show: false },
      bind: {
        // Double-click clears the panel's zoom (in the URL), not just this chart's scale.
        dblclick: () => () => {
          get().onZoom(null);
          return null;
        },
        mouseenter: (_u, _t, handler) => (e) => {
          hovered = true;
          return handler(e);
        },
        mouseleave: (_u, _t, handler) => (e) => {
          hovered = false;
          hideTooltip();
          return handler(e);
        },
      },
    },
    hooks: {
      setSelect: [
        (u) => {
          const { left, width } = u.select;
          if (hovered && width > 2) {
            get().onZoom({ from: u.posToVal(left, 'x'), to: u.posToVal(left + width, 'x') });
          }
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        },
      ],
      setCursor: [
        (u) => {
          const el = input.tooltip();
          if (!el) return;
          const idx = u.cursor.idx;
          const left = u.cursor.left ?? -1;
          if (!hovered || idx == null || left < 0) {
            el.hidden = true;
            return;
          }
          const xs = u.scales.x;
          el.innerHTML = tooltipHtml(get(), idx, (xs?.max ?? 1) - (xs?.min ?? 0));
          el.hidden = false;
          const frame = el.parentElement?.getBoundingClientRect();
          const over = u.over.getBoundingClientRect();
          if (!frame) return;
          const x = over.left - frame.left + left;
          const y = over.top - frame.top + (u.cursor.top ?? 0);
          const fitsRight = x + 16 + el.offsetWidth <= frame.width;
          el.style.left = `${fitsRight ? x + 16 : Math.max(0, x - 16 - el.offsetWidth)}px`;
          el.style.top = `${Math.max(0, Math.min(y - 10, frame.height - el.offsetHeight))}px`;
        },
      ],
    },
  };
}

/**
 * The band of one run as uPlot paths of its max series: the max line as the stroke, and for
 * fill the polygon along the max values and back along the min values of `minIdx`, one per
 * stretch without gaps.
 */
export function bandPaths(minIdx: number): uPlot.Series.PathBuilder {
  return (u, seriesIdx, idx0, idx1) => {
    const xs = u.data[0];
    const hi = u.data[seriesIdx];
    const lo = u.data[minIdx];
    const stroke = new Path2D();
    const fill = new Path2D();
    if (!hi || !lo) return { stroke, fill };
    const x = (i: number) => u.valToPos(xs[i] as number, 'x', true);
    const y = (v: number) => u.valToPos(v, 'y', true);
    let start = -1;
    const close = (end: number) => {
      if (start < 0) return;
      for (let i = start; i <= end; i++) {
        const px = x(i);
        const py = y(hi[i] as number);
        if (i === start) {
          stroke.moveTo(px, py);
          fill.moveTo(px, py);
        } else {
          stroke.lineTo(px, py);
          fill.lineTo(px, py);
        }
      }
      for (let i = end; i >= start; i--) fill.lineTo(x(i), y(lo[i] as number));
      fill.closePath();
      start = -1;
    };
    for (let i = idx0; i <= idx1; i++) {
      const present = hi[i] != null && lo[i] != null;
      if (present && start < 0) start = i;
      if (!present) close(i - 1);
    }
    close(idx1);
    return { stroke, fill };
  };
}
