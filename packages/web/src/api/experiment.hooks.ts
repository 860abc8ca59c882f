import type { CursorPage, DocumentKind, Experiment, OutputLine, UpdateExperimentBody } from '@cairn/sdk';
import { NotFoundError } from '@cairn/sdk';
import {
  keepPreviousData,
  useInfiniteQuery,
  useMutation,
  useQueries,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { useCairn } from '../auth/session';

/**
 * Everything logged to one experiment, read through the SDK. Query keys start with the resource
 * name and carry the experiment key, so a live event can invalidate exactly what it changed.
 */

export function useExperiment(key: string) {
  const cairn = useCairn();
  return useQuery({ queryKey: ['experiments', key], queryFn: () => cairn.experiments.get(key) });
}

export function useUpdateExperiment(key: string) {
  const cairn = useCairn();
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: UpdateExperimentBody) => cairn.experiments.update(key, body),
    onSuccess: (experiment) => client.setQueryData(['experiments', key], experiment),
  });
}

/** Adds or removes one tag; the answer is the experiment's tags after the call. */
export function useTagMutation(key: string) {
  const cairn = useCairn();
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ tag, remove }: { tag: string; remove?: boolean }) =>
      remove ? cairn.tags.remove(key, tag) : cairn.tags.add(key, [tag]),
    onSuccess: (tags) =>
      client.setQueryData<Experiment>(['experiments', key], (experiment) =>
        experiment ? { ...experiment, tags } : experiment,
      ),
  });
}

export function useLoggedValues(key: string, kind: 'params' | 'others') {
  const cairn = useCairn();
  return useQuery({ queryKey: [kind, key], queryFn: () => cairn[kind].list(key) });
}

export function useMetricSummaries(key: string) {
  const cairn = useCairn();
  return useQuery({ queryKey: ['metrics', key], queryFn: () => cairn.metrics.list(key) });
}

function fetchDocument(cairn: ReturnType<typeof useCairn>, key: string, kind: DocumentKind) {
  return async () => {
    try {
      return (await cairn.documents.get(key, kind)).content;
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  };
}

/** A document's content, or null when that kind was never logged (the API answers 404). */
export function useDocument(key: string, kind: DocumentKind) {
  const cairn = useCairn();
  return useQuery({ queryKey: ['documents', key, kind], queryFn: fetchDocument(cairn, key, kind) });
}

/** A JSON document parsed, or null when never logged (or not JSON). */
export function useJsonDocument<T>(key: string, kind: DocumentKind) {
  const cairn = useCairn();
  return useQuery({
    queryKey: ['documents', key, kind],
    queryFn: fetchDocument(cairn, key, kind),
    select: (text) => parseJson<T>(text),
  });
}

function parseJson<T>(text: string | null): T | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/** The git patch as text, or null when none was logged. */
export function useGitPatch(key: string) {
  const cairn = useCairn();
  return useQuery({
    queryKey: ['gitPatch', key],
    queryFn: async () => {
      try {
        return await cairn.gitPatch.get(key);
      } catch (error) {
        if (error instanceof NotFoundError) return null;
        throw error;
      }
    },
  });
}

export interface OutputFilter {
  stream?: 'stdout' | 'stderr';
  search?: string;
}

/**
 * Output lines page by page: each page is the SDK's cursor page, which knows how to fetch the one
 * after it, so the view asks for the next page as it scrolls near the end.
 */
export function useOutput(key: string, filter: OutputFilter, pageSize = 1000) {
  const cairn = useCairn();
  return useInfiniteQuery({
    queryKey: ['output', key, filter.stream ?? null, filter.search ?? '', pageSize],
    initialPageParam: null as CursorPage<OutputLine> | null,
    queryFn: async ({ pageParam }) =>
      pageParam
        ? pageParam.getNextPage()
        : await cairn.output.list(key, {
            limit: pageSize,
            ...(filter.stream ? { stream: filter.stream } : {}),
            ...(filter.search ? { search: filter.search } : {}),
          }),
    getNextPageParam: (last) => (last.hasNextPage() ? last : undefined),
    placeholderData: keepPreviousData,
  });
}

export function useAssets(key: string) {
  const cairn = useCairn();
  return useQuery({ queryKey: ['assets', key], queryFn: () => cairn.assets.list(key) });
}

/** An asset's bytes as text (JSON assets: curves, confusion matrices; text samples). */
export function useAssetText(key: string, assetId: string) {
  const cairn = useCairn();
  return useQuery({
    queryKey: ['assets', key, assetId, 'text'],
    queryFn: async () => (await cairn.assets.download(key, assetId)).text(),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

export function useModels(key: string) {
  const cairn = useCairn();
  return useQuery({ queryKey: ['models', key], queryFn: () => cairn.models.list(key) });
}

export function useTables(key: string) {
  const cairn = useCairn();
  return useQuery({ queryKey: ['tables', key], queryFn: () => cairn.tables.list(key) });
}

export function useTableRows(key: string, name: string, offset: number, limit: number) {
  const cairn = useCairn();
  return useQuery({
    queryKey: ['tables', key, name, offset, limit],
    queryFn: () => cairn.tables.rows(key, name, { offset, limit }),
    placeholderData: keepPreviousData,
  });
}

/** The URL of an asset's bytes, for `<img src>` and `<a download>` (the session cookie authenticates). */
export function assetUrl(key: string, assetId: string): string {
  return `/api/cairn/v1/experiments/${encodeURIComponent(key)}/assets/${encodeURIComponent(assetId)}`;
}

/** The sandboxed HTML document's URL (served with `CSP: sandbox allow-scripts`). */
export function htmlDocumentUrl(key: string): string {
  return `/api/cairn/v1/experiments/${encodeURIComponent(key)}/documents/html/raw`;
}

/** The kinds of document the experiment has. */
export function useDocumentKinds(key: string) {
  const cairn = useCairn();
  return useQuery({
    queryKey: ['documents', key],
    queryFn: async () => (await cairn.documents.list(key)).map((d) => d.kind),
  });
}

/**
 * The same reads for several experiments at once (compare), under the same query keys as the
 * single-experiment hooks, so both pages share what is cached.
 */
export function useManyExperiments(keys: string[]) {
  const cairn = useCairn();
  return useQueries({
    queries: keys.map((key) => ({ queryKey: ['experiments', key], queryFn: () => cairn.experiments.get(key) })),
  });
}

export function useManyLoggedValues(keys: string[], kind: 'params' | 'others') {
  const cairn = useCairn();
  return useQueries({
    queries: keys.map((key) => ({ queryKey: [kind, key], queryFn: () => cairn[kind].list(key) })),
  });
}

export function useManyMetricSummaries(keys: string[]) {
  const cairn = useCairn();
  return useQueries({
    queries: keys.map((key) => ({ queryKey: ['metrics', key], queryFn: () => cairn.metrics.list(key) })),
  });
}
