// Jobs as the app shows them. The list lives in TanStack Query's cache under `jobKeys.recent()`,
// fed by the server's job event stream (stream.ts): never polled.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { applyEvent, isActive, type Job, type JobList, type Samples } from "./model";

export type { Job } from "./model";

export const jobKeys = {
  all: ["jobs"] as const,
  recent: () => [...jobKeys.all, "recent"] as const,
  samples: () => [...jobKeys.all, "samples"] as const,
};

/** The latest jobs, as the event stream last told them (undefined until its first snapshot).
 * Nothing here fetches: the one `EventSource` of the app (useJobStream) writes this cache. */
export function useRecentJobs() {
  return useQuery<JobList>({
    queryKey: jobKeys.recent(),
    queryFn: () => unwrap(api.GET("/pipeline/jobs", { params: { query: { limit: 50 } } })),
    enabled: false, // the stream writes it; a GET would be polling by another name
    staleTime: Infinity,
  });
}

/** When each running job was first seen and last seen moving (the stream records them). */
export function useJobSamples(): Samples {
  return (
    useQuery<Samples>({
      queryKey: jobKeys.samples(),
      queryFn: () => ({}),
      enabled: false,
      staleTime: Infinity,
    }).data ?? {}
  );
}

/** How many jobs are waiting or running. */
export function useActiveJobCount(): number {
  const jobs = useRecentJobs().data?.items ?? [];
  return jobs.filter(isActive).length;
}

/** Put a job the server just answered with into the list at once (the stream confirms it). */
function useRemember() {
  const client = useQueryClient();
  return (job: Job) => {
    client.setQueryData<JobList>(jobKeys.recent(), (list) => applyEvent(list, { kind: "job", job }));
  };
}

export function useCancelJob() {
  const remember = useRemember();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST("/pipeline/jobs/{job_id}/cancel", { params: { path: { job_id: id } } })),
    onSuccess: (job) => {
      remember(job);
    },
  });
}

export function useRerunJob() {
  const remember = useRemember();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/pipeline/jobs/{job_id}/rerun", { params: { path: { job_id: id } } })),
    onSuccess: (job) => {
      remember(job);
    },
  });
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

const STEP_WORDS: Record<string, string> = {
  fetch_tracks: "Fetch",
  enrich: "Enrichment",
  enrich_tracks: "Enrichment",
  classify: "Classification",
  sync: "Sync",
};

/** The kind of work a job does, in words. */
export function stepWords(job: Job): string {
  return STEP_WORDS[job.step] ?? job.step.replace(/_/g, " ");
}

/** What a job works on, in words: "Liked songs", a playlist's name, a CSV file's name. */
export function jobSubject(job: Job): string {
  const metadata = job.metadata ?? {};
  const label = text(metadata.label);
  if (label !== null) return label;
  const playlist = metadata.playlist;
  if (typeof playlist === "object" && playlist !== null) {
    const name = text((playlist as Record<string, unknown>).name);
    if (name !== null) return name;
  }
  switch (metadata.source_type) {
    case "liked":
      return "Liked songs";
    case "csv": {
      const path = text(metadata.source_id);
      return path !== null ? (path.split("/").pop() ?? path) : "CSV file";
    }
    case "playlist":
      return text(metadata.source_id) ?? "Playlist";
    default:
      return job.step === "enrich" ? "Enrich the library" : job.step.replace(/_/g, " ");
  }
}

export const STATUS_WORDS: Record<Job["status"], string> = {
  pending: "Waiting",
  running: "Running",
  done: "Done",
  partial: "Partly done",
  failed: "Failed",
  cancelled: "Cancelled",
};

export const STATUS_TONE: Record<Job["status"], "neutral" | "info" | "success" | "warning" | "danger"> = {
  pending: "neutral",
  running: "info",
  done: "success",
  partial: "warning",
  failed: "danger",
  cancelled: "neutral",
};
