import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useSearchParams } from 'react-router';
import type { XAxis } from './chart-data';
import { formatZoom, parseSmoothing, parseXAxis, parseZoom } from './chart-format';

/** The charts' view, all of it in readable query params: a copied URL shows the same charts. */
export interface ChartSettings {
  /** `x=step|epoch|wall|relative` */
  x: XAxis;
  /** `log=1` */
  log: boolean;
  /** `smooth=0..0.99` */
  smooth: number;
  /** `outliers=1` */
  outliers: boolean;
  /** `zoom=lo..hi`, shared by every chart of the panel */
  zoom: { from: number; to: number } | null;
  /** `mq=`: the chart search */
  search: string;
}

export type SettingsPatch = Partial<Record<'x' | 'log' | 'smooth' | 'outliers' | 'zoom' | 'mq', string | null>>;

/**
 * Reads the settings and changes several params in one navigation (changing the x axis drops the
 * zoom with it: a range of steps means nothing on a time axis). Updates build on the latest
 * params, also before the router has caught up, so quick successive changes all apply.
 */
export function useChartSettings(): [ChartSettings, (patch: SettingsPatch, options?: { push?: boolean }) => void] {
  const [urlParams, setParams] = useSearchParams();
  // A control shows its new value at once: the URL catches up in a navigation, and a controlled
  // checkbox or slider would flip back until then. The URL's next value replaces this.
  const [pending, setPending] = useState<URLSearchParams | null>(null);
  const urlText = urlParams.toString();
  // biome-ignore lint/correctness/useExhaustiveDependencies: the URL's value is what clears it.
  useEffect(() => setPending(null), [urlText]);
  const params = pending ?? urlParams;
  const x = params.get('x') ?? '';
  const log = params.get('log') ?? '';
  const smooth = params.get('smooth') ?? '';
  const outliers = params.get('outliers') ?? '';
  const zoom = params.get('zoom') ?? '';
  const search = params.get('mq') ?? '';
  const settings = useMemo<ChartSettings>(
    () => ({
      x: parseXAxis(x),
      log: log === '1',
      smooth: parseSmoothing(smooth),
      outliers: outliers === '1',
      zoom: parseZoom(zoom),
      search,
    }),
    [x, log, smooth, outliers, zoom, search],
  );
  const latest = useRef(params);
  latest.current = params;
  const update = useCallback(
    (patch: SettingsPatch, options?: { push?: boolean }) => {
      const next = new URLSearchParams(latest.current);
      for (const [name, value] of Object.entries(patch)) {
        if (value === null || value === undefined || value === '') next.delete(name);
        else next.set(name, value);
      }
      if ('x' in patch) next.delete('zoom');
      if (next.get('x') === 'step') next.delete('x');
      latest.current = next;
      setPending(next);
      setParams(next, { replace: !options?.push });
    },
    [setParams],
  );
  return [settings, update];
}

export function zoomParam(range: { from: number; to: number } | null): string | null {
  return range ? formatZoom(Math.min(range.from, range.to), Math.max(range.from, range.to)) : null;
}
