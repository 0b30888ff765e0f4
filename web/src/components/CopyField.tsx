import { useId, useState } from "react";
import { Button } from "./Button";
import styles from "./CopyField.module.css";

/** A value to copy exactly (a URI, a command): read-only text, selectable and labelled, with a
 * Copy button that says when it worked. */
export function CopyField({ label, value }: { label: string; value: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const id = useId();
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
      <label className="visually-hidden" htmlFor={id}>
        {label}
      </label>
      <textarea
        id={id}
        className={styles.value}
        value={value}
        readOnly
        spellCheck={false}
        rows={value.split("\n").length}
        onFocus={(event) => {
          event.target.select();
        }}
      />
      <Button size="sm" onClick={copy} aria-label={`Copy the ${label}`}>
        {state === "copied" ? "Copied" : "Copy"}
      </Button>
      <span className="visually-hidden" role="status">
        {state === "copied"
          ? `The ${label} is copied`
          : state === "failed"
            ? "Could not copy: select the text and copy it by hand"
            : ""}
      </span>
    </div>
  );
}
