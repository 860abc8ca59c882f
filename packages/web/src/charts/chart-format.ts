import type { XAxis } from './chart-data';

/** Number and x formatting of axes and tooltips, and the chart settings kept in the URL. Pure. */

export const X_AXES: readonly { value: XAxis; label: string }[] = [
  { value: 'step', label: 'Step' },
  { value: 'epoch', label: 'Epoch' },
  { value: 'wall', label: 'Wall time' },
  { value: 'relative', label: 'Relative time' },
];

export function parseXAxis(text: string): XAxis {
  return text === 'epoch' || text === 'wall' || text === 'relative' ? text : 'step';
}

/** `smooth=0..0.99`; anything else is no smoothing. */
export function parseSmoothing(text: string): number {
  const value = Number(text);
  if (!text || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(0.99, value);
}

/** `zoom=lo..hi` in the x axis' units; null when absent or malformed. */
export function parseZoom(text: string): { from: number; to: number } | null {
  const match = /^(-?[\d.e+]+)\.\.(-?[\d.e+]+)$/i.exec(text);
  if (!match) return null;
  const from = Number(match[1]);
  const to = Number(match[2]);
  if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) return null;
  return { from, to };
}

/**
 * Every x axis counts in integers (steps, epochs, epoch ms, ms since start), so a dragged range
 * widens to whole units: short URLs, and no point at the edge is lost to rounding.
 */
export function formatZoom(from: number, to: number): string {
  return `${Math.floor(from)}..${Math.ceil(to)}`;
}

/** A value for people: up to 6 significant digits, exponents for the very large and small. */
export function formatValue(value: number | null): string {
  if (value === null) return '–';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e6 || abs < 1e-4) return value.toExponential(3).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(6)));
}

const DURATION_UNITS = [
  { ms: 3_600_000, label: 'h' },
  { ms: 60_000, label: 'min' },
  { ms: 1_000, label: 's' },
] as const;

/** The unit a span of milliseconds reads best in: s below 2 min, min below 2 h, else h. */
export function durationUnit(spanMs: number): { ms: number; label: string } {
  const abs = Math.abs(spanMs);
  if (abs >= 2 * 3_600_000) return DURATION_UNITS[0];
  if (abs >= 2 * 60_000) return DURATION_UNITS[1];
  return DURATION_UNITS[2];
}

export function formatDuration(ms: number, unit = durationUnit(ms), digits = 4): string {
  return `${String(Number((ms / unit.ms).toPrecision(digits)))} ${unit.label}`;
}

/** An x value in the tooltip: steps as integers, wall time as a local date, relative as a duration. */
export function formatX(axis: XAxis, x: number): string {
  if (axis === 'wall') return new Date(x).toLocaleString();
  // Six digits: two x values a tooltip names side by side must not read the same.
  if (axis === 'relative') return formatDuration(x, durationUnit(x), 6);
  return Number.isInteger(x) ? x.toLocaleString('en-US') : formatValue(x);
}

export function xAxisLabel(axis: XAxis): string {
  return X_AXES.find((a) => a.value === axis)?.label ?? 'Step';
}
