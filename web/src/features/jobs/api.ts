// Jobs as the app shows them. (The live jobs drawer, on the server's job event stream, builds
// on this folder.)
import { useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";

export type Job = Schemas["PipelineJob"];

export const jobKeys = {
  all: ["jobs"] as const,
  recent: () => [...jobKeys.all, "recent"] as const,
};

export function useRecentJobs(enabled: boolean) {
  return useQuery({
    queryKey: jobKeys.recent(),
    queryFn: () => unwrap(api.GET("/pipeline/jobs", { params: { query: { limit: 25 } } })),
    enabled,
    refetchOnWindowFocus: false, // read when the drawer opens or asks: live updates come from the event stream
  });
}

function text(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
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
      return job.step.replace(/_/g, " ");
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
