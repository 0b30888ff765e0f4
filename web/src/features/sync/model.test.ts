import { describe, expect, it } from "vitest";
import {
  confirms,
  forced,
  outcomeOf,
  planDiff,
  plansFromSearch,
  spotifyLink,
  summaryLine,
  trackName,
  type StoredPlan,
  type SyncedPlan,
  type SyncPlan,
} from "./model";

const A = "spotify:track:aaa";
const B = "spotify:track:bbb";
const C = "spotify:track:ccc";
const LOCAL = "spotify:local:Artist:Album:My+Song:180";

const syncPlan: SyncPlan = {
  mode: "replace",
  rewrite: false,
  adds: [
    { uri: C, position: 2 },
    { uri: A, position: 0 },
  ],
  removes: [B],
  moves: [{ uris: [A, C], position: 4 }],
  kept: [{ uri: LOCAL, kind: "local", live_position: 3, position: 1 }],
  duplicates: [{ uri: A, count: 2, resolution: "collapsed" }],
  result: [A, LOCAL, C],
  calls: [],
  write_count: 0,
};

const names = { [A]: "Alpha — Ann", [B]: "Beta — Bob" };

function stored(changes: Partial<StoredPlan> = {}): StoredPlan {
  return {
    id: "plan-1",
    created_at: "2026-01-01T00:00:00Z",
    rule_id: "focus",
    rule_name: "Focus",
    playlist_id: "PL1",
    playlist_name: "Deep Focus",
    create: false,
    mode: "replace",
    fingerprint: { snapshot_id: "s", contents_hash: "h" },
    summary: { adds: 2, removes: 1, moves: 2, kept: 1, duplicates: 1, writes: 1, excluded: 0 },
    guards: [
      { guard: "remove_share", message: "this would remove 9 of 10 tracks" },
      { guard: "drift", message: "edited" },
    ],
    plan: syncPlan,
    status: "planned",
    one_off: false,
    names,
    ...changes,
  };
}

describe("a plan as a person reads it", () => {
  it("names tracks, else shows their id, and says what a local file is", () => {
    expect(trackName(names, A)).toBe("Alpha — Ann");
    expect(trackName(names, C)).toBe("ccc");
    expect(trackName(names, null)).toBe("An unavailable item");
    expect(trackName(undefined, LOCAL)).toBe("My Song — Artist (local file)");
  });

  it("lists adds in playlist order with 1-based positions, and every other change by name", () => {
    const diff = planDiff(syncPlan, names);
    expect(diff.adds.map((row) => [row.position, row.name])).toEqual([
      [1, "Alpha — Ann"],
      [3, "ccc"],
    ]);
    expect(diff.removes.map((row) => row.name)).toEqual(["Beta — Bob"]);
    expect(diff.moves.map((row) => [row.position, row.name])).toEqual([
      [5, "Alpha — Ann"],
      [6, "ccc"],
    ]);
    expect(diff.kept[0]?.note).toBe("a local file: never removed or moved");
    expect(diff.duplicates[0]?.note).toBe("2 copies: kept once");
  });

  it("sums a plan up in one line", () => {
    expect(summaryLine(stored())).toBe("+2 −1 ~2 moved · 1 kept · 1 duplicated · 1 write");
  });
});

describe("confirming an apply past a guard", () => {
  it("needs the playlist's name typed (case and outer spaces aside)", () => {
    const plan = stored();
    expect(confirms(plan, "")).toBe(false);
    expect(confirms(plan, "Deep")).toBe(false);
    expect(confirms(plan, "  deep focus ")).toBe(true);
  });

  it("falls back to the id, then the rule set, when the playlist has no name yet", () => {
    expect(confirms(stored({ playlist_name: null }), "PL1")).toBe(true);
    expect(confirms(stored({ playlist_name: null, playlist_id: null }), "focus")).toBe(true);
  });

  it("forces exactly the guards that tripped", () => {
    expect(forced(stored())).toEqual(["remove_share", "drift"]);
    expect(forced(stored({ guards: [] }))).toEqual([]);
  });
});

describe("links and the URL", () => {
  it("links a playlist in Spotify", () => {
    expect(spotifyLink("37i9dQZF1DX")).toBe("https://open.spotify.com/playlist/37i9dQZF1DX");
  });

  it("reads the plans shown from ?plans=", () => {
    expect(plansFromSearch(new URLSearchParams("plans=plan-1,%20plan-2,,"))).toEqual(["plan-1", "plan-2"]);
    expect(plansFromSearch(new URLSearchParams(""))).toEqual([]);
  });
});

describe("an unattended run's outcomes", () => {
  const outcome = (text: string) => outcomeOf({ outcome: text } as SyncedPlan);
  it.each([
    ["applied", "applied", null],
    ["unchanged", "unchanged", null],
    ["held for review", "held", null],
    ["planned", "planned", null],
    ["skipped (drift: the playlist was edited (twice))", "skipped", "drift: the playlist was edited (twice)"],
    ["failed (Spotify said no)", "failed", "Spotify said no"],
  ])("%s", (text, kind, reason) => {
    expect(outcome(text)).toEqual({ kind, reason });
  });
});
