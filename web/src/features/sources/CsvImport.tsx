import { forwardRef, useImperativeHandle, useRef, useState, type DragEvent } from "react";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { ErrorNotice } from "../../components/ErrorNotice";
import { fullDate, relativeTime } from "../../lib/time";
import type { FetchedSource, Job } from "./api";
import { plural } from "./model";
import styles from "./CsvImport.module.css";

export interface Upload {
  name: string;
  state: "uploading" | "started" | "refused";
  job?: Job;
  error?: unknown;
}

export interface CsvImportHandle {
  choose: () => void;
}

export function isCsv(file: File): boolean {
  return file.name.toLowerCase().endsWith(".csv") || file.type === "text/csv";
}

/** Exportify CSV files in: dropped on the area or chosen with the button, each uploaded and
 * fetched as a source; the files imported before are listed under it. */
export const CsvImport = forwardRef<
  CsvImportHandle,
  {
    uploads: Upload[];
    onFiles: (files: File[]) => void;
    imported: FetchedSource[];
    onOpenJobs: (ids: string[]) => void;
  }
>(function CsvImport({ uploads, onFiles, imported, onOpenJobs }, ref) {
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  useImperativeHandle(ref, () => ({ choose: () => input.current?.click() }), []);
  const drop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    setDragging(false);
    onFiles([...event.dataTransfer.files]);
  };
  const startedIds = uploads.flatMap((upload) => (upload.job !== undefined ? [upload.job.id] : []));
  return (
    <div>
      <div
        className={[styles.zone, dragging ? styles.dragging : ""].join(" ")}
        onDragEnter={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragOver={(event) => {
          event.preventDefault();
          event.dataTransfer.dropEffect = "copy";
        }}
        onDragLeave={(event) => {
          if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={drop}
        data-testid="csv-drop-zone"
      >
        <svg className={styles.icon} viewBox="0 0 24 24" aria-hidden="true">
          <path
            d="M12 15V4m0 0-4 4m4-4 4 4M5 15v3a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2v-3"
            fill="none"
            stroke="currentColor"
            strokeWidth="1.7"
            strokeLinecap="round"
            strokeLinejoin="round"
          />
        </svg>
        <p className={styles.zoneText}>
          <strong>Drop Exportify CSV files here</strong>
          <span>or</span>
        </p>
        <Button
          onClick={() => {
            input.current?.click();
          }}
        >
          Choose CSV files
        </Button>
        <input
          ref={input}
          type="file"
          accept=".csv,text/csv"
          multiple
          className="visually-hidden"
          tabIndex={-1}
          aria-label="CSV files to import"
          onChange={(event) => {
            onFiles([...(event.target.files ?? [])]);
            event.target.value = "";
          }}
        />
        <p className={styles.help}>
          Exportify exports one .csv file per playlist. Each file is kept in the server's data folder and fetched as a
          source of its own; a file of the same name replaces the earlier one.
        </p>
      </div>
      {uploads.length > 0 ? (
        <div className={styles.results}>
          <ul className={styles.uploads} aria-label="Uploaded files" aria-live="polite">
            {uploads.map((upload, index) => (
              <li key={`${upload.name}-${index}`} className={styles.upload}>
                <span className={styles.file}>{upload.name}</span>
                {upload.state === "uploading" ? <Badge tone="info">Uploading…</Badge> : null}
                {upload.state === "started" ? <Badge tone="success">Fetch started</Badge> : null}
                {upload.state === "refused" ? <Badge tone="danger">Not imported</Badge> : null}
                {upload.state === "refused" && upload.error !== undefined ? (
                  <div className={styles.uploadError}>
                    <ErrorNotice error={upload.error} live={false} />
                  </div>
                ) : null}
              </li>
            ))}
          </ul>
          {startedIds.length > 0 ? (
            <Button
              size="sm"
              onClick={() => {
                onOpenJobs(startedIds);
              }}
            >
              Open jobs
            </Button>
          ) : null}
        </div>
      ) : null}
      {imported.length > 0 ? (
        <>
          <h3 className={styles.importedTitle}>Imported before</h3>
          <ul className={styles.imported}>
            {imported.map((source) => (
              <li key={source.key}>
                <span className={styles.file}>{source.label ?? source.name ?? source.key.replace(/^csv:/, "")}</span>
                <span className={styles.meta}>
                  {plural(source.tracks, "track")} · fetched{" "}
                  <time dateTime={source.fetched_at} title={fullDate(source.fetched_at)}>
                    {relativeTime(source.fetched_at)}
                  </time>
                </span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
});
