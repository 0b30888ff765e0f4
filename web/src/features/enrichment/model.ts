// The Enrichment screen's pure model: the coverage grid (field × provider, share of the
// library's tracks) and the Library links its cells open.
import type { Schemas } from "../../api/client";
import { isActive, type Job } from "../jobs/model";

export type Coverage = Schemas["Coverage"];
export type Provider = Schemas["ProviderInfo"];
export type ServiceStatus = Schemas["ServiceStatus"];

/** A provider's state in one word for its badge: its settings first (it cannot run without
 * them), then its service's health, then its last run. */
export function providerBadge(
  provider: Provider,
  failed: boolean,
): { tone: "neutral" | "success" | "warning" | "danger"; words: string } {
  if (provider.type === "manual") return { tone: "neutral", words: "Yours" };
  if (!provider.enabled) return { tone: "warning", words: "Cannot run" };
  if (provider.service?.state === "down") return { tone: "danger", words: "Service down" };
  if (provider.service?.state === "throttled") return { tone: "warning", words: "Slowed down" };
  if (failed) return { tone: "warning", words: "Last run failed" };
  return { tone: "success", words: "Ready" };
}

/** The rules-language filter of the tracks that lack `field` (docs/rules.md, "Operators"). */
export function missingFilter(field: string): string {
  return `${field} is missing`;
}

/** The Library screen filtered by `filter` (its URL contract: `/library?filter=<rules text>`). */
export function libraryLink(filter: string): string {
  return `/library?${new URLSearchParams({ filter }).toString()}`;
}

export interface Cell {
  tracks: number;
  share: number;
}

export interface CoverageRow {
  field: string;
  /** Tracks with a value, whoever gave it (the merged view rules read). */
  any: Cell;
  missing: number;
  /** Provider id → what it gave; absent when it gives no such field. */
  cells: Record<string, Cell>;
}

export interface CoverageGrid {
  /** The providers that gave anything, in the providers' order. */
  providers: string[];
  rows: CoverageRow[];
  tracks: number;
}

const share = (tracks: number, total: number) => (total > 0 ? tracks / total : 0);

/** The grid: one row per field (most covered first, as the server orders them), one column per
 * provider that gave a value. */
export function coverageGrid(coverage: Coverage, order: string[]): CoverageGrid {
  const total = coverage.tracks;
  const seen = new Set(coverage.fields.flatMap((row) => Object.keys(row.providers)));
  const providers = [...order.filter((id) => seen.has(id)), ...[...seen].filter((id) => !order.includes(id)).sort()];
  const rows = coverage.fields.map((row) => ({
    field: row.field,
    any: { tracks: row.tracks, share: share(row.tracks, total) },
    missing: Math.max(0, total - row.tracks),
    cells: Object.fromEntries(
      Object.entries(row.providers).map(([id, tracks]) => [id, { tracks, share: share(tracks, total) }]),
    ),
  }));
  return { providers, rows, tracks: total };
}

/** "92 %", "< 1 %", "0 %". */
export function percent(value: number): string {
  if (value <= 0) return "0 %";
  if (value < 0.01) return "< 1 %";
  return `${Math.floor(value * 100)} %`;
}

/** The enrich job to show: the running one, else the latest. */
export function currentEnrichJob(jobs: Job[]): Job | null {
  const enrich = jobs.filter((job) => job.step === "enrich");
  return enrich.find(isActive) ?? enrich[0] ?? null;
}

export interface Failure {
  message: string;
  at: string | null;
}

/** Why a provider's latest run failed (the service was down, refused us…), from the latest
 * finished enrich job that ran it; null when that run went well or there was none. The server
 * says what stops a provider from running at all (`reason_if_disabled`: a key missing); what
 * went wrong with its service is in its part of the job. */
export function lastFailure(jobs: Job[], provider: string): Failure | null {
  for (const job of jobs) {
    if (job.step !== "enrich" || isActive(job)) continue;
    const part = job.progress?.parts?.find((candidate) => candidate.id === provider);
    if (part === undefined) continue;
    if (part.state !== "failed") return null;
    return { message: part.error?.message ?? part.message ?? "it failed", at: job.finished_at ?? null };
  }
  return null;
}
