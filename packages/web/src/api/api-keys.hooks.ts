import type { CreateApiKeyBody } from '@cairn/sdk';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCairn } from '../auth/session';

/** The caller's own API keys, newest first, revoked ones included. */
export function useApiKeys() {
  const cairn = useCairn();
  return useQuery({ queryKey: ['apiKeys'], queryFn: () => cairn.apiKeys.list() });
}

/** Creates a key; the answer holds its secret, which is never readable again. */
export function useCreateApiKey() {
  const cairn = useCairn();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateApiKeyBody) => cairn.apiKeys.create(body),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['apiKeys'] }),
  });
}

export function useRevokeApiKey() {
  const cairn = useCairn();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => cairn.apiKeys.revoke(id),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['apiKeys'] }),
  });
}
