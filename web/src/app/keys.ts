// The global keyboard shortcuts (listed by the `?` dialog, ShortcutsDialog.tsx):
//   Ctrl-K / Cmd-K  the command palette, anywhere
//   /               the screen's search (the palette where a screen has none)
//   ?               the shortcuts
//   g then a key    go to a screen (g s: Sources…; screens.ts)
// Single keys are ignored while typing in a field, and while a dialog is open.
import { useEffect, useRef } from "react";

export interface KeyActions {
  togglePalette: () => void;
  openShortcuts: () => void;
  focusSearch: () => void;
  go: (key: string) => void;
  blocked: boolean;
}

function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLInputElement) {
    return !["checkbox", "radio", "button", "submit", "reset", "file", "range", "color"].includes(target.type);
  }
  return target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
}

export function useGlobalKeys(actions: KeyActions): void {
  const latest = useRef(actions);
  useEffect(() => {
    latest.current = actions;
  });
  useEffect(() => {
    let pendingG = false;
    const onKey = (event: KeyboardEvent) => {
      const now = latest.current;
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
        event.preventDefault();
        now.togglePalette();
        return;
      }
      // The innermost target: a field inside a shadow root (the rules editor) reaches the
      // window retargeted to its host, which is not a field.
      const target = event.composedPath()[0] ?? event.target;
      if (event.ctrlKey || event.metaKey || event.altKey || now.blocked || typing(target)) {
        pendingG = false;
        return;
      }
      if (pendingG) {
        pendingG = false;
        now.go(event.key.toLowerCase());
        return;
      }
      if (event.key === "/") {
        event.preventDefault();
        now.focusSearch();
      } else if (event.key === "?") {
        event.preventDefault();
        now.openShortcuts();
      } else if (event.key === "g") {
        pendingG = true;
      }
    };
    window.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("keydown", onKey);
    };
  }, []);
}
