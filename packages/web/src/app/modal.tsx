import { type ReactNode, useEffect, useId, useRef } from 'react';

/**
 * A modal dialog on the native <dialog>: the browser traps focus, closes on Esc and restores
 * focus afterwards, which a div overlay would have to imitate.
 */
export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="overlay"
      aria-labelledby={titleId}
      onClose={onClose}
      onClick={(event) => {
        // A click on the backdrop lands on the dialog element itself.
        if (event.target === ref.current) onClose();
      }}
      onKeyDown={() => undefined}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}

/** A dialog's buttons: the one that leaves without acting (`cancel`), then the action. */
export function ModalActions({
  onCancel,
  cancel = 'Cancel',
  children,
}: {
  onCancel: () => void;
  cancel?: string;
  children: ReactNode;
}) {
  return (
    <div className="modal-actions">
      <button type="button" className="btn" onClick={onCancel}>
        {cancel}
      </button>
      {children}
    </div>
  );
}
