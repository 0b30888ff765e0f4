// Files in and out: a Navidrome smart playlist (.nsp) in (picked or dropped; what it could not
// express and why it was saved disabled, as the server says), rule files up (what would change
// first, then apply) and down (every rule set as one file, as `sap rules export` writes).
import { useState, type DragEvent } from "react";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Notice } from "../../components/Notice";
import { Section } from "../../components/Page";
import { useApplyRulesFile, useCheckRulesFile, useImportNsp, type NspReport } from "./api";
import { downloadRulesFile } from "./download";
import { previewLink } from "./model";
import { Link } from "react-router";
import styles from "./Rules.module.css";

const CHANGE_TONES = { new: "info", changed: "warning", unchanged: "neutral", invalid: "danger" } as const;

export function FilesPanel() {
  return (
    <Section
      title="Files in and out"
      id="rule-files"
      description="Navidrome smart playlists (.nsp), and rule files you can keep in git (the same text as the editor)."
    >
      <div className={styles.files}>
        <NspImport />
        <RuleFileUpload />
        <RuleFileDownload />
      </div>
    </Section>
  );
}

function NspImport() {
  const importNsp = useImportNsp();
  const [problem, setProblem] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);

  async function take(file: File | undefined) {
    if (file === undefined) return;
    setProblem(null);
    importNsp.reset();
    let nsp: unknown;
    try {
      nsp = JSON.parse(await file.text());
    } catch {
      setProblem(`${file.name} is not a .nsp file: it is not JSON.`);
      return;
    }
    if (typeof nsp !== "object" || nsp === null || Array.isArray(nsp)) {
      setProblem(`${file.name} is not a .nsp file: it holds no JSON object.`);
      return;
    }
    importNsp.mutate(nsp as Record<string, unknown>);
  }

  function onDrop(event: DragEvent<HTMLDivElement>) {
    event.preventDefault();
    setDragging(false);
    void take(event.dataTransfer.files[0]);
  }

  return (
    <div
      className={[styles.drop, dragging ? styles.dragging : ""].join(" ")}
      onDragOver={(event) => {
        event.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => {
        setDragging(false);
      }}
      onDrop={onDrop}
    >
      <h3 className={styles.fileTitle}>Import a Navidrome playlist</h3>
      <p className={styles.muted}>Drop a .nsp file here, or pick one.</p>
      <label className={styles.fileLabel}>
        <span>Import .nsp file</span>
        <input
          type="file"
          accept=".nsp,application/json"
          onChange={(event) => {
            void take(event.target.files?.[0]);
            event.target.value = "";
          }}
        />
      </label>
      {problem !== null ? (
        <Notice tone="danger" title="Not imported" live className={styles.boxNotice}>
          <p>{problem}</p>
        </Notice>
      ) : null}
      {importNsp.isError ? <ErrorNotice error={importNsp.error} /> : null}
      {importNsp.data !== undefined ? <NspResult report={importNsp.data} /> : null}
    </div>
  );
}

function NspResult({ report }: { report: NspReport }) {
  const rule = report.rule;
  const enabled = rule.enabled;
  return (
    <Notice
      tone={enabled ? "success" : "warning"}
      title={`Imported “${rule.name}” — ${enabled ? "enabled" : "saved disabled"}`}
      live
      className={styles.boxNotice}
    >
      {!enabled ? (
        <p>It is saved disabled until these problems are fixed, so it never runs as something else:</p>
      ) : null}
      {report.problems.length > 0 ? <p className={styles.listLabel}>Problems</p> : null}
      {report.problems.length > 0 ? (
        <ul aria-label="Problems">
          {report.problems.map((problem, index) => (
            <li key={index}>
              {problem.message}
              {problem.hint !== null && problem.hint !== undefined ? ` — ${problem.hint}` : ""}
            </li>
          ))}
        </ul>
      ) : null}
      {report.notes.length > 0 ? <p className={styles.listLabel}>Notes</p> : null}
      {report.notes.length > 0 ? (
        <ul aria-label="Notes">
          {report.notes.map((note, index) => (
            <li key={index}>{note}</li>
          ))}
        </ul>
      ) : null}
      {report.warnings.length > 0 ? <p className={styles.listLabel}>Warnings</p> : null}
      {report.warnings.length > 0 ? (
        <ul aria-label="Warnings">
          {report.warnings.map((warning, index) => (
            <li key={index}>{warning.message}</li>
          ))}
        </ul>
      ) : null}
      <p>
        <Link to={previewLink(rule.id)}>Preview it</Link> ·{" "}
        <Link to={`/rules/${encodeURIComponent(rule.id)}/edit`}>Edit it</Link>
      </p>
    </Notice>
  );
}

