// What the Sources screen shows, worked out from the server's answers (pure functions, tested
// in model.test.ts).
import { relativeTime } from "../../lib/time";
import type { FetchedSource, Playlist, SourceRequest } from "./api";

export const LIKED = "liked";

/** The selection key of a playlist ("playlist:<id>"), as the server names sources. */
export function playlistKey(playlist: Playlist): string {
  return `playlist:${playlist.id}`;
}

/** Playlists matching the search (name or owner, any case) and, with `mineOnly`, only those you
 * own or collaborate on (the ones Spotify lets this app read). */
export function filterPlaylists(
  playlists: Playlist[],
  { query, mineOnly }: { query: string; mineOnly: boolean },
): Playlist[] {
  const needle = query.trim().toLocaleLowerCase();
  return playlists.filter((playlist) => {
    if (mineOnly && !playlist.readable) return false;
    if (needle === "") return true;
    const owner = playlist.owner_name ?? playlist.owner_id;
    return playlist.name.toLocaleLowerCase().includes(needle) || owner.toLocaleLowerCase().includes(needle);
  });
}

/** Whether "Liked songs" matches the search. */
export function likedMatches(query: string): boolean {
  const needle = query.trim().toLocaleLowerCase();
  return needle === "" || "liked songs".includes(needle);
}

export function fetchedFor(fetched: FetchedSource[], key: string): FetchedSource | undefined {
  return fetched.find((source) => source.key === key);
}

export interface Freshness {
  text: string;
  tone: "neutral" | "success" | "warning";
}

/** When a source was last fetched, and whether Spotify changed it since (a playlist's
 * snapshot id differs from the one fetched). */
export function freshness(
  source: FetchedSource | undefined,
  playlist: Playlist | null,
  now: Date = new Date(),
): Freshness {
  if (source === undefined) return { text: "Not fetched yet", tone: "neutral" };
  const when = relativeTime(source.fetched_at, now);
  if (playlist !== null && source.snapshot_id !== null && source.snapshot_id !== playlist.snapshot_id) {
    return { text: `Fetched ${when}; changed on Spotify since`, tone: "warning" };
  }
  return { text: `Fetched ${when}`, tone: "success" };
}

/** The fetch request for the selected keys ("liked", "playlist:<id>"), in the list's order. */
export function requestsFor(selected: ReadonlySet<string>, playlists: Playlist[]): SourceRequest[] {
  const requests: SourceRequest[] = selected.has(LIKED) ? [{ source_type: "liked" }] : [];
  for (const playlist of playlists) {
    if (selected.has(playlistKey(playlist))) requests.push({ source_type: "playlist", source_id: playlist.id });
  }
  return requests;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}
