import { describe, expect, it } from "vitest";
import type { FetchedSource, Playlist } from "./api";
import { filterPlaylists, freshness, likedMatches, requestsFor } from "./model";

function playlist(id: string, name: string, owner: string, readable: boolean): Playlist {
  return {
    id,
    name,
    owner_id: owner.toLowerCase(),
    owner_name: owner,
    track_count: 10,
    snapshot_id: `snap-${id}`,
    collaborative: false,
    readable,
    reason: readable ? null : `followed playlist owned by ${owner}`,
  };
}

const PLAYLISTS = [
  playlist("a", "Rainy Day", "Lily", true),
  playlist("b", "Yuna's Favourites", "Yuna", false),
  playlist("c", "Running", "Lily", true),
];

function fetched(key: string, snapshot: string | null, at: string): FetchedSource {
  return {
    key,
    source_type: key === "liked" ? "liked" : "playlist",
    source_id: key === "liked" ? null : (key.split(":")[1] ?? null),
    label: null,
    name: null,
    entries: 5,
    tracks: 5,
    skipped: {},
    snapshot_id: snapshot,
    fetched_at: at,
  };
}

describe("filterPlaylists", () => {
  it("keeps only readable playlists with mine only", () => {
    expect(filterPlaylists(PLAYLISTS, { query: "", mineOnly: true }).map((p) => p.id)).toEqual(["a", "c"]);
  });

  it("searches names and owners, ignoring case", () => {
    expect(filterPlaylists(PLAYLISTS, { query: "RAIN", mineOnly: false }).map((p) => p.id)).toEqual(["a"]);
    expect(filterPlaylists(PLAYLISTS, { query: "yuna", mineOnly: false }).map((p) => p.id)).toEqual(["b"]);
    expect(filterPlaylists(PLAYLISTS, { query: "yuna", mineOnly: true })).toEqual([]);
  });

  it("matches liked songs by its name only", () => {
    expect(likedMatches("")).toBe(true);
    expect(likedMatches("Liked")).toBe(true);
    expect(likedMatches("ra")).toBe(false);
  });
});

describe("freshness", () => {
  const now = new Date("2026-05-01T12:00:00Z");
  it("says a source was never fetched", () => {
    expect(freshness(undefined, PLAYLISTS[0] ?? null, now)).toEqual({ text: "Not fetched yet", tone: "neutral" });
  });

  it("says when a playlist changed on Spotify since its fetch", () => {
    const old = fetched("playlist:a", "snap-older", "2026-05-01T11:00:00Z");
    expect(freshness(old, PLAYLISTS[0] ?? null, now)).toEqual({
      text: "Fetched 1 hour ago; changed on Spotify since",
      tone: "warning",
    });
    const same = fetched("playlist:a", "snap-a", "2026-05-01T11:00:00Z");
    expect(freshness(same, PLAYLISTS[0] ?? null, now).tone).toBe("success");
  });
});

describe("requestsFor", () => {
  it("asks for liked songs first, then the selected playlists in the list's order", () => {
    expect(requestsFor(new Set(["playlist:c", "liked", "playlist:a"]), PLAYLISTS)).toEqual([
      { source_type: "liked" },
      { source_type: "playlist", source_id: "a" },
      { source_type: "playlist", source_id: "c" },
    ]);
  });
});
