import { useEffect, useRef, type ReactNode } from "react";
import styles from "./Dialog.module.css";

/** A modal dialog on the browser's own <dialog>: focus stays inside, Escape closes, the page
 * behind is inert, and the focus returns where it was. `side` makes it a drawer on the right;
 * an element marked `data-autofocus` gets the focus when it opens. */
export function Dialog({
  open,
  onClose,
  title,
  children,
  side = false,
  labelledBy,
  className,
}: {
  open: boolean;
  onClose: () => void;
  title?: string;
  children: ReactNode;
  side?: boolean;
  labelledBy?: string;
  className?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    if (open && !dialog.open) {
      dialog.showModal();
      // The browser focuses the first focusable element; a dialog may name a better one.
      dialog.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    }
    if (!open && dialog.open) dialog.close();
  }, [open]);
  const titleId = labelledBy ?? (title !== undefined ? "dialog-title" : undefined);
  return (
    <dialog
      ref={ref}
      className={[styles.dialog, side ? styles.side : "", className ?? ""].join(" ")}
      aria-labelledby={titleId}
      onClose={onClose}
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onClick={(event) => {
        if (event.target === ref.current) onClose(); // a click on the backdrop
      }}
    >
      {open ? (
        <div className={styles.content}>
          {title !== undefined ? (
            <div className={styles.header}>
              <h2 id={titleId}>{title}</h2>
              <button type="button" className={styles.close} onClick={onClose} aria-label="Close">
                <svg viewBox="0 0 20 20" aria-hidden="true">
                  <path d="M5 5l10 10M15 5L5 15" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
                </svg>
              </button>
            </div>
          ) : null}
          {children}
        </div>
      ) : null}
    </dialog>
  );
}
