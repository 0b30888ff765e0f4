import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { Notice } from "../../components/Notice";
import { STATUS_TONE, STATUS_WORDS, jobSubject, useRecentJobs } from "../jobs/api";
import type { Job } from "./api";
import { plural } from "./model";
import styles from "./StartedJobs.module.css";

/** The jobs a fetch just started (one per source), and the way to follow them in the jobs
 * drawer. Each shows the server's answer, or the newer state the drawer read since. */
export function StartedJobs({ jobs: started, onOpenJobs }: { jobs: Job[]; onOpenJobs: (ids: string[]) => void }) {
  const recent = useRecentJobs().data?.items ?? [];
  const jobs = started.map((job) => recent.find((seen) => seen.id === job.id) ?? job);
  return (
    <Notice
      tone="success"
      live
      title={`Started ${plural(jobs.length, "fetch job")}`}
      actions={
        <Button
          size="sm"
          variant="primary"
          onClick={() => {
            onOpenJobs(jobs.map((job) => job.id));
          }}
        >
          Open jobs
        </Button>
      }
    >
      <p>One job per source; they run in the background, and the Fetched column updates when they end.</p>
      <ul className={styles.list} aria-label="Jobs started">
        {jobs.map((job) => (
          <li key={job.id}>
            <span className={styles.subject}>{jobSubject(job)}</span>
            <Badge tone={STATUS_TONE[job.status]}>{STATUS_WORDS[job.status]}</Badge>
            <span className={styles.id}>job {job.id.slice(0, 8)}</span>
          </li>
        ))}
      </ul>
    </Notice>
  );
}
