import type { ReactNode } from "react";
import styles from "./Page.module.css";

/** A screen's heading, its one-line purpose and its top-right actions. */
export function PageHeader({ title, lead, actions }: { title: string; lead?: ReactNode; actions?: ReactNode }) {
  return (
    <header className={styles.header}>
      <div className={styles.heading}>
        <h1 id="page-title" tabIndex={-1}>
          {title}
        </h1>
        {lead !== undefined ? <p className={styles.lead}>{lead}</p> : null}
      </div>
      {actions !== undefined ? <div className={styles.actions}>{actions}</div> : null}
    </header>
  );
}

/** A titled card of a screen. */
export function Section({
  title,
  description,
  actions,
  children,
  id,
  tone,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  id?: string;
  tone?: "highlight";
}) {
  const headingId = id !== undefined ? `${id}-title` : undefined;
  return (
    <section
      className={[styles.section, tone === "highlight" ? styles.highlight : ""].join(" ")}
      id={id}
      aria-labelledby={headingId}
    >
      <div className={styles.sectionHeader}>
        <div className={styles.heading}>
          <h2 id={headingId}>{title}</h2>
          {description !== undefined ? <p className={styles.description}>{description}</p> : null}
        </div>
        {actions !== undefined ? <div className={styles.actions}>{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

export function Loading({ label }: { label: string }) {
  return (
    <p className={styles.loading} role="status">
      <span className={styles.spinner} aria-hidden="true" />
      {label}
    </p>
  );
}
