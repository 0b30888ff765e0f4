import type { ReactNode } from "react";
import styles from "./Notice.module.css";

export type Tone = "info" | "success" | "warning" | "danger";

/** A message block. `live` makes screen readers announce it when it appears (role=status, or
 * role=alert for danger). */
export function Notice({
  tone = "info",
  title,
  children,
  actions,
  live = false,
  className,
}: {
  tone?: Tone;
  title: ReactNode;
  children?: ReactNode;
  actions?: ReactNode;
  live?: boolean;
  className?: string;
}) {
  const role = live ? (tone === "danger" ? "alert" : "status") : undefined;
  return (
    <div className={[styles.notice, styles[tone], className ?? ""].join(" ")} role={role}>
      <div className={styles.body}>
        <p className={styles.title}>{title}</p>
        {children !== undefined ? <div className={styles.text}>{children}</div> : null}
      </div>
      {actions !== undefined ? <div className={styles.actions}>{actions}</div> : null}
    </div>
  );
}
