import { useEffect, useState } from 'react';
import { Link, Navigate, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useSession, useSessionState } from '../auth/session';
import { ShortcutsOverlay, useGlobalShortcuts } from './shortcuts';
import { ThemeSwitch } from './theme-switch';
import './layout.css';

/** Pages below need a session: without one, go to sign-in and come back afterwards. */
export function SignedIn() {
  const { state } = useSessionState();
  const location = useLocation();
  if (state.status === 'loading') {
    return (
      <div className="app-loading" role="status">
        Loading…
      </div>
    );
  }
  if (state.status === 'signed-out') {
    const next = location.pathname + location.search;
    return <Navigate to={`/sign-in${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`} replace />;
  }
  return <Outlet />;
}

export function Layout() {
  const { session } = useSession();
  const { signOut } = useSessionState();
  const navigate = useNavigate();
  const [helpOpen, setHelpOpen] = useState(false);
  useGlobalShortcuts({ openHelp: () => setHelpOpen(true) });
  const workspace = useCurrentWorkspace();

  return (
    <div className="app-shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <Link to="/" className="app-logo" aria-label="Cairn home">
          <img src="/favicon.svg" alt="" width={20} height={20} />
          Cairn
        </Link>
        <nav aria-label="Main" className="app-nav">
          <NavLink to="/" end>
            Projects
          </NavLink>
          {workspace && <NavLink to={`/-/registry/${encodeURIComponent(workspace)}`}>Models</NavLink>}
          {workspace && <NavLink to={`/-/artifacts/${encodeURIComponent(workspace)}`}>Artifacts</NavLink>}
          <NavLink to="/settings">Settings</NavLink>
        </nav>
        <div className="app-header-end">
          <button
            type="button"
            className="btn btn-small"
            onClick={() => setHelpOpen(true)}
            aria-label="Keyboard shortcuts"
          >
            ?
          </button>
          <ThemeSwitch />
          <span className="muted" title="Signed in as">
            {session.user.name}
          </span>
          <button
            type="button"
            className="btn btn-small"
            onClick={() => {
              void signOut().then(() => navigate('/sign-in'));
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" className="app-main">
        <Outlet />
      </main>
      {helpOpen && <ShortcutsOverlay onClose={() => setHelpOpen(false)} />}
    </div>
  );
}

/** The workspace in the URL, else the last one visited, else none. */
function useCurrentWorkspace(): string | null {
  const location = useLocation();
  const [last, setLast] = useState<string | null>(() => window.localStorage.getItem('cairn.workspace'));
  const segments = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const fromUrl =
    segments[0] === '-' ? (segments[2] ?? null) : segments.length >= 2 && segments[0] ? segments[0] : null;
  useEffect(() => {
    if (fromUrl && fromUrl !== last) {
      window.localStorage.setItem('cairn.workspace', fromUrl);
      setLast(fromUrl);
    }
  }, [fromUrl, last]);
  return fromUrl ?? last;
}

export function NotFoundPage() {
  return (
    <div className="page">
      <h1>Not found</h1>
      <p className="muted">
        Nothing lives at this address. <Link to="/">Go to the projects</Link>.
      </p>
    </div>
  );
}
