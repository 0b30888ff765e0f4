// The rules editor (`/rules/new`, `/rules/:id/edit`): two views of one rule set — the text
// syntax in CodeMirror and the visual builder over the JSON model — with a live count.
//
// One model, the server's: switching text → builder parses the text (POST /data/rules/parse),
// builder → text formats the model (POST /data/rules/format); a text that does not parse keeps
// you in the text view with the problem shown. While you edit, the count (POST
// /pipeline/playlists/count) follows ~120 ms after the last change, each newer request
// aborting the older one; the text view's problems come from POST /data/rules/validate.
// The playlist's settings (target, mode, pins, bans, enabled, hold for review, description)
// are lines of the text in the text view — the text is the whole rule set, as in a rules file,
// so a line deleted there is cleared — and form fields over the JSON in the builder; switching
// carries them across. Name and id are form fields in both.
import type { EditorView } from "@codemirror/view";
import { lazy, Suspense, useCallback, useEffect, useId, useMemo, useRef, useState } from "react";
import { useLocation, useNavigate, useParams, useSearchParams } from "react-router";
import { ApiError } from "../../api/errors";
import { useCommands, type Command } from "../../app/commands";
import { Button } from "../../components/Button";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Notice } from "../../components/Notice";
import { Loading, PageHeader, Section } from "../../components/Page";
import { Switch } from "../../components/Switch";
import {
  formatRules,
  parseText,
  useCompletion,
  useCount,
  useRuleSet,
  useSaveRuleSet,
  validate,
  type NodeCount,
  type ParsedRules,
  type RuleSetBody,
  type RuleSetCount,
  type RuleSetDocument,
} from "./api";
import { Builder, type Clauses } from "./Builder";
import { applyFix, suggestion, type Problem } from "./language";
import { fromModel, toModel, type BGroup } from "./model";
import { TextEditor } from "./TextEditor";
import styles from "./EditorPage.module.css";

// The playlist this rule set would make (the Rules screens' preview: tracks, charts, explain),
// loaded when first opened.
const RulePreview = lazy(() => import("../rules/RulePreview").then((m) => ({ default: m.RulePreview })));

/** How long after the last change the count is asked for. */
export const COUNT_DELAY_MS = 120;
const VALIDATE_DELAY_MS = 250;

type View = "text" | "builder";

interface Meta {
  id: string;
  name: string;
  description: string | null;
  enabled: boolean;
  target_playlist_id: string | null;
  target_playlist_name: string | null;
  sync_mode: "replace" | "merge" | "append";
  include: string[];
  exclude: string[];
  auto_apply: boolean;
}

/** The settings a text leaves out: the model's defaults (the text view's text is all of it). */
const DEFAULT_SETTINGS = {
  description: null,
  enabled: true,
  target_playlist_id: null,
  target_playlist_name: null,
  sync_mode: "replace",
  include: [],
  exclude: [],
  auto_apply: true,
} as const;

/** The settings a parsed text states, the defaults for what it leaves out. */
function settingsOf(parsed: ParsedRules): Omit<Meta, "id" | "name"> {
  return {
    description: parsed.description === undefined || parsed.description === "" ? null : parsed.description,
    enabled: parsed.enabled ?? true,
    target_playlist_id: parsed.target?.playlist_id ?? null,
    target_playlist_name: parsed.target?.playlist_name ?? null,
    sync_mode: parsed.sync_mode ?? "replace",
    include: parsed.include ?? [],
    exclude: parsed.exclude ?? [],
    auto_apply: parsed.auto_apply ?? true,
  };
}

/** The settings clauses that say `meta` (those that differ from the defaults). */
function settingsClauses(meta: Meta): Partial<ParsedRules> {
  const target =
    meta.target_playlist_id !== null || meta.target_playlist_name !== null
      ? { playlist_id: meta.target_playlist_id, playlist_name: meta.target_playlist_name }
      : null;
  return {
    include: meta.include.length > 0 ? meta.include : null,
    exclude: meta.exclude.length > 0 ? meta.exclude : null,
    target,
    sync_mode: meta.sync_mode !== "replace" ? meta.sync_mode : null,
    auto_apply: meta.auto_apply ? null : false,
    enabled: meta.enabled ? null : false,
    description: meta.description,
  };
}

