// What any screen may ask of the app shell: open the command palette, the shortcuts, the jobs
// drawer (optionally on given jobs), and which input is the screen's search (the `/` key).
import { createContext, useContext } from "react";

export interface Shell {
  openPalette: () => void;
  openShortcuts: () => void;
  openJobs: (jobIds?: string[]) => void;
  /** A callback ref for the screen's search input: `/` focuses it while it is mounted. */
  registerSearch: (element: HTMLInputElement | null) => void;
}

export const ShellContext = createContext<Shell | null>(null);

export function useShell(): Shell {
  const shell = useContext(ShellContext);
  if (shell === null) throw new Error("useShell needs the app shell");
  return shell;
}

/** The ref to put on the screen's search input. */
export function usePageSearch(): (element: HTMLInputElement | null) => void {
  return useShell().registerSearch;
}
