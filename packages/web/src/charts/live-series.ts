import type { CairnEvent, ChartColumns } from '@cairn/sdk';
import { type QueryClient, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef } from 'react';
import { type LiveScope, type LiveStatus, useLiveEvents } from '../api/live';
import { type SeriesWindowParams, seriesKeyParams } from '../api/series.hooks';
import { appendLivePoints, type LivePoints, type RunColumns, type XAxis } from './chart-data';

/** Charts redraw at most twice a second, however fast points arrive. */
const FLUSH_MS = 500;
/** Past this many points an exact window is read again (bucketed) rather than grown forever. */
const EXACT_GROWTH_LIMIT = 2;

interface RawPoints {
  steps: (number | null)[];
  epochs: (number | null)[];
  timestamps: number[];
  values: number[];
}

function pickX(points: RawPoints, axis: XAxis): LivePoints {
  const out: LivePoints = { x: [], values: [] };
  for (let i = 0; i < points.values.length; i++) {
    const x = axis === 'step' ? points.steps[i] : axis === 'epoch' ? points.epochs[i] : points.timestamps[i];
    if (x === null || x === undefined) continue;
    out.x.push(x);
    out.values.push(points.values[i] as number);
  }
  return out;
}

function bucketWidth(series: RunColumns, params: SeriesWindowParams): number {
  if (series.exact) return 0;
  const lo = params.from ?? (series.x0[0] as number);
  const hi = params.to ?? (series.x1[series.x1.length - 1] as number);
  return Math.max(0, (hi - lo) / params.buckets);
}

/**
 * Puts a batch of live points into every cached chart window they belong to: those windows are
 * redrawn by their charts (only mounted charts draw; the others are up to date when they mount).
 * A window that cannot take points in place is refetched instead: relative time (the run's start
 * is not in the window), a run's first points of a metric, an exact window grown past twice its
 * bucket count. Returns how many windows changed.
 */
export function applyLivePoints(
  queryClient: QueryClient,
  batch: Map<string, Map<string, RawPoints>>,
  runKeys: ReadonlySet<string>,
): number {
  let changed = 0;
  const refetch: SeriesWindowParams[] = [];
  for (const [key, data] of queryClient.getQueriesData<ChartColumns>({ queryKey: ['series'] })) {
    const params = seriesKeyParams(key);
    if (!params || !data) continue;
    const touching = params.experiments.filter((e) => runKeys.has(e) && batch.get(e)?.has(params.metric));
    if (touching.length === 0) continue;
    if (params.x === 'relative') {
      refetch.push(params);
      continue;
    }
    const present = new Set(data.series.map((s) => s.experiment));
    if (touching.some((e) => !present.has(e))) {
      refetch.push(params);
      continue;
    }
    let grown = false;
    const series = data.series.map((s) => {
      const raw = batch.get(s.experiment)?.get(params.metric);
      if (!raw) return s;
      const next = appendLivePoints(s, pickX(raw, params.x), {
        from: params.from,
        to: params.to,
        bucketWidth: bucketWidth(s, params),
      });
      if (next.exact && next.x.length > EXACT_GROWTH_LIMIT * params.buckets) grown = true;
      return next;
    });
    if (grown) {
      refetch.push(params);
      continue;
    }
    queryClient.setQueryData<ChartColumns>(key, { ...data, series });
    changed++;
  }
  for (const params of refetch) {
    void queryClient.invalidateQueries({
      queryKey: ['series', params.experiments, params.metric, params.x],
      exact: false,
    });
  }
  return changed;
}

/**
 * Follows the panel's runs live: the project's stream when the panel knows its project, else one
 * stream per run for up to 5 runs. Points are gathered and applied at most twice a second;
 * a truncated batch or a `reset` refetches the windows it touches. `onNewMetric` hears of metric
 * names the panel has not listed yet.
 */
export function useLiveSeries(options: {
  runs: readonly string[];
  project: { workspace: string; project: string } | null;
  enabled: boolean;
  onNewMetric(experiment: string, name: string): void;
}): LiveStatus | null {
  const queryClient = useQueryClient();
  const runKeys = useMemo(() => new Set(options.runs), [options.runs]);
  const pending = useRef(new Map<string, Map<string, RawPoints>>());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const state = useRef({ runKeys, onNewMetric: options.onNewMetric });
  state.current = { runKeys, onNewMetric: options.onNewMetric };

  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );

  const refetchRuns = (experiments: Set<string>, metrics: Set<string> | null) => {
    void queryClient.invalidateQueries({
      predicate: (query) => {
        const params = seriesKeyParams(query.queryKey);
        if (!params) return false;
        return params.experiments.some((e) => experiments.has(e)) && (metrics === null || metrics.has(params.metric));
      },
    });
  };

  const onEvent = (event: CairnEvent) => {
    const { runKeys: keys, onNewMetric } = state.current;
    if (event.event === 'reset') {
      refetchRuns(new Set(keys), null);
      return;
    }
    if (event.event !== 'points' || !keys.has(event.data.experiment)) return;
    const experiment = event.data.experiment;
    if (event.data.truncated) {
      const names = new Set(event.data.series.map((s) => s.name));
      for (const name of names) onNewMetric(experiment, name);
      refetchRuns(new Set([experiment]), names);
      return;
    }
    let byMetric = pending.current.get(experiment);
    if (!byMetric) {
      byMetric = new Map();
      pending.current.set(experiment, byMetric);
    }
    for (const s of event.data.series) {
      onNewMetric(experiment, s.name);
      let raw = byMetric.get(s.name);
      if (!raw) {
        raw = { steps: [], epochs: [], timestamps: [], values: [] };
        byMetric.set(s.name, raw);
      }
      for (let i = 0; i < s.values.length; i++) {
        raw.steps.push(s.steps[i] ?? null);
        raw.epochs.push(s.epochs[i] ?? null);
        raw.timestamps.push(s.timestamps[i] as number);
        const value = s.values[i] as number | string;
        raw.values.push(typeof value === 'number' ? value : Number(value));
      }
    }
    if (!timer.current) {
      timer.current = setTimeout(() => {
        timer.current = null;
        const batch = pending.current;
        pending.current = new Map();
        applyLivePoints(queryClient, batch, state.current.runKeys);
      }, FLUSH_MS);
    }
  };

  const { project, runs, enabled } = options;
  const projectScope: LiveScope | null = enabled && project ? project : null;
  const perRun = enabled && !project && runs.length <= 5;
  const statuses = [
    useLiveEvents(projectScope, onEvent),
    useLiveEvents(perRun && runs[0] ? { experiment: runs[0] } : null, onEvent),
    useLiveEvents(perRun && runs[1] ? { experiment: runs[1] } : null, onEvent),
    useLiveEvents(perRun && runs[2] ? { experiment: runs[2] } : null, onEvent),
    useLiveEvents(perRun && runs[3] ? { experiment: runs[3] } : null, onEvent),
    useLiveEvents(perRun && runs[4] ? { experiment: runs[4] } : null, onEvent),
  ];
  if (projectScope) return statuses[0] as LiveStatus;
  if (!perRun || runs.length === 0) return null;
  const used = statuses.slice(1, 1 + runs.length);
  return used.includes('failed') ? 'failed' : used.includes('connecting') ? 'connecting' : 'live';
}