const NO_PROBLEMS = new Map<string, string>();
const EMPTY_CLAUSES: Clauses = { sources: null, sort: [], limit: null, dedupe: "none", max_per_artist: null };

export function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  return slug === "" ? "new-rule-set" : slug;
}

function metaOf(doc: RuleSetDocument): Meta {
  return {
    id: doc.id,
    name: doc.name,
    description: doc.description ?? null,
    enabled: doc.enabled,
    target_playlist_id: doc.target_playlist_id ?? null,
    target_playlist_name: doc.target_playlist_name ?? null,
    sync_mode: doc.sync_mode,
    include: doc.include ?? [],
    exclude: doc.exclude ?? [],
    auto_apply: doc.auto_apply,
  };
}

function useDebounced<T>(value: T, delay: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => {
      setSettled(value);
    }, delay);
    return () => {
      window.clearTimeout(timer);
    };
  }, [value, delay]);
  return settled;
}

function ids(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

export function EditorPage() {
  const params = useParams();
  const editing = params.id ?? null;
  const existing = useRuleSet(editing);
  if (editing !== null && existing.isPending) return <Loading label="Loading the rule set…" />;
  if (editing !== null && existing.error !== null) {
    return (
      <>
        <PageHeader title="Edit rule set" />
        <ErrorNotice error={existing.error} />
      </>
    );
  }
  return <Editor key={editing ?? "new"} doc={existing.data ?? null} />;
}

function Editor({ doc }: { doc: RuleSetDocument | null }) {
  const [search] = useSearchParams();
  const navigate = useNavigate();
  const completion = useCompletion();
  const save = useSaveRuleSet();
  const formId = useId();

  const [meta, setMeta] = useState<Meta>(() =>
    doc !== null
      ? metaOf(doc)
      : {
          id: "",
          name: search.get("name") ?? "",
          description: null,
          enabled: true,
          target_playlist_id: null,
          target_playlist_name: null,
          sync_mode: "replace",
          include: [],
          exclude: [],
          auto_apply: true,
        },
  );
  const [idEdited, setIdEdited] = useState(doc !== null);
  const [view, setView] = useState<View>("text");
  const [text, setText] = useState<string>(() => doc?.text ?? search.get("text") ?? "");
  const [textMount, setTextMount] = useState(0); // a new text from the builder remounts the editor
  const [tree, setTree] = useState<BGroup>(() =>
    fromModel(doc?.rules ?? { operator: "and", negate: false, conditions: [] }),
  );
  const [clauses, setClauses] = useState<Clauses>(() =>
    doc !== null
      ? {
          sources: doc.sources ?? null,
          sort: doc.sort ?? [],
          limit: doc.limit ?? null,
          dedupe: doc.dedupe,
          max_per_artist: doc.max_per_artist ?? null,
        }
      : EMPTY_CLAUSES,
  );
  const [switching, setSwitching] = useState<unknown>(null);
  const [previewing, setPreviewing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problems, setProblems] = useState<Problem[]>([]);
  const location = useLocation();
  // A first save moves to the rule set's own address; the notice comes along in its state.
  const [saved, setSaved] = useState<string | null>(() => {
    const state = location.state as { saved?: unknown } | null;
    return typeof state?.saved === "string" ? state.saved : null;
  });
  const editorView = useRef<EditorView | null>(null);

  const id = idEdited ? meta.id : slugify(meta.name);
  const metaBody = useMemo<RuleSetBody>(
    () => ({
      id: id === "" ? "new-rule-set" : id,
      name: meta.name.trim() === "" ? "New rule set" : meta.name,
      description: meta.description,
      enabled: meta.enabled,
      target_playlist_id: meta.target_playlist_id,
      target_playlist_name: meta.target_playlist_name,
      sync_mode: meta.sync_mode,
      include: meta.include,
      exclude: meta.exclude,
      auto_apply: meta.auto_apply,
    }),
    [id, meta],
  );
  const body = useMemo<RuleSetBody>(
    () =>
      view === "text"
        ? { id: metaBody.id, name: metaBody.name, ...DEFAULT_SETTINGS, text }
        : { ...metaBody, ...clauses, rules: toModel(tree) },
    [view, metaBody, text, clauses, tree],
  );
  const bodyJson = useMemo(() => JSON.stringify(body), [body]);
  const settled = useDebounced(bodyJson, COUNT_DELAY_MS);
  const count = useCount(settled);
  const settledBody = useMemo(() => JSON.parse(settled) as RuleSetBody, [settled]);
  // The last count that answered, kept through an invalid edit (greyed beside the problem).
  const [shown, setShown] = useState<RuleSetCount | null>(null);
  if (count.data !== undefined && !count.isPlaceholderData && count.data !== shown) setShown(count.data);
  const countState: "fresh" | "stale" | "invalid" =
    count.error !== null && settled === bodyJson
      ? "invalid"
      : settled === bodyJson && !count.isPlaceholderData && !count.isFetching && count.data !== undefined
        ? "fresh"
        : "stale";
  const counts = useMemo(() => new Map<string, NodeCount>((shown?.nodes ?? []).map((n) => [n.path, n])), [shown]);

  // The text view's problems, from the server's validator, a little after the last change.
  const textBody = view === "text" ? bodyJson : null;
  useEffect(() => {
    if (textBody === null) return;
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      validate(JSON.parse(textBody) as RuleSetBody, controller.signal)
        .then((report) => {
          setProblems([
            ...report.errors.map((e): Problem => ({ ...e, severity: "error" })),
            ...(report.warnings ?? []).map((w): Problem => ({
              message: w.message,
              line: w.line ?? null,
              column: w.column ?? null,
              length: w.length,
              severity: "warning",
            })),
          ]);
        })
        .catch((error: unknown) => {
          if (controller.signal.aborted) return;
          setProblems([
            { message: error instanceof ApiError ? (error.detail ?? error.code) : String(error), severity: "error" },
          ]);
        });
    }, VALIDATE_DELAY_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [textBody]);

  const toBuilder = useCallback(async () => {
    if (view === "builder") return;
    setBusy(true);
    try {
      const parsed = await parseText(text);
      setTree(fromModel(parsed.rules ?? { operator: "and", negate: false, conditions: [] }));
      setClauses({
        sources: parsed.sources ?? null,
        sort: parsed.sort ?? [],
        limit: parsed.limit ?? null,
        dedupe: parsed.dedupe,
        max_per_artist: parsed.max_per_artist ?? null,
      });
      setMeta((m) => ({ ...m, ...settingsOf(parsed) }));
      setSwitching(null);
      setView("builder");
    } catch (error) {
      setSwitching(error);
    } finally {
      setBusy(false);
    }
  }, [view, text]);

  const toText = useCallback(async () => {
    if (view === "text") return;
    setBusy(true);
    try {
      const formatted = await formatRules({ ...clauses, ...settingsClauses(meta), rules: toModel(tree) });
      setText(formatted);
      setTextMount((n) => n + 1);
      setSwitching(null);
      setView("text");
    } catch (error) {
      setSwitching(error);
    } finally {
      setBusy(false);
    }
  }, [view, clauses, tree, meta]);

  const onSave = useCallback(() => {
    setSaved(null);
    save.mutate(body, {
      onSuccess: (result) => {
        setSaved(result.name);
        setMeta((m) => ({ ...m, id: result.id }));
        setIdEdited(true);
        if (doc?.id !== result.id) {
          void navigate(`/rules/${encodeURIComponent(result.id)}/edit`, {
            replace: true,
            state: { saved: result.name },
          });
        }
      },
    });
  }, [save, body, doc, navigate]);

  const commands = useMemo<Command[]>(
    () => [
      {
        id: "editor:save",
        title: "Save the rule set",
        group: "Editor",
        keywords: ["store"],
        shortcut: ["Ctrl", "S"],
        run: onSave,
      },
      {
        id: "editor:text",
        title: "Editor: show the text",
        group: "Editor",
        keywords: ["syntax", "code"],
        run: () => {
          void toText();
        },
      },
      {
        id: "editor:builder",
        title: "Editor: show the visual builder",
        group: "Editor",
        keywords: ["visual", "tree", "conditions"],
        run: () => {
          void toBuilder();
        },
      },
    ],
    [onSave, toText, toBuilder],
  );
  useCommands(commands);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "s") {
        event.preventDefault();
        onSave();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("keydown", onKey);
    };
  }, [onSave]);

  const fix = (problem: Problem) => {
    if (editorView.current !== null && applyFix(editorView.current, problem)) editorView.current.focus();
  };

  const tabText = `${formId}-tab-text`;
  const tabBuilder = `${formId}-tab-builder`;
  const errors = problems.filter((p) => p.severity === "error");
  const warnings = problems.filter((p) => p.severity === "warning");

  return (
    <div className={styles.page}>
      <PageHeader
        title={doc !== null ? `Edit: ${doc.name}` : "New rule set"}
        lead="Write the rules as text or build them visually: both are the same rule set. The count follows every change."
        actions={
          <Button variant="primary" onClick={onSave} busy={save.isPending} aria-keyshortcuts="Control+S">
            Save
          </Button>
        }
      />
      {save.error !== null ? <ErrorNotice error={save.error} /> : null}
      {saved !== null ? (
        <Notice tone="success" title={`Saved “${saved}”`} live>
          <p>Its playlist follows these rules from the next preview or plan.</p>
        </Notice>
      ) : null}

      <CountBar count={shown} state={countState} error={count.error} />

      <Section title="Playlist" id={`${formId}-meta`}>
        <div className={styles.metaGrid}>
          <div className={styles.field}>
            <label htmlFor={`${formId}-name`}>Name</label>
            <input
              id={`${formId}-name`}
              className={styles.input}
              value={meta.name}
              maxLength={200}
              placeholder="e.g. Fast and recent"
              onChange={(event) => {
                setMeta((m) => ({ ...m, name: event.target.value }));
              }}
            />
          </div>
          <div className={styles.field}>
            <label htmlFor={`${formId}-id`}>Id</label>
            <input
              id={`${formId}-id`}
              className={styles.input}
              value={id}
              readOnly={doc !== null}
              aria-describedby={`${formId}-id-note`}
              onChange={(event) => {
                setIdEdited(true);
                setMeta((m) => ({ ...m, id: event.target.value }));
              }}
            />
            <span id={`${formId}-id-note`} className={styles.note}>
              {doc !== null ? "An id does not change once saved." : "From the name unless you type one."}
            </span>
          </div>
          {view === "builder" ? (
            <>
              <div className={styles.field}>
                <label htmlFor={`${formId}-target`}>Target playlist (name to create, or leave empty)</label>
                <input
                  id={`${formId}-target`}
                  className={styles.input}
                  value={meta.target_playlist_name ?? ""}
                  placeholder={meta.target_playlist_id ?? "same as the name"}
                  onChange={(event) => {
                    setMeta((m) => ({
                      ...m,
                      target_playlist_name: event.target.value === "" ? null : event.target.value,
                    }));
                  }}
                />
              </div>
              <div className={styles.field}>
                <label htmlFor={`${formId}-mode`}>Sync mode</label>
                <select
                  id={`${formId}-mode`}
                  className={styles.input}
                  value={meta.sync_mode}
                  onChange={(event) => {
                    setMeta((m) => ({ ...m, sync_mode: event.target.value as Meta["sync_mode"] }));
                  }}
                >
                  <option value="replace">replace: the playlist becomes exactly this</option>
                  <option value="merge">merge: add what is new, remove nothing</option>
                  <option value="append">append: add at the end</option>
                </select>
              </div>
              <div className={styles.field}>
                <span className={styles.label}>Enabled</span>
                <Switch
                  label={meta.enabled ? "Enabled" : "Disabled"}
                  checked={meta.enabled}
                  onChange={(enabled) => {
                    setMeta((m) => ({ ...m, enabled }));
                  }}
                />
              </div>
              <div className={styles.field}>
                <span className={styles.label}>Unattended sync</span>
                <Switch
                  label={meta.auto_apply ? "Applies by itself when no guard trips" : "Holds its plan for review"}
                  checked={meta.auto_apply}
                  onChange={(auto_apply) => {
                    setMeta((m) => ({ ...m, auto_apply }));
                  }}
                />
              </div>
            </>
          ) : null}
        </div>
        {view === "builder" ? (
          <details className={styles.pins}>
            <summary>
              Pinned and banned tracks ({meta.include.length} pinned, {meta.exclude.length} banned)
            </summary>
            <div className={styles.metaGrid}>
              <PinsInput
                label="Pinned track ids (always in, one per line)"
                values={meta.include}
                onValues={(include) => {
                  setMeta((m) => ({ ...m, include }));
                }}
              />
              <PinsInput
                label="Banned track ids (never in, one per line)"
                values={meta.exclude}
                onValues={(exclude) => {
                  setMeta((m) => ({ ...m, exclude }));
                }}
              />
            </div>
          </details>
        ) : (
          <p className={styles.note}>
            In the text, the playlist&apos;s settings are lines of their own:{" "}
            <code>target playlist named &quot;…&quot;</code>, <code>mode merge</code>, <code>pin &quot;ID&quot;</code>,{" "}
            <code>ban &quot;ID&quot;</code>, <code>disabled</code>, <code>hold for review</code>. A line you delete is
            cleared when you save; the builder shows them as fields.
          </p>
        )}
      </Section>

      <div className={styles.tabs} role="tablist" aria-label="Rules view">
        {(
          [
            ["text", "Text", tabText, toText],
            ["builder", "Builder", tabBuilder, toBuilder],
          ] as const
        ).map(([name, label, id, open]) => (
          <button
            key={name}
            type="button"
            role="tab"
            id={id}
            aria-selected={view === name}
            aria-controls={`${formId}-panel`}
            className={styles.tab}
            onClick={() => {
              void open();
            }}
          >
            {label}
          </button>
        ))}
        {busy ? <span className={styles.note}>Switching…</span> : null}
      </div>
      {switching !== null ? <ErrorNotice error={switching} /> : null}

      <div
        role="tabpanel"
        id={`${formId}-panel`}
        aria-labelledby={view === "text" ? tabText : tabBuilder}
        className={styles.panel}
      >
        {view === "text" ? (
          <div className={styles.textView}>
            <div className={styles.textMain}>
              <h2 id={`${formId}-text-label`} className={styles.panelTitle}>
                Rules
              </h2>
              <TextEditor
                key={textMount}
                initial={text}
                onChange={setText}
                problems={problems}
                completion={completion.data}
                label="Rules text"
                onView={(v) => {
                  editorView.current = v;
                }}
              />
              <p className={styles.note}>
                Ctrl-Space completes fields, operators and the values your library holds; <code>#</code> starts a
                comment.
              </p>
              {errors.length > 0 || warnings.length > 0 ? (
                <ul className={styles.problems} aria-label="Problems">
                  {[...errors, ...warnings].map((problem, index) => {
                    const fixText = suggestion(problem.hint);
                    return (
                      <li key={index} className={problem.severity === "error" ? styles.error : styles.warning}>
                        <span>
                          {problem.line !== null && problem.line !== undefined
                            ? `Line ${String(problem.line)}, column ${String(problem.column ?? 1)}: `
                            : ""}
                          {problem.message}
                          {problem.hint !== null && problem.hint !== undefined && fixText === null
                            ? ` — ${problem.hint}`
                            : ""}
                        </span>
                        {fixText !== null ? (
                          <Button
                            size="sm"
                            onClick={() => {
                              fix(problem);
                            }}
                          >
                            Use ‘{fixText}’
                          </Button>
                        ) : null}
                      </li>
                    );
                  })}
                </ul>
              ) : null}
            </div>
            <NodeList nodes={shown?.nodes ?? []} stale={countState !== "fresh"} />
          </div>
        ) : (
          <Builder
            tree={tree}
            clauses={clauses}
            onTree={setTree}
            onClauses={setClauses}
            completion={completion.data}
            counts={counts}
            stale={countState !== "fresh"}
            problems={countState === "invalid" ? problemsByNode(count.error) : NO_PROBLEMS}
          />
        )}
      </div>

      <Section
        title="Preview"
        actions={
          <Button
            aria-expanded={previewing}
            onClick={() => {
              setPreviewing((open) => !open);
            }}
          >
            {previewing ? "Hide the preview" : "Preview the playlist"}
          </Button>
        }
      >
        {previewing ? (
          countState === "invalid" ? (
            <p className={styles.note}>The preview follows once the rules are valid again.</p>
          ) : (
            <Suspense fallback={<Loading label="Loading the preview…" />}>
              <RulePreview rule={settledBody} />
            </Suspense>
          )
        ) : (
          <p className={styles.note}>
            The tracks this rule set would put in its playlist, its charts against your library, and why any track is in
            or out.
          </p>
        )}
      </Section>
    </div>
  );
}

