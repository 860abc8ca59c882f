import type { SeriesSummary } from '@cairn/sdk';
import { useQueries } from '@tanstack/react-query';
import { useCairn } from '../auth/session';

export function metricListKey(experiment: string) {
  return ['metrics', experiment, 'list'] as const;
}

/** Each run's series with their exact summaries (`GET /experiments/{key}/metrics`). */
export function useMetricLists(experiments: readonly string[], enabled = true) {
  const cairn = useCairn();
  return useQueries({
    queries: experiments.map((key) => ({
      queryKey: metricListKey(key),
      queryFn: ({ signal }: { signal: AbortSignal }) => cairn.metrics.list(key, { signal }),
      enabled,
    })),
    combine: (results) => ({
      lists: results.map((result) => result.data).filter((data): data is SeriesSummary[] => data !== undefined),
      isPending: results.some((result) => result.isPending && enabled),
      error: results.find((result) => result.error)?.error ?? null,
      refetch: () => Promise.all(results.map((result) => result.refetch())),
    }),
  });
}
