// The navigation's icons: simple strokes in currentColor, hidden from screen readers.
const PATHS: Record<string, string> = {
  "/account": "M10 10a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zm-6.5 7.5c.8-3.2 3.4-5 6.5-5s5.7 1.8 6.5 5",
  "/sources": "M3 5h14M3 10h14M3 15h8m4-1.5v5m-2.5-2.5h5",
  "/library": "M4 3v14m4-14v14m4-14 4.5 13.5",
  "/enrichment": "M10 2.5l1.8 4.7 4.7 1.8-4.7 1.8L10 15.5l-1.8-4.7L3.5 9l4.7-1.8z",
  "/charts": "M3 17h14M5 17V9m4 8V4m4 13v-6m4 6V7",
  "/rules": "M4 5h8m-8 5h12M4 15h6m5-11 2 2-2 2",
  "/sync": "M16 7a6.5 6.5 0 0 0-11.6-1.5M4 13a6.5 6.5 0 0 0 11.6 1.5M4.2 2.5v3.2h3.2m8.4 11.8v-3.2h-3.2",
};

export function ScreenIcon({ path }: { path: string }) {
  return (
    <svg viewBox="0 0 20 20" width="20" height="20" aria-hidden="true" focusable="false">
      <path
        d={PATHS[path] ?? ""}
        fill="none"
        stroke="currentColor"
        strokeWidth="1.6"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}

export function Logo() {
  return (
    <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" fill="var(--accent)" />
      <path d="M9 11h14M9 16h10M9 21h6" stroke="var(--accent-contrast)" strokeWidth="2.5" strokeLinecap="round" />
      <circle cx="23" cy="21" r="3" fill="var(--accent-contrast)" />
    </svg>
  );
}
