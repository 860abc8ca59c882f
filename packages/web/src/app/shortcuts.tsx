import { useEffect, useRef, useSyncExternalStore } from 'react';
import { useNavigate } from 'react-router';
import { Modal } from './modal';
import { readThemePreference, setThemePreference } from './theme';

/**
 * Keyboard shortcuts: single keys (`j`) or a two-key sequence (`g p`). Pages register theirs with
 * useShortcut while mounted, so the help overlay (`?`) lists exactly what works on the page.
 * Keys typed into inputs are left alone.
 */
interface Shortcut {
  keys: string;
  description: string;
  run: () => void;
}

const registered = new Map<symbol, Shortcut>();
const subscribers = new Set<() => void>();
let snapshot: Shortcut[] = [];
function changed() {
  snapshot = [...registered.values()];
  for (const notify of subscribers) notify();
}

export function useShortcut(keys: string, description: string, run: () => void): void {
  const latest = useRef(run);
  latest.current = run;
  useEffect(() => {
    const id = Symbol(keys);
    registered.set(id, { keys, description, run: () => latest.current() });
    changed();
    return () => {
      registered.delete(id);
      changed();
    };
  }, [keys, description]);
}

function useRegisteredShortcuts(): Shortcut[] {
  return useSyncExternalStore(
    (notify) => {
      subscribers.add(notify);
      return () => subscribers.delete(notify);
    },
    () => snapshot,
  );
}

function typingInto(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/** Enter on a focused link or button activates it; only elsewhere is it a page's shortcut. */
function activatesControl(event: KeyboardEvent): boolean {
  if (event.key !== 'Enter' || !(event.target instanceof HTMLElement)) return false;
  return event.target.closest('a[href], button, summary, [role="button"], [role="menuitem"], [role="tab"]') !== null;
}

let listening = false;
function listen() {
  if (listening) return;
  listening = true;
  let pending = '';
  let pendingTimer: ReturnType<typeof setTimeout> | undefined;
  window.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typingInto(event.target) || activatesControl(event)) return;
    const key = event.key;
    const sequence = pending ? `${pending} ${key}` : key;
    const match = snapshot.find((shortcut) => shortcut.keys === sequence);
    if (match) {
      event.preventDefault();
      pending = '';
      match.run();
      return;
    }
    if (snapshot.some((shortcut) => shortcut.keys.startsWith(`${key} `))) {
      pending = key;
      clearTimeout(pendingTimer);
      pendingTimer = setTimeout(() => {
        pending = '';
      }, 1200);
    } else {
      pending = '';
    }
  });
}

/** The shortcuts that work on every page. */
export function useGlobalShortcuts({ openHelp }: { openHelp: () => void }): void {
  const navigate = useNavigate();
  useEffect(listen, []);
  useShortcut('?', 'Show keyboard shortcuts', openHelp);
  useShortcut('g p', 'Go to projects', () => navigate('/'));
  useShortcut('g s', 'Go to settings', () => navigate('/settings'));
  useShortcut('/', 'Focus the filter or search box', () => {
    document.querySelector<HTMLElement>('[data-shortcut-focus]')?.focus();
  });
  useShortcut('t', 'Switch theme (system → light → dark)', () => {
    const order = ['system', 'light', 'dark'] as const;
    const next = order[(order.indexOf(readThemePreference()) + 1) % order.length] ?? 'system';
    setThemePreference(next);
  });
}

export function ShortcutsOverlay({ onClose }: { onClose: () => void }) {
  const shortcuts = useRegisteredShortcuts();
  const unique = [...new Map(shortcuts.map((s) => [s.keys, s])).values()];
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose}>
      <table className="simple">
        <tbody>
          {unique.map((shortcut) => (
            <tr key={shortcut.keys}>
              <td>
                {shortcut.keys.split(' ').map((key, index) => (
                  <span key={`${key}-${index.toString()}`}>
                    {index > 0 && ' then '}
                    <kbd>{key}</kbd>
                  </span>
                ))}
              </td>
              <td>{shortcut.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">
        <kbd>Esc</kbd> closes this.
      </p>
    </Modal>
  );
}
