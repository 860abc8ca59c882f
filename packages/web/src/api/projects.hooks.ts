import { type CursorPage, NotFoundError, type Project } from '@cairn/sdk';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useCairn } from '../auth/session';

/** The caller's workspaces, by name. */
export function useWorkspaces() {
  const cairn = useCairn();
  return useQuery({ queryKey: ['workspaces'], queryFn: () => cairn.workspaces.list() });
}

/** A workspace's projects by name, a page at a time; `search` filters on the server. */
export function useProjectList(workspace: string, search: string, pageSize = 50) {
  const cairn = useCairn();
  return useInfiniteQuery({
    queryKey: ['projects', workspace, 'list', search, pageSize],
    queryFn: async ({ pageParam }): Promise<CursorPage<Project>> =>
      pageParam ? pageParam.getNextPage() : await cairn.projects.list(workspace, { search, limit: pageSize }),
    initialPageParam: null as CursorPage<Project> | null,
    getNextPageParam: (last) => (last.hasNextPage() ? last : undefined),
  });
}

/** One project; `pollMs` re-reads it (an empty project waiting for its first experiment). */
export function useProject(workspace: string, project: string, pollMs?: number) {
  const cairn = useCairn();
  return useQuery({
    queryKey: ['projects', workspace, project],
    queryFn: () => cairn.projects.get(workspace, project),
    refetchInterval: pollMs ?? false,
    retry: (failures, error) => !(error instanceof NotFoundError) && failures < 1,
  });
}
