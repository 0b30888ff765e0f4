// The filter: a rules-language search box (its problems shown under it, at their column) and a
// quick filter per shown column, composed into the one filter the server gets (shown as text).
import { forwardRef, useId } from "react";
import type { ApiError } from "../../api/errors";
import type { Column } from "./api";
import type { FieldType } from "./model";
import styles from "./FilterBox.module.css";

interface Problem {
  message: string;
  line: number;
  column: number;
  length: number;
  hint: string | null;
  rendered: string | null;
}

export function problemsOf(error: ApiError): Problem[] {
  const problems = error.extra.problems;
  if (!Array.isArray(problems)) return [];
  return problems.filter((item): item is Problem => typeof item === "object" && item !== null && "line" in item);
}

const HINTS: Record<string, string> = {
  text: "contains…",
  number: "> 100, 90..120",
  date: "> 2020-01-01",
  bool: "true / false",
};

export const FilterBox = forwardRef<
  HTMLInputElement,
  {
    value: string;
    onChange: (value: string) => void;
    onApply: () => void;
    problems: ApiError | null;
    columns: Column[];
    types: Map<string, FieldType>;
    quick: Record<string, string>;
    onQuick: (quick: Record<string, string>) => void;
    composed: string;
  }
>(function FilterBox({ value, onChange, onApply, problems, columns, types, quick, onQuick, composed }, ref) {
  const errorId = useId();
  const list = problems !== null ? problemsOf(problems) : [];
  const lines = value.split("\n");
  const quickCount = Object.values(quick).filter((input) => input.trim() !== "").length;
  return (
    <div className={styles.box}>
      <label htmlFor="library-filter" className={styles.label}>
        Filter (rules language)
      </label>
      <input
        ref={ref}
        id="library-filter"
        type="search"
        className={styles.input}
        value={value}
        spellCheck={false}
        autoComplete="off"
        placeholder='e.g. genres has any ["jazz"] and tempo > 100'
        aria-invalid={list.length > 0 || undefined}
        aria-describedby={list.length > 0 ? errorId : undefined}
        onChange={(event) => {
          onChange(event.target.value);
        }}
        onKeyDown={(event) => {
          if (event.key === "Enter") {
            event.preventDefault();
            onApply();
          }
        }}
      />
      {list.length > 0 ? (
        <div id={errorId} className={styles.problems} role="alert">
          {list.map((problem, index) => (
            <div key={index} className={styles.problem} data-line={problem.line} data-column={problem.column}>
              <p>
                {`Line ${problem.line}, column ${problem.column}: ${problem.message}`}
                {problem.hint !== null ? ` — ${problem.hint}` : ""}
              </p>
              <pre className={styles.caret} aria-hidden="true">
                {`${lines[problem.line - 1] ?? ""}\n${" ".repeat(Math.max(0, problem.column - 1))}${"^".repeat(Math.max(1, problem.length))}`}
              </pre>
            </div>
          ))}
          <p className={styles.kept}>The last results that worked stay below, greyed.</p>
        </div>
      ) : null}
      <details className={styles.quick}>
        <summary>{`Quick filters${quickCount > 0 ? ` (${quickCount})` : ""}`}</summary>
        <div className={styles.quickGrid}>
          {columns.map((column) => {
            const type = types.get(column.name) ?? "text";
            return (
              <label key={column.name} className={styles.quickField}>
                <span>{column.name.replaceAll("_", " ")}</span>
                <input
                  type="text"
                  value={quick[column.name] ?? ""}
                  placeholder={HINTS[type] ?? ""}
                  onChange={(event) => {
                    onQuick({ ...quick, [column.name]: event.target.value });
                  }}
                />
              </label>
            );
          })}
        </div>
      </details>
      {quickCount > 0 ? (
        <p className={styles.composed}>
          <span>Filter sent: </span>
          <code data-testid="composed-filter">{composed}</code>
        </p>
      ) : null}
    </div>
  );
});