function RuleFileUpload() {
  const check = useCheckRulesFile();
  const apply = useApplyRulesFile();
  const [text, setText] = useState<string | null>(null);
  const [name, setName] = useState("");
  const found = check.data;
  return (
    <div className={styles.drop}>
      <h3 className={styles.fileTitle}>Upload a rule file</h3>
      <p className={styles.muted}>
        Each rule set starts with an [id] Name line. You see what changes before anything is saved.
      </p>
      <label className={styles.fileLabel}>
        <span>Upload rule file</span>
        <input
          type="file"
          accept=".txt,.rules,text/plain"
          onChange={(event) => {
            const file = event.target.files?.[0];
            event.target.value = "";
            if (file === undefined) return;
            apply.reset();
            void file.text().then((content) => {
              setText(content);
              setName(file.name);
              check.mutate(content);
            });
          }}
        />
      </label>
      {check.isError ? <ErrorNotice error={check.error} /> : null}
      {found !== undefined && text !== null && !apply.isSuccess ? (
        <div className={styles.fileCheck}>
          <p>
            <strong>{name}</strong>: {found.applicable ? "ready to apply" : "cannot be applied as it is"}
          </p>
          <ul className={styles.changes} aria-label="What the file changes">
            {found.rule_sets.map((entry) => (
              <li key={entry.id}>
                <Badge tone={CHANGE_TONES[entry.change]}>{entry.change}</Badge> <code>[{entry.id}]</code> {entry.name}
                {(entry.changed_fields ?? []).length > 0 ? (
                  <span className={styles.muted}>
                    {" "}
                    — {(entry.changed_fields ?? []).join(", ").replaceAll("_", " ")}
                  </span>
                ) : null}
                {entry.report.errors.length > 0 ? (
                  <ul>
                    {entry.report.errors.map((error, index) => (
                      <li key={index}>
                        <pre className={styles.problem}>{error.rendered}</pre>
                      </li>
                    ))}
                  </ul>
                ) : null}
              </li>
            ))}
          </ul>
          {found.errors.map((error, index) => (
            <pre key={index} className={styles.problem}>
              {error.rendered}
            </pre>
          ))}
          {found.kept.length > 0 ? (
            <p className={styles.muted}>Not in the file, kept as they are: {found.kept.join(", ")}.</p>
          ) : null}
          <Button
            variant="primary"
            size="sm"
            disabled={!found.applicable}
            busy={apply.isPending}
            onClick={() => {
              apply.mutate(text);
            }}
          >
            Apply the file
          </Button>
        </div>
      ) : null}
      {apply.isError ? <ErrorNotice error={apply.error} /> : null}
      {apply.isSuccess ? (
        <Notice
          tone="success"
          title={`Saved ${apply.data.length} rule set${apply.data.length === 1 ? "" : "s"}`}
          live
          className={styles.boxNotice}
        >
          <p>{apply.data.map((rule) => rule.name).join(", ")}</p>
        </Notice>
      ) : null}
    </div>
  );
}

function RuleFileDownload() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<number | null>(null);
  return (
    <div className={styles.drop}>
      <h3 className={styles.fileTitle}>Download a rule file</h3>
      <p className={styles.muted}>Every rule set in one text file, as sap rules export writes it.</p>
      <Button
        size="sm"
        busy={busy}
        onClick={() => {
          setBusy(true);
          setError(null);
          downloadRulesFile()
            .then(setSaved)
            .catch(setError)
            .finally(() => {
              setBusy(false);
            });
        }}
      >
        Download rule file
      </Button>
      {saved !== null ? (
        <p
          className={styles.muted}
          role="status"
        >{`Downloaded rules.txt with ${saved} rule set${saved === 1 ? "" : "s"}.`}</p>
      ) : null}
      {error !== null ? <ErrorNotice error={error} /> : null}
    </div>
  );
}
