import type { CursorPage, RegistryModel, RegistryModelSummary, RegistryVersion } from '@cairn/sdk';
import { NotFoundError } from '@cairn/sdk';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCairn } from '../auth/session';

const enc = encodeURIComponent;

/** The workspace's registered models, page by page, searched on the server. */
export function useRegistryModels(workspace: string, search: string) {
  const cairn = useCairn();
  return useInfiniteQuery({
    queryKey: ['registry', workspace, 'models', search],
    initialPageParam: null as CursorPage<RegistryModelSummary> | null,
    queryFn: async ({ pageParam }) =>
      pageParam ? pageParam.getNextPage() : await cairn.registry.list(workspace, search ? { search } : {}),
    getNextPageParam: (last) => (last.hasNextPage() ? last : undefined),
  });
}

export function useRegistryModel(workspace: string, model: string) {
  const cairn = useCairn();
  return useQuery({
    queryKey: ['registry', workspace, 'model', model],
    queryFn: () => cairn.registry.get({ workspace, model }),
  });
}

/** Replaces a version in the cached model (the answer of a stage change is the version). */
function withVersion(model: RegistryModel | undefined, version: RegistryVersion): RegistryModel | undefined {
  if (!model) return model;
  return { ...model, versions: model.versions.map((v) => (v.version === version.version ? version : v)) };
}

export function useStageMutation(workspace: string, model: string) {
  const cairn = useCairn();
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ version, stage, remove }: { version: string; stage: string; remove: boolean }) =>
      remove
        ? cairn.registry.removeStage({ workspace, model, version }, stage)
        : cairn.registry.addStage({ workspace, model, version }, stage),
    onSuccess: (version) => {
      client.setQueryData<RegistryModel>(['registry', workspace, 'model', model], (current) =>
        withVersion(current, version),
      );
      // The listing shows the latest version's stages.
      void client.invalidateQueries({ queryKey: ['registry', workspace, 'models'] });
    },
  });
}

export function useModelNotesMutation(workspace: string, model: string) {
  const cairn = useCairn();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (notes: string) => cairn.registry.setNotes({ workspace, model }, notes),
    onSuccess: (_, notes) =>
      client.setQueryData<RegistryModel>(['registry', workspace, 'model', model], (current) =>
        current ? { ...current, notes } : current,
      ),
  });
}

/** An experiment by key, or null when it no longer exists (registry versions outlive theirs). */
export function useExperimentIfAny(key: string) {
  const cairn = useCairn();
  return useQuery({
    queryKey: ['experiments', key, 'if-any'],
    queryFn: async () => {
      try {
        return await cairn.experiments.get(key);
      } catch (error) {
        if (error instanceof NotFoundError) return null;
        throw error;
      }
    },
    staleTime: 5 * 60_000,
  });
}

function versionPath(workspace: string, model: string, version: string): string {
  return `/api/cairn/v1/workspaces/${enc(workspace)}/registry/models/${enc(model)}/versions/${enc(version)}`;
}

/** The version's files as one zip (a plain link: the session cookie authenticates it). */
export function registryVersionZipUrl(workspace: string, model: string, version: string): string {
  return `${versionPath(workspace, model, version)}/download`;
}

export function registryFileUrl(workspace: string, model: string, version: string, fileId: string): string {
  return `${versionPath(workspace, model, version)}/files/${enc(fileId)}`;
}
