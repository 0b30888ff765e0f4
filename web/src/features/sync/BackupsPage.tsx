// Screen 7, Backups and undo: every backup taken before an apply, per playlist; its diff
// against the playlist as it is now (read from Spotify when asked); a restore, confirmed once,
// with the job's progress and result. A restore is itself backed up, so it can be undone too.
import { useState } from "react";
import { Link } from "react-router";
import { Button } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Notice } from "../../components/Notice";
import { Loading, Section } from "../../components/Page";
import type { Schemas } from "../../api/client";
import { fullDate, relativeTime } from "../../lib/time";
import { useBackupDiff, useBackups, useJob, useRestore } from "./api";
import { spotifyLink, summaryLine } from "./model";
import { Changes } from "./PlanPage";
import { SyncJob } from "./SyncJob";
import styles from "./Sync.module.css";

type Backup = Schemas["BackupSummary"];

function groups(backups: Backup[]): { playlistId: string; name: string; backups: Backup[] }[] {
  const byPlaylist = new Map<string, Backup[]>();
  for (const backup of backups) {
    const list = byPlaylist.get(backup.playlist_id) ?? [];
    list.push(backup);
    byPlaylist.set(backup.playlist_id, list);
  }
  return [...byPlaylist.entries()].map(([playlistId, list]) => ({
    playlistId,
    name: list[0]?.playlist_name ?? playlistId,
    backups: list,
  }));
}

export function BackupsPage() {
  const backups = useBackups();
  return (
    <div className={styles.stack}>
      <Section
        title="Backups"
        id="backups"
        description="Before every apply that writes, the playlist's exact contents are saved. Compare one with the playlist as it is now, and put it back in one step."
      >
        {backups.isPending ? <Loading label="Reading the backups…" /> : null}
        {backups.error !== null ? <ErrorNotice error={backups.error} /> : null}
        {backups.data !== undefined && backups.data.length === 0 ? (
          <p className={styles.muted}>
            No backups yet: the first apply that changes a playlist takes one. <Link to="/sync">Plan and apply</Link>
          </p>
        ) : null}
        <div className={styles.stack}>
          {groups(backups.data ?? []).map((group) => (
            <section key={group.playlistId} className={styles.group} aria-label={`Backups of ${group.name}`}>
              <h3>
                {group.name}{" "}
                <a href={spotifyLink(group.playlistId)} target="_blank" rel="noreferrer" className={styles.muted}>
                  Open in Spotify
                </a>
              </h3>
              <ul className={styles.list}>
                {group.backups.map((backup) => (
                  <BackupItem key={backup.id} backup={backup} name={group.name} />
                ))}
              </ul>
            </section>
          ))}
        </div>
      </Section>
    </div>
  );
}

function BackupItem({ backup, name }: { backup: Backup; name: string }) {
  const [comparing, setComparing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const diff = useBackupDiff(comparing ? backup.id : null);
  const restore = useRestore();
  const job = useJob(restore.data?.id ?? null);
  const when = relativeTime(backup.taken_at);
  return (
    <li className={styles.item} aria-label={`Backup of ${name}, ${when}`}>
      <div className={styles.itemHead}>
        <span className={styles.itemTitle}>
          <time dateTime={backup.taken_at} title={fullDate(backup.taken_at)}>
            {when}
          </time>
          {` · ${String(backup.items)} entries, taken ${backup.reason}`}
        </span>
        <div className={styles.actions}>
          <Button
            size="sm"
            aria-expanded={comparing}
            onClick={() => {
              setComparing(!comparing);
            }}
          >
            {comparing ? "Hide the comparison" : "Compare with now"}
          </Button>
          <Button
            size="sm"
            variant="primary"
            busy={restore.isPending}
            onClick={() => {
              setConfirming(true);
            }}
          >
            Restore…
          </Button>
        </div>
      </div>
      <p className={styles.muted}>{`Backup ${backup.id}${backup.rule_id ? ` · rule set ${backup.rule_id}` : ""}`}</p>
      {comparing ? (
        <div className={styles.result} aria-label="Compared with the playlist now">
          {diff.isFetching && diff.data === undefined ? <Loading label="Reading the playlist on Spotify…" /> : null}
          {diff.error !== null ? <ErrorNotice error={diff.error} /> : null}
          {diff.data !== undefined ? (
            diff.data.plan.calls.length === 0 ? (
              <Notice tone="success" title="The playlist holds exactly this backup">
                <p>Restoring it would change nothing.</p>
              </Notice>
            ) : (
              <>
                <p role="status">
                  {`Restoring would make ${String(diff.data.live_items)} entries into ${String(backup.items)}: ${summaryLine(diff.data)}.`}
                </p>
                <Changes plan={diff.data} />
              </>
            )
          ) : null}
        </div>
      ) : null}
      {restore.error !== null ? <ErrorNotice error={restore.error} /> : null}
      {job !== null ? <SyncJob job={job} what="Restore" playlistName={name} /> : null}
      <Dialog
        open={confirming}
        onClose={() => {
          setConfirming(false);
        }}
        title={`Restore ${name}?`}
      >
        <div className={styles.form}>
          <p>
            {`${name} goes back to the ${String(backup.items)} entries it held ${when} (${fullDate(backup.taken_at)}), in their order. `}
            The playlist as it is now is backed up first, so the restore can be undone too.
          </p>
          <div className={styles.formActions}>
            <Button
              onClick={() => {
                setConfirming(false);
              }}
            >
              Cancel
            </Button>
            <Button
              variant="primary"
              data-autofocus
              onClick={() => {
                setConfirming(false);
                restore.mutate(backup.id);
              }}
            >
              Restore
            </Button>
          </div>
        </div>
      </Dialog>
    </li>
  );
}
