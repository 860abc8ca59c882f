import { useQuery } from '@tanstack/react-query';
import { useCairn } from '../auth/session';

/**
 * Every metric name of a project's key catalogue, all pages (a project with 10,000 metrics is
 * ten requests of 1,000). `search` narrows on the server (a case-insensitive substring).
 */
export function useProjectMetricNames(scope: { workspace: string; project: string } | null, search?: string) {
  const cairn = useCairn();
  return useQuery({
    queryKey: ['keys', scope?.workspace, scope?.project, 'metric', search ?? ''],
    queryFn: async () => {
      if (!scope) return [];
      const names: string[] = [];
      const pages = cairn.experiments.keys({ ...scope, source: 'metric', search: search || undefined, limit: 1000 });
      for await (const key of pages) names.push(key.name);
      return names;
    },
    enabled: scope !== null,
  });
}