function PinsInput({ label, values, onValues }: { label: string; values: string[]; onValues: (v: string[]) => void }) {
  const id = useId();
  const [draft, setDraft] = useState(values.join("\n"));
  return (
    <div className={styles.field}>
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        className={styles.input}
        rows={3}
        value={draft}
        onChange={(event) => {
          setDraft(event.target.value);
          onValues(ids(event.target.value));
        }}
      />
    </div>
  );
}

/** The count: tracks and minutes; greyed while a newer one is on its way, and beside the
 * problem when the rules as they are now cannot be counted (the last good count stays). */
function CountBar({
  count,
  state,
  error,
}: {
  count: RuleSetCount | null;
  state: "fresh" | "stale" | "invalid";
  error: unknown;
}) {
  const problem = state === "invalid" && error instanceof ApiError ? firstProblem(error) : null;
  return (
    <div className={styles.countBar} data-testid="live-count" data-state={state} data-tracks={count?.track_count ?? ""}>
      <p
        className={[styles.count, state !== "fresh" ? styles.stale : ""].join(" ")}
        aria-live="polite"
        aria-atomic="true"
      >
        {count === null ? (
          "Counting…"
        ) : (
          <>
            <strong>{count.track_count.toLocaleString()}</strong> tracks ·{" "}
            <strong>{count.minutes.toLocaleString()}</strong> min
            <span className={styles.countDetail}>
              {" "}
              of {count.candidates.toLocaleString()} candidates
              {count.removed.over_limit > 0 ? `, ${count.removed.over_limit.toLocaleString()} over the limit` : ""}
              {count.removed.artist_cap > 0 ? `, ${count.removed.artist_cap.toLocaleString()} over the artist cap` : ""}
            </span>
          </>
        )}
      </p>
      {state === "invalid" ? (
        <p className={styles.countProblem} role="status">
          {count !== null ? "Last good count, greyed: " : ""}
          {problem ?? (error instanceof ApiError ? (error.detail ?? error.code) : "the rules cannot be counted")}
        </p>
      ) : null}
      {count !== null && (count.warnings ?? []).length > 0 ? (
        <p className={styles.countWarning}>{(count.warnings ?? []).map((w) => w.message).join(" ")}</p>
      ) : null}
    </div>
  );
}

