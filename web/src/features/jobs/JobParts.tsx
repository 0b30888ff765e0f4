// The parts of a job that does several things at once (an enrich job: one per provider), each
// with its bar and state; the jobs drawer and the Enrichment screen show them.
import type { Schemas } from "../../api/client";
import styles from "./JobParts.module.css";

const PART_WORDS: Record<Schemas["JobPartState"], string> = {
  pending: "Waiting",
  running: "Running",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

export function JobParts({
  parts,
  label,
  names,
}: {
  parts: Schemas["JobPart"][];
  label: string;
  names?: Record<string, string>;
}) {
  return (
    <ul className={styles.parts} aria-label={label}>
      {parts.map((part) => {
        const name = names?.[part.id] ?? part.id;
        return (
          <li key={part.id} className={styles.part}>
            <span className={styles.name}>{name}</span>
            <progress
              className={styles.bar}
              value={part.total ? Math.min(part.done, part.total) : part.state === "done" ? 1 : 0}
              max={part.total ?? 1}
              aria-label={`Progress of ${name}`}
            />
            <span className={styles.state}>
              {part.state === "running" && part.total
                ? `${part.done.toLocaleString()} of ${part.total.toLocaleString()}`
                : PART_WORDS[part.state]}
            </span>
            {part.error ? <span className={styles.error}>{part.error.message}</span> : null}
          </li>
        );
      })}
    </ul>
  );
}
