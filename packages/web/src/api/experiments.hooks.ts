import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useCairn } from '../auth/session';

export function experimentKey(key: string) {
  return ['experiments', key] as const;
}

/** Several experiments by key, each read once and shared by every view showing it. */
/**
 * Names of the given experiments of a project, in one table query per 150 keys (a filter holds
 * at most 200 tests): a chart page of 100 runs would otherwise spend 100 requests, six at a time,
 * in front of its series reads.
 */
export function useExperimentNames(workspace: string, project: string, keys: readonly string[]) {
  const cairn = useCairn();
  const sorted = [...keys].sort();
  return useQuery({
    queryKey: ['experiments', workspace, project, 'names', sorted],
    enabled: sorted.length > 0,
    queryFn: async ({ signal }) => {
      const names = new Map<string, string>();
      for (let i = 0; i < sorted.length; i += 150) {
        const chunk = sorted.slice(i, i + 150);
        const page = await cairn.experiments.query(
          {
            workspace,
            project,
            filter: chunk.map((key) => `key = ${queryString(key)}`).join(' or '),
            archived: 'all',
            limit: chunk.length,
            count: false,
          },
          { signal },
        );
        for (const row of page.items) names.set(row.key, row.name ?? row.key.slice(0, 8));
      }
      return names;
    },
    placeholderData: keepPreviousData,
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
