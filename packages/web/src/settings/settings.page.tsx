import type { ApiKey, CreatedApiKey } from '@cairn/sdk';
import { type FormEvent, useEffect, useState } from 'react';
import { useApiKeys, useCreateApiKey, useRevokeApiKey } from '../api/api-keys.hooks';
import { CopyButton } from '../app/copy-button';
import { formatDateTime, formatRelative } from '../app/format';
import { Modal, ModalActions } from '../app/modal';
import { InlineError, QueryView } from '../app/panel';
import { ShortcutsOverlay } from '../app/shortcuts';
import { onThemeChange, readThemePreference, setThemePreference, type ThemePreference } from '../app/theme';
import { useSession } from '../auth/session';
import './settings.css';

export function SettingsPage() {
  const { session } = useSession();
  const [helpOpen, setHelpOpen] = useState(false);
  return (
    <div className="page settings-page">
      <h1>Settings</h1>
      <section className="panel settings-section" aria-labelledby="settings-user">
        <div className="panel-header">
          <h2 id="settings-user">You</h2>
        </div>
        <dl className="panel-body settings-facts">
          <dt>Name</dt>
          <dd>{session.user.name}</dd>
          {session.user.email && (
            <>
              <dt>Email</dt>
              <dd>{session.user.email}</dd>
            </>
          )}
          <dt>Role</dt>
          <dd>{session.user.isAdmin ? <span className="badge badge-running">admin</span> : 'user'}</dd>
          <dt>Session</dt>
          <dd>
            scopes {session.scopes.join(', ')} · ends{' '}
            <time title={formatDateTime(session.expiresAt)}>{formatRelative(session.expiresAt)}</time>
          </dd>
        </dl>
      </section>
      <ApiKeys scopes={session.scopes} />
      <section className="panel settings-section" aria-labelledby="settings-appearance">
        <div className="panel-header">
          <h2 id="settings-appearance">Appearance and keyboard</h2>
        </div>
        <div className="panel-body settings-appearance">
          <ThemeChoice />
          <button type="button" className="btn" onClick={() => setHelpOpen(true)}>
            Keyboard shortcuts <kbd>?</kbd>
          </button>
        </div>
      </section>
      {helpOpen && <ShortcutsOverlay onClose={() => setHelpOpen(false)} />}
    </div>
  );
}

function ThemeChoice() {
  const [preference, setPreference] = useState<ThemePreference>(readThemePreference);
  useEffect(() => onThemeChange(() => setPreference(readThemePreference())), []);
  return (
    <fieldset className="theme-choice">
      <legend>Theme</legend>
      {(['system', 'light', 'dark'] as const).map((option) => (
        <label key={option}>
          <input
            type="radio"
            name="theme"
            value={option}
            checked={preference === option}
            onChange={() => setThemePreference(option)}
          />
          {option === 'system' ? 'System' : option === 'light' ? 'Light' : 'Dark'}
        </label>
      ))}
    </fieldset>
  );
}

const SCOPES = ['read', 'write'] as const;
type ChosenScope = (typeof SCOPES)[number];

const DAY_MILLIS = 24 * 60 * 60 * 1000;
/** Lifetimes offered for a new key, in days; 0 for a key that never expires. */
const LIFETIMES = [
  { days: 0, label: 'Never' },
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 365, label: '1 year' },
] as const;