/** The count's problems that point into the rule tree (`rules.conditions[1].conditions[0].value`),
 * by the builder path of the node they name ("1.0"). */
export function problemsByNode(error: unknown): Map<string, string> {
  const found = new Map<string, string>();
  if (!(error instanceof ApiError) || !Array.isArray(error.extra.problems)) return found;
  for (const item of error.extra.problems as { message?: string; path?: string | null; hint?: string | null }[]) {
    if (typeof item.path !== "string" || !item.path.startsWith("rules.conditions")) continue;
    const indices = [...item.path.matchAll(/conditions\[(\d+)\]/g)].map((m) => m[1] ?? "0");
    const key = indices.join(".");
    const words = `${item.message ?? ""}${item.hint ? ` — ${item.hint}` : ""}`;
    found.set(key, found.has(key) ? `${found.get(key) ?? ""}; ${words}` : words);
  }
  return found;
}

function firstProblem(error: ApiError): string | null {
  const problems = error.extra.problems;
  if (!Array.isArray(problems) || problems.length === 0) return error.detail;
  const first = problems[0] as { message?: string; line?: number | null; column?: number | null; hint?: string | null };
  const where =
    first.line !== null && first.line !== undefined
      ? `line ${String(first.line)}, column ${String(first.column ?? 1)}: `
      : "";
  return `${where}${first.message ?? ""}${first.hint ? ` — ${first.hint}` : ""}`;
}

/** The text view's per-condition counts: each node of the rule tree as the server read it. */
function NodeList({ nodes, stale }: { nodes: NodeCount[]; stale: boolean }) {
  if (nodes.length <= 1) return null;
  return (
    <section className={[styles.nodes, stale ? styles.stale : ""].join(" ")} aria-label="Per condition">
      <h2 className={styles.panelTitle}>Per condition</h2>
      <ul>
        {nodes.slice(1).map((node) => (
          <li
            key={node.path}
            data-depth={Math.min(6, node.path.split(".").length - 1)}
            data-testid={`node-${node.path}`}
          >
            <code>{node.text}</code>
            <span className={styles.nodeFigures}>
              matches {node.matches.toLocaleString()}
              {node.removes > 0 ? <strong>{` · removes ${node.removes.toLocaleString()}`}</strong> : null}
              {node.adds > 0 ? <strong>{` · adds ${node.adds.toLocaleString()}`}</strong> : null}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
