// The Sync screens' pure part: a plan as a person reads it (what is added, removed, moved, kept,
// found twice, left out — by name), what an apply needs to be confirmed, the link to a playlist
// in Spotify, the plans kept in the URL, and an unattended run's outcomes in words.
import type { Schemas } from "../../api/client";

export type StoredPlan = Schemas["StoredPlan"];
export type SyncPlan = Schemas["SyncPlan"];
export type Guard = Schemas["TrippedGuard"];
export type SyncMode = StoredPlan["mode"];
export type BackupDiff = Schemas["BackupDiff"];
export type SyncRun = Schemas["SyncRun"];
export type SyncedPlan = Schemas["SyncedPlan"];

export const MODE_WORDS: Record<SyncMode, string> = {
  replace: "Replace: exactly the rule set's tracks, in its order",
  merge: "Merge: remove what no longer matches, add the rest at the end, keep your order",
  append: "Append: add what is missing at the end, remove nothing",
};

export const GUARD_WORDS: Record<Guard["guard"], string> = {
  empty: "It would empty the playlist",
  remove_share: "It would remove a large share of the playlist",
  drift: "The playlist was edited in Spotify since the last apply",
};

const KIND_WORDS: Record<Schemas["KeptItem"]["kind"], string> = {
  track: "a pinned track",
  local: "a local file",
  episode: "a podcast episode",
  unavailable: "an unavailable item",
};

/** A track as the plan names it: "title — artists", else its id. */
export function trackName(names: Record<string, string> | undefined, uri: string | null): string {
  if (uri === null) return "An unavailable item";
  const known = names?.[uri];
  if (known !== undefined) return known;
  const parts = uri.split(":");
  if (uri.startsWith("spotify:local:")) {
    // spotify:local:artist:album:title:seconds, each part URL-encoded with "+" for spaces
    const words = (part: string | undefined) => decodeURIComponent((part ?? "").replace(/\+/g, " "));
    const title = words(parts[4]) || "Untitled";
    const artist = words(parts[2]);
    return `${artist ? `${title} — ${artist}` : title} (local file)`;
  }
  return parts.pop() ?? uri;
}

export interface DiffRow {
  key: string;
  name: string;
  uri: string | null;
  /** 1-based position in the playlist after the apply, when it has one. */
  position: number | null;
  note: string | null;
}

export interface PlanDiff {
  adds: DiffRow[];
  removes: DiffRow[];
  moves: DiffRow[];
  kept: DiffRow[];
  duplicates: DiffRow[];
}

/** Every change of a plan as named rows, in playlist order where there is one. */
export function planDiff(plan: SyncPlan, names: Record<string, string> | undefined): PlanDiff {
  const adds = [...plan.adds]
    .sort((a, b) => a.position - b.position)
    .map((add, index) => ({
      key: `add-${String(index)}-${add.uri}`,
      name: trackName(names, add.uri),
      uri: add.uri,
      position: add.position + 1,
      note: null,
    }));
  const removes = plan.removes.map((uri, index) => ({
    key: `remove-${String(index)}-${uri}`,
    name: trackName(names, uri),
    uri,
    position: null,
    note: null,
  }));
  const moves = plan.moves.flatMap((move, moveIndex) =>
    move.uris.map((uri, index) => ({
      key: `move-${String(moveIndex)}-${String(index)}-${uri}`,
      name: trackName(names, uri),
      uri,
      position: move.position + index + 1,
      note: null,
    })),
  );
  const kept = plan.kept.map((item, index) => ({
    key: `kept-${String(index)}`,
    name: trackName(names, item.uri),
    uri: item.uri,
    position: item.position + 1,
    note: `${KIND_WORDS[item.kind]}: never removed or moved`,
  }));
  const duplicates = plan.duplicates.map((duplicate, index) => ({
    key: `dup-${String(index)}-${duplicate.uri}`,
    name: trackName(names, duplicate.uri),
    uri: duplicate.uri,
    position: null,
    note: `${String(duplicate.count)} copies: ${
      duplicate.resolution === "collapsed"
        ? "kept once"
        : duplicate.resolution === "removed"
          ? "all removed"
          : "left as they are"
    }`,
  }));
  return { adds, removes, moves, kept, duplicates };
}

/** The playlist's name as the confirmation asks for it to be typed. */
export function confirmName(plan: StoredPlan): string {
  return plan.playlist_name ?? plan.playlist_id ?? plan.rule_name ?? plan.rule_id ?? "";
}

/** Whether `typed` confirms the apply of `plan` (spaces around and letter case aside). */
export function confirms(plan: StoredPlan, typed: string): boolean {
  const wanted = confirmName(plan).trim().toLocaleLowerCase();
  return wanted !== "" && typed.trim().toLocaleLowerCase() === wanted;
}

/** The guards an apply must name in `force` (all of those that tripped: each was confirmed). */
export function forced(plan: StoredPlan): Guard["guard"][] {
  return plan.guards.map((guard) => guard.guard);
}

/** What the plan changes, in one line: "+12 −3 ~4 moved · 2 kept · 3 writes". */
export function summaryLine(plan: { summary: Schemas["PlanSummary"] }): string {
  const s = plan.summary;
  const parts = [`+${String(s.adds)} −${String(s.removes)} ~${String(s.moves)} moved`];
  if (s.kept > 0) parts.push(`${String(s.kept)} kept`);
  if (s.duplicates > 0) parts.push(`${String(s.duplicates)} duplicated`);
  if (s.excluded > 0) parts.push(`${String(s.excluded)} left out`);
  parts.push(`${String(s.writes)} write${s.writes === 1 ? "" : "s"}`);
  return parts.join(" · ");
}

/** The playlist in Spotify's web player. */
export function spotifyLink(playlistId: string): string {
  return `https://open.spotify.com/playlist/${encodeURIComponent(playlistId)}`;
}

/** The plans a page shows, kept in the URL (`?plans=a,b`) so a link opens them. */
export function plansFromSearch(search: URLSearchParams): string[] {
  return (search.get("plans") ?? "")
    .split(",")
    .map((id) => id.trim())
    .filter((id) => id !== "");
}

export type Outcome = "applied" | "unchanged" | "held" | "skipped" | "failed" | "planned";

/** An unattended plan's outcome ("skipped (drift: …)") as a kind and its reason. */
export function outcomeOf(plan: SyncedPlan): { kind: Outcome; reason: string | null } {
  const text = plan.outcome;
  const match = /^(\w+)(?: for review)?(?: \((.*)\))?$/s.exec(text);
  const word = match?.[1] ?? text;
  const reason = match?.[2] ?? null;
  const kind: Outcome =
    word === "held"
      ? "held"
      : word === "applied" || word === "unchanged" || word === "skipped" || word === "failed" || word === "planned"
        ? word
        : "failed";
  return { kind, reason };
}

export const OUTCOME_WORDS: Record<Outcome, string> = {
  applied: "Applied",
  unchanged: "Already in sync",
  held: "Held for your review",
  skipped: "Skipped",
  failed: "Failed",
  planned: "Would apply (dry run)",
};

export const OUTCOME_TONE: Record<Outcome, "neutral" | "info" | "success" | "warning" | "danger"> = {
  applied: "success",
  unchanged: "neutral",
  held: "info",
  skipped: "warning",
  failed: "danger",
  planned: "info",
};
