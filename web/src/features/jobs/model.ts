// The jobs the app knows, as the server's job event stream tells them (docs/api.md, "Job event
// stream"): a snapshot replaces everything, then each `job` event is one job's latest state.
// Pure functions, so the stream's meaning is tested without a browser.
import type { Schemas } from "../../api/client";

export type Job = Schemas["PipelineJob"];

/** What the jobs list holds: the shape of `GET /pipeline/jobs` (and of the snapshot event). */
export interface JobList {
  items: Job[];
  total: number;
  limit: number;
  offset: number;
}

export type StreamEvent = { kind: "snapshot"; list: JobList } | { kind: "job"; job: Job };

const FINISHED: ReadonlySet<Job["status"]> = new Set(["done", "partial", "failed", "cancelled"]);

export function isFinished(job: Job): boolean {
  return FINISHED.has(job.status);
}

export function isActive(job: Job): boolean {
  return !isFinished(job);
}

/** The list after one event. A snapshot is the truth (also after a reconnect: nothing is
 * replayed); a job event replaces that job, or puts a new one first (newest first). */
export function applyEvent(list: JobList | undefined, event: StreamEvent): JobList {
  if (event.kind === "snapshot") return event.list;
  const current = list ?? { items: [], total: 0, limit: 50, offset: 0 };
  const index = current.items.findIndex((job) => job.id === event.job.id);
  if (index >= 0) {
    const known = current.items[index];
    if (known !== undefined && isStale(known, event.job)) return current;
    const items = current.items.slice();
    items[index] = event.job;
    return { ...current, items };
  }
  return { ...current, items: [event.job, ...current.items], total: current.total + 1 };
}

/** Whether `incoming` is older than what is `known` of the same job: a request's answer (the
 * job as the cancel found it, still running) can arrive after the stream told that it ended. A
 * finished job never goes back to running (a rerun is a new job), and an earlier `updated_at`
 * never replaces a later one. */
export function isStale(known: Job, incoming: Job): boolean {
  if (isFinished(known) && !isFinished(incoming)) return true;
  const was = known.updated_at ? Date.parse(known.updated_at) : Number.NaN;
  const now = incoming.updated_at ? Date.parse(incoming.updated_at) : Number.NaN;
  return Number.isFinite(was) && Number.isFinite(now) && now < was;
}

/** The jobs that finished between two lists (for the live region's announcement). */
export function newlyFinished(before: JobList | undefined, after: JobList): Job[] {
  if (before === undefined) return [];
  const was = new Map(before.items.map((job) => [job.id, job.status]));
  return after.items.filter((job) => {
    const status = was.get(job.id);
    return isFinished(job) && status !== undefined && !FINISHED.has(status);
  });
}

/** One observation of a job's progress: when, and how much was done. */
export interface Sample {
  at: number;
  done: number;
}

/** Seconds left for `total` from the first and the latest observation of a job's progress
 * (the rate since it was first seen moving), or null while there is nothing to go on. */
export function etaSeconds(first: Sample, latest: Sample, total: number | null | undefined): number | null {
  if (total === null || total === undefined || total <= 0) return null;
  const elapsed = (latest.at - first.at) / 1000;
  const progressed = latest.done - first.done;
  if (elapsed < 1 || progressed <= 0) return null;
  const left = Math.max(0, total - latest.done);
  return left / (progressed / elapsed);
}

/** Between a number and its unit ("4 s"): a no-break space, so the two never wrap apart. */
const NBSP = "\u00a0";

/** "about 2 min left", "about 12 s left", "almost done" (a number and its unit never part). */
export function etaWords(seconds: number): string {
  if (seconds < 1) return "almost done";
  if (seconds < 60) return `about ${Math.ceil(seconds)}${NBSP}s left`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes}${NBSP}min left`;
  const hours = Math.floor(minutes / 60);
  return `about ${hours}${NBSP}h ${minutes % 60}${NBSP}min left`;
}

/** Whole seconds until `until` (never below 0). */
export function secondsUntil(until: string, now: number): number {
  return Math.max(0, Math.ceil((new Date(until).getTime() - now) / 1000));
}

/** A throttling note in plain words with a live countdown. The server's text says the wait it
 * began with ("Deezer asked us to slow down; resuming in 4 s"); this counts down to `until`. */
export function noteWords(note: Schemas["JobNote"], now: number): string {
  const left = secondsUntil(note.until, now);
  if (left === 0) return `${note.service} asked us to slow down; resuming now`;
  return `${note.service} asked us to slow down; resuming in ${left}${NBSP}s`;
}

/** Parse one event's data; null when it is not what the server documents. */
export function parseEvent(type: string, data: string): StreamEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  if (type === "snapshot" && Array.isArray((value as JobList).items)) {
    return { kind: "snapshot", list: value as JobList };
  }
  if (type === "job" && typeof (value as Job).id === "string") return { kind: "job", job: value as Job };
  return null;
}

/** Per job, the first and the latest observation of its progress (for its ETA). */
export type Samples = Record<string, { first: Sample; latest: Sample }>;

/** The samples after an event seen at `at`: a running job's progress is recorded when it
 * moved; a finished job's is dropped. */
export function recordSamples(samples: Samples | undefined, event: StreamEvent, at: number): Samples {
  const jobs = event.kind === "snapshot" ? event.list.items : [event.job];
  const finished = new Set(jobs.filter(isFinished).map((job) => job.id));
  const next: Samples = Object.fromEntries(Object.entries(samples ?? {}).filter(([id]) => !finished.has(id)));
  for (const job of jobs) {
    if (finished.has(job.id)) continue;
    const sample = { at, done: job.progress?.done ?? 0 };
    const seen = next[job.id];
    if (seen === undefined) next[job.id] = { first: sample, latest: sample };
    else if (sample.done !== seen.latest.done) next[job.id] = { first: seen.first, latest: sample };
  }
  return next;
}