function ApiKeys({ scopes }: { scopes: string[] }) {
  const keys = useApiKeys();
  const create = useCreateApiKey();
  const revoke = useRevokeApiKey();
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<ChosenScope[]>(() => SCOPES.filter((scope) => scopes.includes(scope)));
  const [lifetimeDays, setLifetimeDays] = useState(0);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      {
        name: name.trim(),
        scopes: chosen,
        ...(lifetimeDays > 0 ? { expiresAt: Date.now() + lifetimeDays * DAY_MILLIS } : {}),
      },
      {
        onSuccess: (answer) => {
          setCreated(answer);
          setName('');
        },
      },
    );
  };

  return (
    <section className="panel settings-section" aria-labelledby="settings-keys">
      <div className="panel-header">
        <h2 id="settings-keys">API keys</h2>
      </div>
      <div className="panel-body">
        <p className="muted settings-note">
          Keys let programs log and read as you: comet_ml (<code>COMET_API_KEY</code>), the SDK and the CLI (
          <code>CAIRN_API_KEY</code>). Revoking a key also ends the browser sessions opened with it.
        </p>
        <form className="key-form" onSubmit={submit}>
          <label>
            <span>Name</span>
            <input
              className="input"
              required
              maxLength={200}
              value={name}
              placeholder="e.g. training-cluster"
              onChange={(event) => setName(event.target.value)}
            />
          </label>
          <fieldset className="key-scopes">
            <legend>Scopes</legend>
            {SCOPES.map((scope) => (
              <label key={scope}>
                <input
                  type="checkbox"
                  checked={chosen.includes(scope)}
                  disabled={!scopes.includes(scope)}
                  onChange={(event) =>
                    setChosen((current) =>
                      event.target.checked ? [...current, scope] : current.filter((s) => s !== scope),
                    )
                  }
                />
                {scope}
              </label>
            ))}
          </fieldset>
          <label>
            <span>Expires</span>
            <select
              className="input"
              value={lifetimeDays}
              onChange={(event) => setLifetimeDays(Number(event.target.value))}
            >
              {LIFETIMES.map((lifetime) => (
                <option key={lifetime.days} value={lifetime.days}>
                  {lifetime.label}
                </option>
              ))}
            </select>
          </label>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={create.isPending || !name.trim() || chosen.length === 0}
          >
            Create key
          </button>
        </form>
        {create.isError && <InlineError error={create.error} />}
        {revoke.isError && <InlineError error={revoke.error} />}
        <QueryView query={keys}>
          {(list) =>
            list.length === 0 ? (
              <p className="muted">No keys yet.</p>
            ) : (
              <table className="simple keys-table">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Key</th>
                    <th scope="col">Scopes</th>
                    <th scope="col">Created</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Expires</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((key) => (
                    <tr
                      key={key.id}
                      className={
                        key.revokedAt || (key.expiresAt !== null && key.expiresAt <= Date.now()) ? 'revoked' : ''
                      }
                    >
                      <td>{key.name}</td>
                      <td>
                        <code>{key.prefix}…</code>
                      </td>
                      <td>{key.scopes.join(', ')}</td>
                      <td>
                        <time title={formatDateTime(key.createdAt)}>{formatRelative(key.createdAt)}</time>
                      </td>
                      <td>
                        {key.lastUsedAt ? (
                          <time title={formatDateTime(key.lastUsedAt)}>{formatRelative(key.lastUsedAt)}</time>
                        ) : (
                          <span className="muted">never</span>
                        )}
                      </td>
                      <td>
                        {key.expiresAt ? (
                          <time title={formatDateTime(key.expiresAt)}>{formatRelative(key.expiresAt)}</time>
                        ) : (
                          <span className="muted">never</span>
                        )}
                      </td>
                      <td className="keys-actions">
                        {key.revokedAt ? (
                          <span className="badge" title={formatDateTime(key.revokedAt)}>
                            revoked
                          </span>
                        ) : key.expiresAt !== null && key.expiresAt <= Date.now() ? (
                          <span className="badge" title={formatDateTime(key.expiresAt)}>
                            expired
                          </span>
                        ) : (
                          <button
                            type="button"
                            className="btn btn-small btn-danger"
                            aria-label={`Revoke ${key.name}`}
                            onClick={() => setRevoking(key)}
                          >
                            Revoke
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </QueryView>
      </div>
      {created && (
        <Modal title="Your new API key" onClose={() => setCreated(null)}>
          <p>
            This is the only time the secret of <strong>{created.key.name}</strong> is shown. Copy it now and keep it
            somewhere safe.
          </p>
          <div className="secret-row">
            <code className="secret" data-testid="api-key-secret">
              {created.secret}
            </code>
            <CopyButton text={created.secret} label="Copy key" />
          </div>
          <div className="modal-actions">
            <button type="button" className="btn btn-primary" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </Modal>
      )}
      {revoking && (
        <Modal title={`Revoke “${revoking.name}”?`} onClose={() => setRevoking(null)}>
          <p>Programs using this key stop working at once, and sessions opened with it end.</p>
          <ModalActions onCancel={() => setRevoking(null)}>
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => {
                revoke.mutate(revoking.id);
                setRevoking(null);
              }}
            >
              Revoke
            </button>
          </ModalActions>
        </Modal>
      )}
    </section>
  );
}
