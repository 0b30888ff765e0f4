import { useEffect, useState } from "react";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Page";
import { fullDate, relativeTime } from "../../lib/time";
import {
  STATUS_TONE,
  STATUS_WORDS,
  jobSubject,
  stepWords,
  useCancelJob,
  useJobSamples,
  useRecentJobs,
  useRerunJob,
  type Job,
} from "./api";
import { JobParts } from "./JobParts";
import { etaSeconds, etaWords, isActive, noteWords } from "./model";
import type { StreamState } from "./stream";
import styles from "./JobsDrawer.module.css";

/** The jobs drawer: every job the event stream tells of, live — the running ones first (the
 * ones just started before them), then the history. */
export function JobsDrawer({
  open,
  highlight,
  stream,
  onClose,
}: {
  open: boolean;
  highlight: string[];
  stream: StreamState;
  onClose: () => void;
}) {
  const jobs = useRecentJobs();
  const items = jobs.data?.items ?? [];
  const first = (job: Job) => (highlight.includes(job.id) ? 0 : 1);
  const active = items.filter(isActive).sort((a, b) => first(a) - first(b));
  const history = items.filter((job) => !isActive(job)).sort((a, b) => first(a) - first(b));
  // The history is every finished job the server keeps (the list shows the latest 50 of them).
  const finished = jobs.data !== undefined ? Math.max(0, jobs.data.total - active.length) : 0;
  return (
    <Dialog open={open} onClose={onClose} title="Jobs" side>
      <div className={styles.toolbar}>
        <p className={styles.count} role="status">
          {jobs.data !== undefined
            ? `${active.length} running · ${finished} job${finished === 1 ? "" : "s"} in the history`
            : ""}
        </p>
        <span className={styles.live} data-state={stream}>
          {stream === "open" ? "Live" : stream === "connecting" ? "Connecting…" : "Reconnecting…"}
        </span>
      </div>
      {stream === "lost" ? (
        <p className={styles.lost} role="alert">
          The connection to the server was lost; the list shows what it last said, and it reconnects by itself.
        </p>
      ) : null}
      {jobs.data === undefined && open ? <Loading label="Reading the jobs…" /> : null}
      {jobs.data !== undefined && items.length === 0 ? (
        <p className={styles.empty}>No jobs yet. Fetching a source or enriching the library starts one.</p>
      ) : null}
      {active.length > 0 ? (
        <section aria-labelledby="jobs-running">
          <h3 id="jobs-running" className={styles.heading}>
            Running
          </h3>
          <ul className={styles.list} aria-label="Running jobs">
            {active.map((job) => (
              <JobRow key={job.id} job={job} fresh={highlight.includes(job.id)} />
            ))}
          </ul>
        </section>
      ) : null}
      {history.length > 0 ? (
        <section aria-labelledby="jobs-history">
          <h3 id="jobs-history" className={styles.heading}>
            History
          </h3>
          <ul className={styles.list} aria-label="Job history">
            {history.map((job) => (
              <JobRow key={job.id} job={job} fresh={highlight.includes(job.id)} />
            ))}
          </ul>
        </section>
      ) : null}
    </Dialog>
  );
}

/** The time now, every second while `ticking` (a countdown, an ETA). */
function useNow(ticking: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!ticking) return;
    const timer = window.setInterval(() => {
      setNow(Date.now());
    }, 1000);
    return () => {
      window.clearInterval(timer);
    };
  }, [ticking]);
  return now;
}

function JobRow({ job, fresh }: { job: Job; fresh: boolean }) {
  const progress = job.progress;
  const total = progress?.total ?? null;
  const done = progress?.done ?? 0;
  const running = isActive(job);
  const note = running ? (progress?.note ?? null) : null;
  const now = useNow(note !== null);
  const samples = useJobSamples()[job.id];
  const eta = running && samples !== undefined ? etaSeconds(samples.first, samples.latest, total) : null;
  const cancel = useCancelJob();
  const rerun = useRerunJob();
  const subject = jobSubject(job);
  const parts = progress?.parts ?? [];
  return (
    <li className={[styles.job, fresh ? styles.fresh : ""].join(" ")} aria-label={`${stepWords(job)}: ${subject}`}>
      <div className={styles.jobHead}>
        <span className={styles.subject}>{subject}</span>
        <Badge tone={STATUS_TONE[job.status]}>
          {job.cancel_requested && running ? "Cancelling" : STATUS_WORDS[job.status]}
        </Badge>
      </div>
      <p className={styles.meta}>
        <span>{stepWords(job)}</span>
        {job.created_at !== undefined ? (
          <time dateTime={job.created_at} title={fullDate(job.created_at)}>
            {relativeTime(job.created_at)}
          </time>
        ) : null}
        <span className={styles.id}>#{job.id.slice(0, 8)}</span>
      </p>
      {running ? (
        <div className={styles.progressRow}>
          <progress
            className={styles.progress}
            value={total ? Math.min(done, total) : undefined}
            max={total ?? undefined}
            aria-label={`Progress of ${subject}`}
          />
          <span className={styles.counts}>
            {total ? `${done.toLocaleString()} of ${total.toLocaleString()}` : "Starting…"}
            {eta !== null ? ` · ${etaWords(eta)}` : ""}
          </span>
        </div>
      ) : null}
      {parts.length > 0 ? <JobParts parts={parts} label={`Providers of ${subject}`} /> : null}
      {note !== null ? (
        <p className={styles.note} role="status">
          {noteWords(note, now)}
        </p>
      ) : null}
      {/* An enrich job's message repeats its parts' counts, shown above as bars. */}
      {job.message && parts.length === 0 && job.message.toLowerCase() !== job.status ? (
        <p className={styles.message}>{job.message}</p>
      ) : null}
      {job.error ? (
        <p className={styles.error}>
          <strong>What went wrong:</strong> {job.error.message}
        </p>
      ) : null}
      <div className={styles.actions}>
        {running ? (
          <Button
            size="sm"
            variant="danger"
            busy={cancel.isPending}
            disabled={job.cancel_requested}
            onClick={() => {
              cancel.mutate(job.id);
            }}
            aria-label={`Cancel ${subject}`}
          >
            Cancel
          </Button>
        ) : (
          <Button
            size="sm"
            busy={rerun.isPending}
            onClick={() => {
              rerun.mutate(job.id);
            }}
            aria-label={`Run again: ${subject}`}
          >
            Run again
          </Button>
        )}
      </div>
      {cancel.error !== null ? <ErrorNotice error={cancel.error} /> : null}
      {rerun.error !== null ? <ErrorNotice error={rerun.error} /> : null}
    </li>
  );
}
