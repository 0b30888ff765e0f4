import { useState } from "react";
import { Button } from "./Button";
import styles from "./CopyField.module.css";

/** A value to copy exactly (a URI, a command), with a Copy button that says when it worked. */
export function CopyField({ label, value, multiline = false }: { label: string; value: string; multiline?: boolean }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const copy = () => {
    navigator.clipboard.writeText(value).then(
      () => {
        setState("copied");
      },
      () => {
        setState("failed");
      },
    );
  };
  return (
    <div className={styles.field}>
      {multiline ? (
        <pre className={styles.value} aria-label={label} tabIndex={0}>
          {value}
        </pre>
      ) : (
        <code className={styles.value} aria-label={label}>
          {value}
        </code>
      )}
      <Button size="sm" onClick={copy} aria-label={`Copy ${label}`}>
        {state === "copied" ? "Copied" : "Copy"}
      </Button>
      <span className="visually-hidden" role="status">
        {state === "copied"
          ? `${label} copied`
          : state === "failed"
            ? "Could not copy: select the text and copy it by hand"
            : ""}
      </span>
    </div>
  );
}
