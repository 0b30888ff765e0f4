// Screen 8, Unattended sync: the schedule in words and the next run (the server's own, from
// SAP_SYNC_EVERY, or how to set one up), per rule set "apply by itself when no guard trips" or
// "hold for my review", and the last runs with what each did to each playlist or why it held.
import { Link } from "react-router";
import { Badge } from "../../components/Badge";
import { CopyField } from "../../components/CopyField";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading, Section } from "../../components/Page";
import { Switch } from "../../components/Switch";
import { fullDate, relativeTime } from "../../lib/time";
import { STATUS_TONE, STATUS_WORDS } from "../jobs/api";
import { useSetAutoApply, useUnattended } from "./api";
import { OUTCOME_TONE, OUTCOME_WORDS, outcomeOf, type SyncRun } from "./model";
import styles from "./Sync.module.css";

export function UnattendedPage() {
  const status = useUnattended();
  const choose = useSetAutoApply();
  const data = status.data;
  return (
    <div className={styles.stack}>
      {status.isPending ? <Loading label="Reading the schedule…" /> : null}
      {status.error !== null ? <ErrorNotice error={status.error} /> : null}
      {data !== undefined ? (
        <>
          <Section title="Schedule" id="schedule">
            <div className={styles.schedule}>
              <p className={styles.big}>{data.in_words}</p>
              {data.next_run_at ? (
                <p>
                  Next run{" "}
                  <time dateTime={data.next_run_at} title={fullDate(data.next_run_at)}>
                    {relativeTime(data.next_run_at)}
                  </time>{" "}
                  ({fullDate(data.next_run_at)}).
                </p>
              ) : null}
              {data.running_job_id ? <p role="status">A sync is running now.</p> : null}
              <p className={styles.muted}>
                Each run fetches the sources you fetched before, enriches new tracks, plans every enabled rule set with
                a target, and applies the plans no guard stops — except those you hold for review below.
              </p>
              {data.schedule === "off" ? (
                <>
                  <p>To have this server sync every six hours, start it with:</p>
                  <CopyField label="Command that starts the server with a schedule" value={data.serve_command} />
                  <p>Or let cron run it while the server is off, with this line in your crontab:</p>
                  <CopyField label="Crontab line" value={data.cron_line} />
                </>
              ) : null}
            </div>
          </Section>

          <Section
            title="Rule sets"
            id="rule-sets"
            description="Whether an unattended run applies a rule set's plan by itself, or keeps it for you to read and apply on Plan and apply."
          >
            {data.rule_sets.length === 0 ? (
              <p className={styles.muted}>
                No rule sets yet: make one on <Link to="/rules">Rules</Link>.
              </p>
            ) : null}
            {choose.error !== null ? <ErrorNotice error={choose.error} /> : null}
            <ul className={styles.list} aria-label="Rule sets">
              {data.rule_sets.map((rule) => (
                <li key={rule.rule_id} className={styles.ruleRow}>
                  <span>
                    <strong>{rule.name}</strong>{" "}
                    <span className={styles.muted}>
                      {rule.target ? `→ ${rule.target}` : "no target playlist: not synced"}
                      {rule.enabled ? "" : " · disabled"}
                    </span>
                  </span>
                  <Switch
                    label={
                      rule.auto_apply
                        ? `${rule.name}: apply by itself when no guard trips`
                        : `${rule.name}: hold for my review`
                    }
                    checked={rule.auto_apply}
                    onChange={(checked) => {
                      choose.mutate({ ruleId: rule.rule_id, autoApply: checked });
                    }}
                  />
                </li>
              ))}
            </ul>
          </Section>

          <Section title="Last runs" id="runs">
            {data.runs.length === 0 ? <p className={styles.muted}>No unattended sync has run yet.</p> : null}
            <ul className={styles.list} aria-label="Last runs">
              {data.runs.map((run) => (
                <RunItem key={run.job_id} run={run} />
              ))}
            </ul>
          </Section>
        </>
      ) : null}
    </div>
  );
}

function RunItem({ run }: { run: SyncRun }) {
  const when = run.finished_at ?? run.created_at;
  const report = run.report;
  const plans = report?.plans ?? [];
  const broken = report?.broken ?? [];
  return (
    <li className={styles.item}>
      <div className={styles.itemHead}>
        <span className={styles.itemTitle}>
          <time dateTime={when} title={fullDate(when)}>
            {relativeTime(when)}
          </time>
          {run.periodic ? " · on schedule" : " · started by hand"}
          {report?.dry_run ? " · dry run" : ""}
        </span>
        <Badge tone={STATUS_TONE[run.status]}>{STATUS_WORDS[run.status]}</Badge>
      </div>
      {run.error ? <p className={styles.reason}>{run.error}</p> : null}
      {report ? (
        <>
          {plans.length === 0 && broken.length === 0 ? (
            <p className={styles.muted}>No rule set with a target: nothing to sync.</p>
          ) : null}
          <ul className={styles.outcomes}>
            {plans.map((plan) => {
              const outcome = outcomeOf(plan);
              return (
                <li key={plan.id}>
                  <Badge tone={OUTCOME_TONE[outcome.kind]}>{OUTCOME_WORDS[outcome.kind]}</Badge>
                  <span>{`${plan.rule_name ?? plan.rule_id ?? ""} → ${plan.playlist_name ?? plan.playlist_id ?? ""}`}</span>
                  <span
                    className={styles.muted}
                  >{`+${String(plan.summary.adds)} −${String(plan.summary.removes)}`}</span>
                  {outcome.reason !== null ? <span className={styles.reason}>{outcome.reason}</span> : null}
                  {outcome.kind === "held" || outcome.kind === "skipped" ? (
                    <Link to={`/sync?plans=${encodeURIComponent(plan.id)}`}>Review the plan</Link>
                  ) : null}
                </li>
              );
            })}
            {broken.map((rule) => (
              <li key={rule.rule_id}>
                <Badge tone="danger">Broken</Badge>
                <span>{rule.rule_name}</span>
                <span className={styles.reason}>{rule.problems.map((problem) => problem.message).join("; ")}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </li>
  );
}
