// Screen 1, Rule sets: each with its target, mode, enabled (a switch, saved at once), its
// count and minutes (one counts-only request for all), its last apply and its status (broken
// from the counts; otherwise as of its latest plan, with its age; "Check against Spotify"
// plans them all afresh). Actions: preview, edit, duplicate, delete (confirmed), export .nsp.
// Files in and out (FilesPanel). `/rules?rule=ID` lands on that rule set.
import { useEffect, useMemo, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useCommands, type Command } from "../../app/commands";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Notice } from "../../components/Notice";
import { Loading, PageHeader } from "../../components/Page";
import { Switch } from "../../components/Switch";
import {
  exportNsp,
  ruleBody,
  useCheckAll,
  useDeleteRule,
  useRuleSetCounts,
  useRuleSets,
  useSaveRule,
  useSyncStatus,
  type RuleDoc,
} from "./api";
import { download, downloadRulesFile } from "./download";
import { FilesPanel } from "./FilesPanel";
import { ago, copyId, editLink, minutesText, previewLink, ruleStatus } from "./model";
import styles from "./Rules.module.css";

export function RulesPage() {
  const rules = useRuleSets();
  const ids = useMemo(() => rules.data?.map((rule) => rule.id), [rules.data]);
  const figures = useRuleSetCounts(ids);
  const status = useSyncStatus();
  const check = useCheckAll();
  const save = useSaveRule();
  const remove = useDeleteRule();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const wanted = params.get("rule");
  const [deleting, setDeleting] = useState<RuleDoc | null>(null);
  const [message, setMessage] = useState<{ title: string; lines: string[] } | null>(null);
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = window.setInterval(() => {
      setNow(new Date());
    }, 30_000);
    return () => {
      window.clearInterval(timer);
    };
  }, []);

  // A link to one rule set (from the Library's "save as rule set") scrolls to it and focuses it.
  useEffect(() => {
    if (wanted === null || rules.data === undefined) return;
    const element = document.getElementById(`rule-${wanted}`);
    element?.scrollIntoView({ block: "center" });
    element?.focus();
  }, [wanted, rules.data]);

  const counts = new Map((figures.data?.counts ?? []).map((counted) => [counted.rule_id, counted]));
  const broken = new Map((figures.data?.broken ?? []).map((item) => [item.rule_id, item]));
  const states = new Map((status.data ?? []).map((state) => [state.rule_id, state]));

  const commands: Command[] = useMemo(
    () => [
      {
        id: "rules.check",
        title: "Check every rule set against Spotify",
        group: "Rules",
        run: () => {
          check.mutate();
        },
      },
      { id: "rules.new", title: "New rule set", group: "Rules", run: () => void navigate("/rules/new") },
      {
        id: "rules.overlaps",
        title: "Overlaps between rule sets",
        group: "Rules",
        run: () => void navigate("/rules/overlaps"),
      },
      {
        id: "rules.starters",
        title: "Start a rule set from your library",
        group: "Rules",
        run: () => void navigate("/rules/starters"),
      },
      {
        id: "rules.download",
        title: "Download every rule set as a rule file",
        group: "Rules",
        run: () => void downloadRulesFile(),
      },
    ],
    [check, navigate],
  );
  useCommands(commands);

  async function exportOne(rule: RuleDoc) {
    try {
      const answer = await exportNsp(rule.id);
      const dropped = answer.dropped ?? [];
      const notes = answer.notes ?? [];
      download(`${rule.id}.nsp`, `${JSON.stringify(answer.nsp, null, 2)}\n`, "application/json");
      setMessage({
        title: `Exported “${rule.name}” as ${rule.id}.nsp`,
        lines:
          dropped.length + notes.length > 0
            ? [...dropped.map((line) => `Left out: ${line}`), ...notes]
            : ["Navidrome can express all of it."],
      });
    } catch (error) {
      setMessage({ title: "The export failed", lines: [error instanceof Error ? error.message : String(error)] });
    }
  }

  function duplicate(rule: RuleDoc) {
    const taken = new Set((rules.data ?? []).map((item) => item.id));
    // A copy syncs nowhere until given a target: two rule sets writing one playlist would fight.
    save.mutate({
      ...ruleBody(rule),
      id: copyId(rule.id, taken),
      name: `${rule.name} (copy)`.slice(0, 200),
      target_playlist_id: null,
      target_playlist_name: null,
    });
  }

  return (
    <>
      <PageHeader
        title="Rules"
        lead="Your rule sets, each making one playlist: what it holds now, and where it stands with Spotify."
        actions={
          <>
            <Link to="/rules/new" className={[styles.linkButton, styles.primaryLink].join(" ")}>
              New rule set
            </Link>
            <Button
              size="sm"
              onClick={() => {
                check.mutate();
              }}
              busy={check.isPending}
            >
              Check against Spotify
            </Button>
            <Link to="/rules/overlaps" className={styles.linkButton}>
              Overlaps
            </Link>
            <Link to="/rules/starters" className={styles.linkButton}>
              Starters
            </Link>
          </>
        }
      />
      {check.isError ? <ErrorNotice error={check.error} /> : null}
      {check.isSuccess ? (
        <p className={styles.muted} role="status">
          {`Checked ${check.data.plans.length} playlist${check.data.plans.length === 1 ? "" : "s"} against Spotify just now.`}
        </p>
      ) : null}
      {save.isError ? <ErrorNotice error={save.error} /> : null}
      {remove.isError ? <ErrorNotice error={remove.error} /> : null}
      {figures.isError ? <ErrorNotice error={figures.error} /> : null}
      {status.isError ? <ErrorNotice error={status.error} /> : null}
      {message !== null ? (
        <Notice
          tone="info"
          title={message.title}
          live
          actions={
            <Button
              size="sm"
              variant="ghost"
              onClick={() => {
                setMessage(null);
              }}
            >
              Dismiss
            </Button>
          }
        >
          <ul>
            {message.lines.map((line, index) => (
              <li key={index}>{line}</li>
            ))}
          </ul>
        </Notice>
      ) : null}
      {rules.isPending ? <Loading label="Reading the rule sets…" /> : null}
      {rules.isError ? <ErrorNotice error={rules.error} /> : null}
      {rules.data !== undefined && rules.data.length === 0 ? (
        <p className={styles.muted}>
          No rule set yet. <Link to="/rules/starters">Start from your library</Link>, write one (
          <Link to="/rules/new">New rule set</Link>), or import a file below.
        </p>
      ) : null}
      {rules.data !== undefined && rules.data.length > 0 ? (
        <ul className={styles.cards} aria-label="Rule sets">
          {rules.data.map((rule) => {
            const counted = counts.get(rule.id);
            const state = states.get(rule.id);
            const hasTarget = rule.target_playlist_id != null || rule.target_playlist_name != null;
            const shown = ruleStatus(broken.get(rule.id), state, hasTarget, now);
            const applied = state?.last_apply;
            const playlistId = rule.target_playlist_id ?? applied?.playlist_id ?? state?.plan?.playlist_id ?? null;
            return (
              <li
                key={rule.id}
                id={`rule-${rule.id}`}
                tabIndex={-1}
                className={[styles.card, wanted === rule.id ? styles.wanted : ""].join(" ")}
                aria-labelledby={`rule-${rule.id}-name`}
              >
                <div className={styles.cardHead}>
                  <h2 id={`rule-${rule.id}-name`} className={styles.cardTitle}>
                    {rule.name}
                  </h2>
                  <Badge tone={shown.tone}>{shown.label}</Badge>
                </div>
                {shown.detail !== null ? <p className={styles.detail}>{shown.detail}</p> : null}
                {counted !== undefined && (counted.warnings ?? []).length > 0 ? (
                  <p className={styles.warnings}>
                    No track has {(counted.warnings ?? []).map((warning) => warning.field).join(", ")} yet:{" "}
                    <Link to="/enrichment">run enrichment</Link> for{" "}
                    {(counted.warnings ?? [])
                      .map(
                        (warning) =>
                          `${warning.field}${warning.providers.length > 0 ? ` (${warning.providers.join(", ")})` : ""}`,
                      )
                      .join(", ")}
                    .
                  </p>
                ) : null}
                <dl className={styles.facts}>
                  <div>
                    <dt>Tracks</dt>
                    <dd data-testid={`count-${rule.id}`}>
                      {counted !== undefined
                        ? `${counted.track_count.toLocaleString("en")} · ${minutesText(counted.minutes)}`
                        : broken.has(rule.id)
                          ? "—"
                          : "…"}
                    </dd>
                  </div>
                  <div>
                    <dt>Target</dt>
                    <dd>
                      {playlistId !== null ? (
                        <a href={`https://open.spotify.com/playlist/${playlistId}`} target="_blank" rel="noreferrer">
                          {rule.target_playlist_name ?? state?.plan?.playlist_name ?? "the playlist"}
                          <span className="visually-hidden"> (opens Spotify)</span>
                        </a>
                      ) : rule.target_playlist_name != null ? (
                        `${rule.target_playlist_name} (created at the first apply)`
                      ) : (
                        "none"
                      )}
                    </dd>
                  </div>
                  <div>
                    <dt>Mode</dt>
                    <dd>{rule.sync_mode}</dd>
                  </div>
                  <div>
                    <dt>Last apply</dt>
                    <dd>{applied != null ? ago(new Date(applied.at), now) : "never"}</dd>
                  </div>
                </dl>
                <div className={styles.cardActions}>
                  <Switch
                    label="Enabled"
                    checked={rule.enabled}
                    onChange={(enabled) => {
                      save.mutate({ ...ruleBody(rule), enabled });
                    }}
                  />
                  <Link to={previewLink(rule.id)} className={styles.linkButton} aria-label={`Preview ${rule.name}`}>
                    Preview
                  </Link>
                  <Link to={editLink(rule.id)} className={styles.linkButton} aria-label={`Edit ${rule.name}`}>
                    Edit
                  </Link>
                  <Button
                    size="sm"
                    onClick={() => {
                      duplicate(rule);
                    }}
                    aria-label={`Duplicate ${rule.name}`}
                  >
                    Duplicate
                  </Button>
                  <Button size="sm" onClick={() => void exportOne(rule)} aria-label={`Export .nsp of ${rule.name}`}>
                    Export .nsp
                  </Button>
                  <Button
                    size="sm"
                    variant="danger"
                    onClick={() => {
                      setDeleting(rule);
                    }}
                    aria-label={`Delete ${rule.name}`}
                  >
                    Delete
                  </Button>
                </div>
              </li>
            );
          })}
        </ul>
      ) : null}

      <FilesPanel />

      <Dialog
        open={deleting !== null}
        onClose={() => {
          setDeleting(null);
        }}
        title="Delete this rule set?"
      >
        {deleting !== null ? (
          <div className={styles.form}>
            <p>
              “{deleting.name}” will be deleted. Its playlist on Spotify stays as it is; you can export the rule set
              first to keep it.
            </p>
            <div className={styles.formActions}>
              <Button
                onClick={() => {
                  setDeleting(null);
                }}
              >
                Keep it
              </Button>
              <Button
                variant="danger"
                busy={remove.isPending}
                onClick={() => {
                  remove.mutate(deleting.id, {
                    onSuccess: () => {
                      setDeleting(null);
                    },
                  });
                }}
              >
                Delete
              </Button>
            </div>
          </div>
        ) : null}
      </Dialog>
    </>
  );
}
