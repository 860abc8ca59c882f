import type { ArtifactSummary, CursorPage } from '@cairn/sdk';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useCairn } from '../auth/session';

const enc = encodeURIComponent;

/** The workspace's artifacts, page by page, filtered by type and searched on the server. */
export function useArtifacts(workspace: string, filter: { search: string; type: string }) {
  const cairn = useCairn();
  return useInfiniteQuery({
    queryKey: ['artifacts', workspace, 'list', filter.type, filter.search],
    initialPageParam: null as CursorPage<ArtifactSummary> | null,
    queryFn: async ({ pageParam }) =>
      pageParam
        ? pageParam.getNextPage()
        : await cairn.artifacts.list(workspace, {
            ...(filter.search ? { search: filter.search } : {}),
            ...(filter.type ? { type: filter.type } : {}),
          }),
    getNextPageParam: (last) => (last.hasNextPage() ? last : undefined),
  });
}

export function useArtifact(workspace: string, artifact: string) {
  const cairn = useCairn();
  return useQuery({
    queryKey: ['artifacts', workspace, 'artifact', artifact],
    queryFn: () => cairn.artifacts.get({ workspace, artifact }),
  });
}

export function useArtifactVersion(workspace: string, artifact: string, version: string) {
  const cairn = useCairn();
  return useQuery({
    queryKey: ['artifacts', workspace, 'artifact', artifact, version],
    queryFn: () => cairn.artifacts.version({ workspace, artifact, version }),
  });
}

function versionPath(workspace: string, artifact: string, version: string): string {
  return `/api/cairn/v1/workspaces/${enc(workspace)}/artifacts/${enc(artifact)}/versions/${enc(version)}`;
}

export function artifactVersionZipUrl(workspace: string, artifact: string, version: string): string {
  return `${versionPath(workspace, artifact, version)}/download`;
}

export function artifactFileUrl(workspace: string, artifact: string, version: string, fileId: string): string {
  return `${versionPath(workspace, artifact, version)}/files/${enc(fileId)}`;
}
