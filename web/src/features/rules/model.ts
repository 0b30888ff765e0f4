// The rules screens' pure model: a rule set's status in words (from the preview's `broken` and
// the latest plan), ages, copies' ids, explain outcomes, and the editor links. model.test.ts
// covers it.
import type { Schemas } from "../../api/client";

type Broken = Schemas["BrokenRuleSet"];
type SyncState = Schemas["RuleSetStanding"];

export type Tone = "neutral" | "success" | "warning" | "danger" | "info";

export interface Status {
  label: string;
  tone: Tone;
  /** What it means, or the problem. */
  detail: string | null;
}

/** A rule set's status: broken (from the preview) wins; then the latest plan's standing. */
export function ruleStatus(
  broken: Broken | undefined,
  sync: SyncState | undefined,
  hasTarget: boolean,
  now: Date,
): Status {
  if (broken !== undefined) {
    const problem = broken.problems[0];
    return {
      label: "Broken",
      tone: "danger",
      detail: problem !== undefined ? problem.message : "it cannot be evaluated",
    };
  }
  if (!hasTarget) return { label: "No target", tone: "neutral", detail: "give it a playlist to sync to" };
  if (sync === undefined || sync.status === "not checked") {
    return { label: "Not checked", tone: "neutral", detail: "check against Spotify to see what would change" };
  }
  const age = sync.checked_at !== null ? ` (checked ${ago(new Date(sync.checked_at), now)})` : "";
  const summary = sync.plan?.summary;
  switch (sync.status) {
    case "in sync":
      return { label: "In sync", tone: "success", detail: `nothing to change${age}` };
    case "would change":
      return {
        label:
          summary !== undefined
            ? `Would change +${summary.adds} −${summary.removes} ~${summary.moves}`
            : "Would change",
        tone: "info",
        detail: `${summary !== undefined ? `${summary.adds} to add, ${summary.removes} to remove, ${summary.moves} to move` : ""}${age}`,
      };
    case "drift":
      return { label: "Drift", tone: "warning", detail: `the playlist changed on Spotify since our last apply${age}` };
    case "guard tripped":
      return {
        label: "Guard tripped",
        tone: "warning",
        detail: `${sync.plan?.guards.map((guard) => guard.message).join("; ") ?? ""}${age}`,
      };
    case "failed":
      return { label: "Apply failed", tone: "danger", detail: `its last apply failed${age}` };
  }
}

/** "just now", "5 min ago", "3 h ago", "2 days ago". */
export function ago(then: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} days ago`;
}

/** An id for a copy of `id` that no rule set has: `id-copy`, `id-copy-2`… */
export function copyId(id: string, taken: ReadonlySet<string>): string {
  const base = `${id}-copy`.slice(0, 120);
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

/** The editor, prefilled with rules text (the editor's URL contract). */
export function newRuleLink(text: string): string {
  return `/rules/new?text=${encodeURIComponent(text)}`;
}

export function editLink(id: string): string {
  return `/rules/${encodeURIComponent(id)}/edit`;
}

export function previewLink(id: string): string {
  return `/rules/${encodeURIComponent(id)}/preview`;
}

const OUTCOMES: Record<string, string> = {
  included: "In the playlist",
  pinned: "In the playlist: pinned",
  "failed rules": "Out: it fails the rules",
  "not in sources": "Out: not in the rule set's sources",
  "not in library": "Out: not in the library",
  excluded: "Out: banned (exclude)",
  deduped: "Out: dropped as a duplicate (dedupe)",
  "over limit": "Out: beyond the limit",
  "artist cap": "Out: over the artist cap (max per artist)",
};

/** An explain outcome in words. */
export function outcomeText(outcome: string): string {
  return OUTCOMES[outcome] ?? outcome;
}

/** A value as the explain panel shows it. */
export function valueText(value: unknown): string {
  if (value === null || value === undefined) return "no value";
  if (Array.isArray(value)) return value.length === 0 ? "none" : value.map((item) => valueText(item)).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  if (typeof value === "boolean") return value ? "yes" : "no";
  return value as string;
}

/** Minutes as "1 h 05 min" or "42 min". */
export function minutesText(minutes: number): string {
  const whole = Math.round(minutes);
  if (whole < 60) return `${whole} min`;
  return `${Math.floor(whole / 60)} h ${String(whole % 60).padStart(2, "0")} min`;
}
