import type { Experiment } from '@cairn/sdk';
import { keepPreviousData, useQueries, useQuery } from '@tanstack/react-query';
import { useCairn } from '../auth/session';

export function experimentKey(key: string) {
  return ['experiments', key] as const;
}

/** Several experiments by key, each read once and shared by every view showing it. */
export function useExperimentsByKey(keys: readonly string[]) {
  const cairn = useCairn();
  return useQueries({
    queries: keys.map((key) => ({
      queryKey: experimentKey(key),
      queryFn: ({ signal }: { signal: AbortSignal }) => cairn.experiments.get(key, { signal }),
    })),
    combine: (results) => ({
      experiments: results.map((result) => result.data).filter((data): data is Experiment => data !== undefined),
      isPending: results.some((result) => result.isPending),
      errors: results.map((result, i) => ({ key: keys[i] as string, error: result.error })).filter((e) => e.error),
      refetch: () => Promise.all(results.map((result) => result.refetch())),
    }),
  });
}

/** A string literal of the query language: quotes and backslashes escaped. */
function queryString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The first page of a project's experiments whose name contains `search` (newest first). */
export function useExperimentChoices(workspace: string, project: string, search: string, limit = 100) {
  const cairn = useCairn();
  return useQuery({
    queryKey: ['experiments', workspace, project, 'choices', search, limit],
    queryFn: async ({ signal }) => {
      const page = await cairn.experiments(
        {
          workspace,
          project,
          filter: search ? `name contains ${queryString(search)}` : undefined,
          columns: ['status'],
          limit,
        },
        { signal },
      );
      return { items: page.items, total: page.total ?? null };
    },
    placeholderData: keepPreviousData,
  });
}
