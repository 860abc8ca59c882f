import type { OpenSessionBody, Session } from '@cairn/sdk';
import { AuthenticationError } from '@cairn/sdk';
import { useQueryClient } from '@tanstack/react-query';
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { type Cairn, createCairn } from '../api/cairn';

type SessionState =
  | { status: 'loading' }
  | { status: 'signed-out'; error?: string }
  | { status: 'signed-in'; session: Session; cairn: Cairn };

interface SessionContextValue {
  state: SessionState;
  signIn(body: OpenSessionBody): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

/** Finds out whether the cookie holds a live session, and signs in and out. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });
  const queryClient = useQueryClient();

  useEffect(() => {
    let cancelled = false;
    createCairn()
      .sessions.current()
      .then((session) => {
        if (!cancelled) setState({ status: 'signed-in', session, cairn: createCairn(session.csrfToken) });
      })
      .catch((error: unknown) => {
        if (cancelled) return;
        setState({
          status: 'signed-out',
          ...(error instanceof AuthenticationError ? {} : { error: describeError(error) }),
        });
      });
    return () => {
      cancelled = true;
    };
  }, []);

  const signIn = useCallback(
    async (body: OpenSessionBody) => {
      const session = await createCairn().sessions.create(body);
      queryClient.clear();
      setState({ status: 'signed-in', session, cairn: createCairn(session.csrfToken) });
    },
    [queryClient],
  );

  const signOut = useCallback(async () => {
    if (state.status === 'signed-in') await state.cairn.sessions.delete();
    queryClient.clear();
    setState({ status: 'signed-out' });
  }, [state, queryClient]);

  const value = useMemo(() => ({ state, signIn, signOut }), [state, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSessionState(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSessionState outside SessionProvider');
  return value;
}

/** The signed-in session and its SDK client; only used below the signed-in guard. */
export function useSession(): { session: Session; cairn: Cairn } {
  const { state } = useSessionState();
  if (state.status !== 'signed-in') throw new Error('useSession outside a signed-in page');
  return state;
}

/** The SDK client of the signed-in page. */
export function useCairn(): Cairn {
  return useSession().cairn;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
