import { useQueryClient } from "@tanstack/react-query";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Page";
import { fullDate, relativeTime } from "../../lib/time";
import { STATUS_TONE, STATUS_WORDS, jobSubject, useRecentJobs, type Job } from "./api";
import styles from "./JobsDrawer.module.css";

/** The jobs drawer: the latest jobs, the ones just started first. It reads the job list when
 * it opens and when asked to refresh; live progress arrives with the job event stream. */
export function JobsDrawer({ open, highlight, onClose }: { open: boolean; highlight: string[]; onClose: () => void }) {
  const jobs = useRecentJobs(open);
  const client = useQueryClient();
  const close = () => {
    // Jobs may have changed the library meanwhile: screens read it afresh.
    void client.invalidateQueries({ queryKey: ["library"] });
    onClose();
  };
  const items = jobs.data?.items ?? [];
  const ordered = [
    ...items.filter((job) => highlight.includes(job.id)),
    ...items.filter((job) => !highlight.includes(job.id)),
  ];
  return (
    <Dialog open={open} onClose={close} title="Jobs" side>
      <div className={styles.toolbar}>
        <p className={styles.count} role="status">
          {jobs.data !== undefined ? `${jobs.data.total} job${jobs.data.total === 1 ? "" : "s"} in the history` : ""}
        </p>
        <Button size="sm" onClick={() => void jobs.refetch()} busy={jobs.isFetching}>
          Refresh
        </Button>
      </div>
      {jobs.isPending && open ? <Loading label="Reading the jobs…" /> : null}
      {jobs.error !== null ? <ErrorNotice error={jobs.error} /> : null}
      {jobs.data !== undefined && items.length === 0 ? (
        <p className={styles.empty}>No jobs yet. Fetching a source starts one.</p>
      ) : null}
      <ul className={styles.list} aria-label="Latest jobs">
        {ordered.map((job) => (
          <JobRow key={job.id} job={job} fresh={highlight.includes(job.id)} />
        ))}
      </ul>
    </Dialog>
  );
}

function JobRow({ job, fresh }: { job: Job; fresh: boolean }) {
  const progress = job.progress;
  const fraction = progress?.total ? Math.min(1, progress.done / progress.total) : null;
  return (
    <li className={[styles.job, fresh ? styles.fresh : ""].join(" ")}>
      <div className={styles.jobHead}>
        <span className={styles.subject}>{jobSubject(job)}</span>
        <Badge tone={STATUS_TONE[job.status]}>{STATUS_WORDS[job.status]}</Badge>
      </div>
      <p className={styles.meta}>
        <span>{job.step.replace(/_/g, " ")}</span>
        {job.created_at !== undefined ? (
          <time dateTime={job.created_at} title={fullDate(job.created_at)}>
            {relativeTime(job.created_at)}
          </time>
        ) : null}
        <span className={styles.id}>#{job.id.slice(0, 8)}</span>
      </p>
      {fraction !== null && job.status === "running" ? (
        <progress className={styles.progress} value={fraction} max={1} aria-label={`Progress of ${jobSubject(job)}`} />
      ) : null}
      {job.message && job.message.toLowerCase() !== job.status ? <p className={styles.message}>{job.message}</p> : null}
      {job.error ? <p className={styles.error}>{job.error.message}</p> : null}
    </li>
  );
}
