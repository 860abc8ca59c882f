import type { ChartColumns } from '@cairn/sdk';
import { keepPreviousData, type QueryKey, useQuery } from '@tanstack/react-query';
import { useCairn } from '../auth/session';
import type { Cairn } from './cairn';

/** One chart's read: every run of a panel for one metric, on one x axis and range. */
export interface SeriesWindowParams {
  experiments: string[];
  metric: string;
  x: ChartColumns['x'];
  from: number | null;
  to: number | null;
  /** The plot's width in device pixels (≤ 2,000). */
  buckets: number;
}

/** The server takes at most 500 experiments per request. */
const MAX_EXPERIMENTS = 500;

export function seriesKey(params: SeriesWindowParams): QueryKey {
  return ['series', params.experiments, params.metric, params.x, params.from, params.to, params.buckets];
}

/** The params a `seriesKey` was made from (live updates find the cached windows they touch). */
export function seriesKeyParams(key: QueryKey): SeriesWindowParams | null {
  if (key[0] !== 'series' || key.length !== 7) return null;
  const [, experiments, metric, x, from, to, buckets] = key as [
    string,
    string[],
    string,
    ChartColumns['x'],
    number | null,
    number | null,
    number,
  ];
  return { experiments, metric, x, from, to, buckets };
}

export async function readSeriesWindow(
  cairn: Cairn,
  params: SeriesWindowParams,
  signal?: AbortSignal,
): Promise<ChartColumns> {
  const chunks: string[][] = [];
  for (let i = 0; i < params.experiments.length; i += MAX_EXPERIMENTS) {
    chunks.push(params.experiments.slice(i, i + MAX_EXPERIMENTS));
  }
  const answers = await Promise.all(
    chunks.map((experiments) =>
      cairn.series.columns(
        {
          experiments,
          metrics: [params.metric],
          x: params.x,
          ...(params.from !== null ? { from: params.from } : {}),
          ...(params.to !== null ? { to: params.to } : {}),
          buckets: params.buckets,
        },
        { signal },
      ),
    ),
  );
  return { x: params.x, series: answers.flatMap((answer) => answer.series) };
}

/**
 * A chart's series as typed arrays (the binary answer). While a new range or width loads, the
 * previous answer stays drawn (keepPreviousData), so a zoom never blanks the chart.
 */
export function useSeriesWindow(params: SeriesWindowParams, enabled: boolean) {
  const cairn = useCairn();
  return useQuery({
    queryKey: seriesKey(params),
    queryFn: ({ signal }) => readSeriesWindow(cairn, params, signal),
    enabled: enabled && params.experiments.length > 0 && params.buckets > 0,
    placeholderData: keepPreviousData,
  });
}
