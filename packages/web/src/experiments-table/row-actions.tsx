import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Modal, ModalActions } from '../app/modal';
import { InlineError } from '../app/panel';
import { RemoveButton } from '../app/remove-button';

export interface MenuAction {
  label: string;
  run(): void;
  disabled?: boolean;
}

/** A menu of actions at an anchor (a row's ⋯ or the selection's button): ↑ ↓ Enter, Esc closes. */
export function ActionMenu({
  anchor,
  label,
  actions,
  onClose,
}: {
  anchor: HTMLElement;
  label: string;
  actions: MenuAction[];
  onClose(): void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const rect = anchor.getBoundingClientRect();
  const top = Math.min(rect.bottom + 4, window.innerHeight - 40 - actions.length * 32);
  const left = Math.min(rect.left, window.innerWidth - 240);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('[role=menuitem]:not([aria-disabled=true])')?.focus();
    const onDown = (event: MouseEvent) => {
      if (!ref.current?.contains(event.target as Node)) onClose();
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [onClose]);
  const close = () => {
    onClose();
    anchor.focus();
  };
  return (
    <div
      ref={ref}
      className="action-menu"
      role="menu"
      aria-label={label}
      style={{ top, left }}
      onKeyDown={(event) => {
        const items = [...(ref.current?.querySelectorAll<HTMLElement>('[role=menuitem]') ?? [])];
        const at = items.indexOf(document.activeElement as HTMLElement);
        if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
          event.preventDefault();
          const step = event.key === 'ArrowDown' ? 1 : -1;
          items[(at + step + items.length) % items.length]?.focus();
        } else if (event.key === 'Escape') {
          event.preventDefault();
          event.stopPropagation();
          close();
        } else if (event.key === 'Tab') close();
      }}
    >
      {actions.map((action) => (
        <div
          key={action.label}
          role="menuitem"
          tabIndex={-1}
          aria-disabled={action.disabled || undefined}
          onClick={() => {
            if (action.disabled) return;
            onClose();
            action.run();
          }}
          onKeyDown={(event) => {
            if ((event.key === 'Enter' || event.key === ' ') && !action.disabled) {
              event.preventDefault();
              onClose();
              action.run();
            }
          }}
        >
          {action.label}
        </div>
      ))}
    </div>
  );
}

export function RenameDialog({
  name,
  onSave,
  onClose,
}: {
  name: string;
  onSave(name: string): Promise<void>;
  onClose(): void;
}) {
  const [value, setValue] = useState(name);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    onSave(value.trim()).then(onClose, (failure: unknown) => {
      setError(failure);
      setBusy(false);
    });
  };
  return (
    <Modal title="Rename experiment" onClose={onClose}>
      <form onSubmit={submit} className="dialog-form">
        <label>
          <span>Name</span>
          {/* biome-ignore lint/a11y/noAutofocus: the dialog exists to type the name. */}
          <input className="input" autoFocus required value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        {error !== null && <InlineError error={error} />}
        <ModalActions onCancel={onClose}>
          <button type="submit" className="btn btn-primary" disabled={busy || !value.trim()}>
            Save
          </button>
        </ModalActions>
      </form>
    </Modal>
  );
}

/** Adds tags to the experiments, or removes one of the tags they have. */
export function TagsDialog({
  count,
  tags,
  onAdd,
  onRemove,
  onClose,
}: {
  count: number;
  tags: string[];
  onAdd(tags: string[]): Promise<void>;
  onRemove(tag: string): Promise<void>;
  onClose(): void;
}) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = (work: Promise<void>) => {
    setBusy(true);
    setError(null);
    work.then(
      () => setBusy(false),
      (failure: unknown) => {
        setError(failure);
        setBusy(false);
      },
    );
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const added = value
      .split(',')
      .map((tag) => tag.trim())
      .filter(Boolean);
    if (added.length === 0) return;
    run(onAdd(added).then(() => setValue('')));
  };
  return (
    <Modal title={count === 1 ? 'Tags' : `Tags of ${count} experiments`} onClose={onClose}>
      <div className="dialog-tags">
        {tags.length === 0 && <span className="muted">No tags yet.</span>}
        {tags.map((tag) => (
          <span key={tag} className="badge">
            {tag}
            <RemoveButton label={`Remove tag ${tag}`} disabled={busy} onRemove={() => run(onRemove(tag))} />
          </span>
        ))}
      </div>
      <form onSubmit={submit} className="dialog-form">
        <label>
          <span>Add tags (comma-separated)</span>
          {/* biome-ignore lint/a11y/noAutofocus: the dialog exists to type tags. */}
          <input className="input" autoFocus value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        {error !== null && <InlineError error={error} />}
        <ModalActions onCancel={onClose} cancel="Done">
          <button type="submit" className="btn btn-primary" disabled={busy || !value.trim()}>
            Add
          </button>
        </ModalActions>
      </form>
    </Modal>
  );
}
