import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Navigate, useSearchParams } from 'react-router';
import { describeError, useSessionState } from './session';
import './sign-in.css';

/**
 * Sign in with an API key, or automatically with the one-time link the server printed
 * (`/sign-in#token=…`: the token is in the fragment, so it never reaches a log).
 */
export function SignInPage() {
  const { state, signIn } = useSessionState();
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const [apiKey, setApiKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const tokenTried = useRef(false);

  useEffect(() => {
    if (tokenTried.current || state.status === 'loading') return;
    const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
    if (!token) return;
    tokenTried.current = true;
    // The token is single-use: drop it from the address bar and history at once.
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    setBusy(true);
    signIn({ signInToken: token })
      .catch((e: unknown) => setError(`This sign-in link did not work: ${describeError(e)}`))
      .finally(() => setBusy(false));
  }, [state.status, signIn]);

  if (state.status === 'signed-in') return <Navigate to={next} replace />;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    signIn({ apiKey: apiKey.trim() })
      .catch((e: unknown) => setError(describeError(e)))
      .finally(() => setBusy(false));
  };

  return (
    <main className="sign-in">
      <form className="sign-in-card panel" onSubmit={submit} aria-labelledby="sign-in-title">
        <div className="sign-in-logo">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>Cairn</span>
        </div>
        <h1 id="sign-in-title">Sign in</h1>
        <p className="muted">
          Paste an API key. The first start of the server printed one, and a one-time sign-in link; an admin can create
          more with <code>cairn keys create</code>.
        </p>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          className="input"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={apiKey}
          onChange={(event) => setApiKey(event.target.value)}
          required
        />
        {error && (
          <div className="panel-error" role="alert">
            {error}
          </div>
        )}
        {state.status === 'signed-out' && state.error && (
          <div className="panel-error" role="alert">
            The server could not be reached: {state.error}
          </div>
        )}
        <button type="submit" className="btn btn-primary" disabled={busy || apiKey.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted small">The key is exchanged for a session cookie and never stored in the browser.</p>
      </form>
    </main>
  );
}

/** Only paths of this app: a `next` pointing elsewhere would make the sign-in page a redirector. */
function safeNext(next: string | null): string {
  return next?.startsWith('/') && !next.startsWith('//') ? next : '/';
}
