// The app's screens, in the order of the navigation. Each lives in src/features/<name>/ and is
// loaded when first shown (router.tsx). `key` is the second key of its "g" shortcut.

export interface Screen {
  path: string;
  label: string;
  key: string;
  description: string;
}

export const SCREENS: Screen[] = [
  { path: "/account", label: "Account", key: "a", description: "Connect Spotify, see the connection" },
  { path: "/sources", label: "Sources", key: "s", description: "Pick playlists and liked songs, fetch, import CSV" },
  { path: "/library", label: "Library", key: "l", description: "Every fetched track and its values" },
  { path: "/enrichment", label: "Enrichment", key: "e", description: "What the providers know about your tracks" },
  { path: "/charts", label: "Charts", key: "c", description: "How your library spreads: year, tempo, genres…" },
  { path: "/rules", label: "Rules", key: "r", description: "The rules that build your playlists" },
  { path: "/sync", label: "Sync", key: "y", description: "Preview, apply and undo changes on Spotify" },
];
