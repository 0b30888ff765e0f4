// An apply or restore job as it runs (from the job stream) and what it did: the writes sent,
// the backup taken, and a link to the playlist in Spotify.
import { Badge } from "../../components/Badge";
import { Notice } from "../../components/Notice";
import type { Schemas } from "../../api/client";
import { STATUS_TONE, STATUS_WORDS } from "../jobs/api";
import { isActive, type Job } from "../jobs/model";
import { spotifyLink } from "./model";
import styles from "./Sync.module.css";

type ApplyResult = Schemas["ApplyResult"];

/** The results a finished apply (`{applied: […]}`) or restore (one result) job carries. */
export function jobResults(job: Job): ApplyResult[] {
  const payload: unknown = job.payload;
  if (typeof payload !== "object" || payload === null) return [];
  if ("applied" in payload && Array.isArray(payload.applied)) {
    return (payload as { applied: ApplyResult[] }).applied;
  }
  return "playlist_id" in payload ? [payload as ApplyResult] : [];
}

export function SyncJob({ job, what, playlistName }: { job: Job; what: string; playlistName: string }) {
  const running = isActive(job);
  const progress = job.progress;
  return (
    <div className={styles.result} role="status" aria-label={`${what}: ${STATUS_WORDS[job.status]}`}>
      <div className={styles.actions}>
        <Badge tone={STATUS_TONE[job.status]}>{`${what}: ${STATUS_WORDS[job.status]}`}</Badge>
        {running && progress?.total ? (
          <span className={styles.muted}>{`${String(progress.done)} of ${String(progress.total)} writes sent`}</span>
        ) : null}
        {running && !progress?.total ? <span className={styles.muted}>{job.message ?? "Starting…"}</span> : null}
      </div>
      {job.error ? (
        <Notice tone="danger" title={`${what} failed`}>
          <p>{job.error.message}</p>
        </Notice>
      ) : null}
      {job.status === "done"
        ? jobResults(job).map((result) => (
            <Notice key={result.plan_id} tone="success" title={`${playlistName} is written`}>
              <p>
                {result.writes === 0
                  ? "Nothing had to change."
                  : `${String(result.writes)} write${result.writes === 1 ? "" : "s"} sent${
                      result.created ? ", the playlist created" : ""
                    }${result.backup_id ? `; backup ${result.backup_id} holds what it was before` : ""}.`}
              </p>
              <p>
                <a href={spotifyLink(result.playlist_id)} target="_blank" rel="noreferrer">
                  Open {playlistName} in Spotify
                </a>
              </p>
            </Notice>
          ))
        : null}
    </div>
  );
}
