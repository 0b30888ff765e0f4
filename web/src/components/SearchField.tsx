import { forwardRef } from "react";
import styles from "./SearchField.module.css";

/** A search box with a visible label for screen readers and a `/` hint for keyboards. */
export const SearchField = forwardRef<
  HTMLInputElement,
  { label: string; value: string; onChange: (value: string) => void; placeholder?: string }
>(function SearchField({ label, value, onChange, placeholder }, ref) {
  return (
    <div className={styles.field}>
      <label className="visually-hidden" htmlFor="page-search">
        {label}
      </label>
      <svg className={styles.icon} viewBox="0 0 20 20" aria-hidden="true">
        <circle cx="8.5" cy="8.5" r="5.5" fill="none" stroke="currentColor" strokeWidth="2" />
        <path d="M13 13l4 4" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
      </svg>
      <input
        ref={ref}
        id="page-search"
        type="search"
        className={styles.input}
        value={value}
        placeholder={placeholder}
        autoComplete="off"
        onChange={(event) => {
          onChange(event.target.value);
        }}
      />
      <kbd className={styles.hint} aria-hidden="true">
        /
      </kbd>
    </div>
  );
});
