import type { ButtonHTMLAttributes, ReactNode } from "react";
import styles from "./Button.module.css";

type Variant = "primary" | "secondary" | "ghost" | "danger";

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: Variant;
  size?: "sm" | "md";
  busy?: boolean;
  children: ReactNode;
}

/** A button; `busy` keeps its size, disables it and says so to screen readers. */
export function Button({
  variant = "secondary",
  size = "md",
  busy = false,
  className,
  children,
  disabled,
  ...rest
}: ButtonProps) {
  const classes = [styles.button, styles[variant], size === "sm" ? styles.small : "", className ?? ""].join(" ");
  return (
    <button
      type="button"
      className={classes}
      disabled={disabled === true || busy}
      aria-busy={busy || undefined}
      {...rest}
    >
      {busy ? <span className={styles.spinner} aria-hidden="true" /> : null}
      {children}
    </button>
  );
}

/** A link styled as a button (for navigations the server handles, such as the login). */
export function ButtonLink({
  href,
  variant = "secondary",
  size = "md",
  children,
  ...rest
}: { href: string; variant?: Variant; size?: "sm" | "md"; children: ReactNode } & Omit<
  React.AnchorHTMLAttributes<HTMLAnchorElement>,
  "href"
>) {
  const classes = [styles.button, styles[variant], size === "sm" ? styles.small : ""].join(" ");
  return (
    <a href={href} className={classes} {...rest}>
      {children}
    </a>
  );
}
