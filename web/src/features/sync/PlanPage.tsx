// Screen 6, Plan and apply: pick a rule set (or all), plan against the live playlists read
// just now, read each plan by name — adds, removes, moves, kept items, duplicates, tracks left
// out and why, the guards that trip, the write calls — then apply it explicitly, with the
// playlist's name typed when a guard tripped; the job's progress and the result follow.
import { useId, useMemo, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Notice } from "../../components/Notice";
import { Loading, Section } from "../../components/Page";
import { useCommands, type Command } from "../../app/commands";
import { usePlaylists } from "../sources/api";
import { useApply, useJob, usePlan, useRuleSets, useStoredPlan } from "./api";
import {
  GUARD_WORDS,
  MODE_WORDS,
  confirmName,
  confirms,
  forced,
  planDiff,
  plansFromSearch,
  spotifyLink,
  type DiffRow,
  type StoredPlan,
  type SyncMode,
} from "./model";
import { SyncJob } from "./SyncJob";
import styles from "./Sync.module.css";

const ALL = "";

export function PlanPage() {
  const [search, setSearch] = useSearchParams();
  const rules = useRuleSets();
  const plan = usePlan();
  const [ruleId, setRuleId] = useState(search.get("rule") ?? ALL);
  const [mode, setMode] = useState<SyncMode | "">("");
  const [copy, setCopy] = useState(false);
  const [copyName, setCopyName] = useState("");
  const planIds = plansFromSearch(search);
  const ids = { rule: useId(), mode: useId(), name: useId() };
  const targeted = (rules.data ?? []).filter((rule) => rule.target_playlist_id ?? rule.target_playlist_name);
  const chosen = targeted.find((rule) => rule.id === ruleId) ?? null;
  const untargeted = (rules.data ?? []).length - targeted.length;
  // A target given by id is shown by its name when the account's playlists are known.
  const playlists = usePlaylists(targeted.some((rule) => rule.target_playlist_id));
  const playlistName = (id: string) => playlists.data?.find((playlist) => playlist.id === id)?.name ?? id;

  const run = (ids: string[] | null) => {
    const one = ids !== null && ids.length === 1;
    plan.mutate(
      {
        ruleIds: ids,
        mode: one && mode !== "" ? mode : null,
        newPlaylistName: one && copy ? copyName.trim() || `${chosen?.name ?? "Playlist"} (copy)` : null,
      },
      {
        onSuccess: (answer) => {
          const next = new URLSearchParams(search);
          next.set("plans", answer.plans.map((p) => p.id).join(","));
          setSearch(next);
        },
      },
    );
  };

  const commands = useMemo<Command[]>(
    () => [
      {
        id: "sync:plan-all",
        title: "Plan every rule set's playlist",
        group: "Sync",
        keywords: ["diff", "preview changes"],
        run: () => {
          plan.mutate(
            { ruleIds: null, mode: null, newPlaylistName: null },
            {
              onSuccess: (answer) => {
                setSearch(new URLSearchParams({ plans: answer.plans.map((p) => p.id).join(",") }));
              },
            },
          );
        },
      },
    ],
    [plan, setSearch],
  );
  useCommands(commands);

  return (
    <div className={styles.stack}>
      <Section
        title="Plan"
        id="plan"
        description="Planning reads each playlist on Spotify now and shows what applying would change. It writes nothing."
      >
        {rules.isPending ? <Loading label="Reading the rule sets…" /> : null}
        {rules.error !== null ? <ErrorNotice error={rules.error} /> : null}
        {rules.data !== undefined && targeted.length === 0 ? (
          <Notice tone="info" title="No rule set has a target playlist">
            <p>
              Give a rule set a target playlist (an existing one, or a name to create) on <Link to="/rules">Rules</Link>
              , then plan it here.
            </p>
          </Notice>
        ) : null}
        {targeted.length > 0 ? (
          <form
            className={styles.form}
            onSubmit={(event) => {
              event.preventDefault();
              run(ruleId === ALL ? null : [ruleId]);
            }}
          >
            <div className={styles.fields}>
              <div className={styles.field}>
                <label htmlFor={ids.rule}>Rule set</label>
                <select
                  id={ids.rule}
                  value={ruleId}
                  onChange={(event) => {
                    setRuleId(event.target.value);
                  }}
                >
                  <option value={ALL}>Every enabled rule set with a target</option>
                  {targeted.map((rule) => (
                    <option key={rule.id} value={rule.id}>
                      {`${rule.name} → ${rule.target_playlist_id ? playlistName(rule.target_playlist_id) : (rule.target_playlist_name ?? "")}${
                        rule.enabled ? "" : " (disabled)"
                      }`}
                    </option>
                  ))}
                </select>
              </div>
              {chosen !== null ? (
                <div className={styles.field}>
                  <label htmlFor={ids.mode}>Mode for this apply</label>
                  <select
                    id={ids.mode}
                    value={mode}
                    onChange={(event) => {
                      setMode(event.target.value as SyncMode | "");
                    }}
                  >
                    <option value="">{`The rule set's: ${chosen.sync_mode}`}</option>
                    {(Object.keys(MODE_WORDS) as SyncMode[]).map((value) => (
                      <option key={value} value={value}>
                        {MODE_WORDS[value]}
                      </option>
                    ))}
                  </select>
                </div>
              ) : null}
            </div>
            {chosen !== null ? (
              <div className={styles.fields}>
                <label className={styles.check}>
                  <input
                    type="checkbox"
                    checked={copy}
                    onChange={(event) => {
                      setCopy(event.target.checked);
                    }}
                  />
                  <span>Write to a new playlist instead (a one-off copy; the rule set keeps its playlist)</span>
                </label>
                {copy ? (
                  <div className={styles.field}>
                    <label htmlFor={ids.name}>New playlist's name</label>
                    <input
                      id={ids.name}
                      type="text"
                      value={copyName}
                      placeholder={`${chosen.name} (copy)`}
                      onChange={(event) => {
                        setCopyName(event.target.value);
                      }}
                    />
                  </div>
                ) : null}
              </div>
            ) : null}
            <div className={styles.formActions}>
              <Button type="submit" variant="primary" busy={plan.isPending}>
                Plan
              </Button>
            </div>
            {untargeted > 0 ? (
              <p className={styles.muted}>
                {`${String(untargeted)} rule set${untargeted === 1 ? " has" : "s have"} no target playlist and ${
                  untargeted === 1 ? "is" : "are"
                } not listed.`}
              </p>
            ) : null}
          </form>
        ) : null}
        {plan.error !== null ? <ErrorNotice error={plan.error} /> : null}
        {plan.data !== undefined && plan.data.broken.length > 0 ? (
          <Notice tone="warning" title="Some rule sets could not be planned">
            <ul>
              {plan.data.broken.map((broken) => (
                <li key={broken.rule_id}>
                  <strong>{broken.rule_name}</strong>: {broken.problems.map((problem) => problem.message).join("; ")}
                </li>
              ))}
            </ul>
          </Notice>
        ) : null}
        {plan.data !== undefined && plan.data.plans.length === 0 ? (
          <p className={styles.muted} role="status">
            Nothing to plan: no enabled rule set has a target playlist.
          </p>
        ) : null}
      </Section>
      {planIds.length > 0 ? (
        <ul className={styles.plans} aria-label="Plans">
          {planIds.map((id) => (
            <PlanCard key={id} id={id} />
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function PlanCard({ id }: { id: string }) {
  const stored = useStoredPlan(id);
  const apply = useApply();
  const navigate = useNavigate();
  const [confirming, setConfirming] = useState(false);
  const job = useJob(apply.data?.id ?? null);
  const plan = stored.data;
  if (plan === undefined) {
    return (
      <li className={styles.card}>
        {stored.error !== null ? <ErrorNotice error={stored.error} /> : <Loading label="Reading the plan…" />}
      </li>
    );
  }
  const name = plan.playlist_name ?? plan.playlist_id ?? "the playlist";
  const title = `${plan.rule_name ?? plan.rule_id ?? "Restore"} → ${name}`;
  const nothing = plan.summary.writes === 0 && !plan.create;
  const pending = plan.status === "planned";
  const start = (force: string[]) => {
    apply.mutate({ planId: plan.id, force });
  };
  return (
    <li className={styles.card} aria-label={`Plan for ${name}`}>
      <div className={styles.cardHead}>
        <h2 className={styles.cardTitle}>{title}</h2>
        <div className={styles.badges}>
          {plan.create ? <Badge tone="info">New playlist</Badge> : null}
          {plan.one_off ? <Badge tone="neutral">One-off copy</Badge> : null}
          <Badge tone="neutral">{plan.mode}</Badge>
          <PlanStatus plan={plan} />
        </div>
      </div>
      <p className={styles.counts} aria-label="What the plan changes">
        <span className={styles.add}>
          <strong>{`+${String(plan.summary.adds)}`}</strong> added
        </span>
        <span className={styles.remove}>
          <strong>{`−${String(plan.summary.removes)}`}</strong> removed
        </span>
        <span>
          <strong>{`~${String(plan.summary.moves)}`}</strong> moved
        </span>
        <span>
          <strong>{plan.summary.kept}</strong> kept
        </span>
        <span>
          <strong>{plan.summary.duplicates}</strong> duplicated
        </span>
        <span>
          <strong>{plan.summary.writes}</strong> {`write call${plan.summary.writes === 1 ? "" : "s"}`}
        </span>
      </p>
      {plan.guards.length > 0 && pending ? (
        <Notice tone="warning" title="A guard stops this apply">
          <ul>
            {plan.guards.map((guard) => (
              <li key={guard.guard}>
                <strong>{GUARD_WORDS[guard.guard]}</strong>: {guard.message}
              </li>
            ))}
          </ul>
          <p>To apply anyway you will type the playlist's name.</p>
        </Notice>
      ) : null}
      <Changes plan={plan} />
      <div className={styles.actions}>
        {pending && !nothing ? (
          <Button
            variant={plan.guards.length > 0 ? "danger" : "primary"}
            busy={apply.isPending || (job !== null && job.status !== "done" && job.status !== "failed")}
            disabled={job?.status === "done"}
            onClick={() => {
              if (plan.guards.length > 0) setConfirming(true);
              else start([]);
            }}
          >
            {plan.guards.length > 0 ? "Apply anyway…" : `Apply to ${name}`}
          </Button>
        ) : null}
        {nothing ? (
          <span className={styles.muted} role="status">
            Already in sync: nothing to write.
          </span>
        ) : null}
        {!pending && plan.status !== "applied" ? (
          <Button
            size="sm"
            onClick={() => {
              void navigate(plan.rule_id ? `/sync?rule=${encodeURIComponent(plan.rule_id)}` : "/sync");
            }}
          >
            Plan again
          </Button>
        ) : null}
        {plan.playlist_id !== null && (!plan.create || plan.status === "applied") ? (
          <a href={spotifyLink(plan.playlist_id)} target="_blank" rel="noreferrer" className={styles.muted}>
            Open {name} in Spotify
          </a>
        ) : null}
      </div>
      {apply.error !== null ? <ErrorNotice error={apply.error} /> : null}
      {job !== null ? <SyncJob job={job} what="Apply" playlistName={name} /> : null}
      <ConfirmApplyDialog
        plan={plan}
        open={confirming}
        onClose={() => {
          setConfirming(false);
        }}
        onConfirm={() => {
          setConfirming(false);
          start(forced(plan));
        }}
      />
    </li>
  );
}

function PlanStatus({ plan }: { plan: StoredPlan }) {
  switch (plan.status) {
    case "planned":
      return <Badge tone="info">Not applied yet</Badge>;
    case "applied":
      return <Badge tone="success">Applied</Badge>;
    case "superseded":
      return <Badge tone="neutral">Replaced by a newer plan</Badge>;
    case "stale":
      return <Badge tone="warning">The playlist changed: plan again</Badge>;
    case "failed":
      return <Badge tone="danger">Failed</Badge>;
  }
}

function Rows({ rows, label }: { rows: DiffRow[]; label: string }) {
  return (
    // A long list scrolls inside its box: focusable, so the keyboard can scroll it too.
    <ul className={styles.rows} aria-label={label} tabIndex={0}>
      {rows.map((row) => (
        <li key={row.key}>
          <span className={styles.pos}>{row.position !== null ? `#${String(row.position)}` : ""}</span>
          <span className={styles.name}>{row.name}</span>
          {row.note !== null ? <span className={styles.note}>{row.note}</span> : null}
        </li>
      ))}
    </ul>
  );
}

/** Every change of a plan by name, a disclosure per kind (the small ones open). */
export function Changes({
  plan,
}: {
  plan: Pick<StoredPlan, "plan" | "names"> & { excluded?: StoredPlan["excluded"] };
}) {
  const diff = planDiff(plan.plan, plan.names);
  const excluded = plan.excluded ?? [];
  const parts: { key: string; title: string; rows: DiffRow[] }[] = [
    { key: "adds", title: "Added", rows: diff.adds },
    { key: "removes", title: "Removed", rows: diff.removes },
    { key: "moves", title: "Moved", rows: diff.moves },
    { key: "kept", title: "Kept as they are", rows: diff.kept },
    { key: "duplicates", title: "Duplicates", rows: diff.duplicates },
    {
      key: "excluded",
      title: "Left out: Spotify cannot add them",
      rows: excluded.map((track) => ({
        key: `excluded-${track.uri}`,
        name: track.name ?? track.track_id,
        uri: track.uri,
        position: null,
        note: track.message,
      })),
    },
  ];
  const shown = parts.filter((part) => part.rows.length > 0);
  if (shown.length === 0) return null;
  return (
    <div className={styles.changes}>
      {shown.map((part) => (
        <details key={part.key} open={part.rows.length <= 8}>
          <summary>{`${part.title} (${String(part.rows.length)})`}</summary>
          <Rows rows={part.rows} label={part.title} />
        </details>
      ))}
    </div>
  );
}

function ConfirmApplyDialog({
  plan,
  open,
  onClose,
  onConfirm,
}: {
  plan: StoredPlan;
  open: boolean;
  onClose: () => void;
  onConfirm: () => void;
}) {
  const [typed, setTyped] = useState("");
  const name = confirmName(plan);
  const ok = confirms(plan, typed);
  return (
    <Dialog
      open={open}
      onClose={() => {
        setTyped("");
        onClose();
      }}
      title="Apply past a guard?"
    >
      <form
        className={styles.form}
        onSubmit={(event) => {
          event.preventDefault();
          if (!ok) return;
          setTyped("");
          onConfirm();
        }}
      >
        <ul>
          {plan.guards.map((guard) => (
            <li key={guard.guard}>{guard.message}</li>
          ))}
        </ul>
        <p>
          A backup of the playlist is taken first, so you can undo it under Backups. Type the playlist's name,{" "}
          <strong>{name}</strong>, to apply anyway.
        </p>
        <label>
          <span>Playlist name</span>
          <input
            type="text"
            data-autofocus
            autoComplete="off"
            value={typed}
            onChange={(event) => {
              setTyped(event.target.value);
            }}
          />
        </label>
        <div className={styles.formActions}>
          <Button
            onClick={() => {
              setTyped("");
              onClose();
            }}
          >
            Cancel
          </Button>
          <Button type="submit" variant="danger" disabled={!ok}>
            Apply anyway
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
