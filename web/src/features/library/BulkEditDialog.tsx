// One bulk edit of your own values on the selection (or on all that match): add or remove tags,
// set a field to a value or clear it. The server applies it whole or not at all, and it becomes
// the edit "Undo" undoes.
import { useState } from "react";
import { Button } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { ErrorNotice } from "../../components/ErrorNotice";
import { useBulkEdit, type BulkEdit, type Field } from "./api";
import styles from "./LibraryPage.module.css";

function words(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

/** The value typed for a field of this type (numbers as numbers, true/false as booleans). */
export function typedValue(field: Field | undefined, text: string): string | number | boolean | string[] {
  const value = text.trim();
  if (field?.list === true) return words(value);
  if (field?.type === "number" && value !== "" && !Number.isNaN(Number(value))) return Number(value);
  if (field?.type === "bool") return value === "true" || value === "yes";
  return value;
}

export function BulkEditDialog({
  open,
  onClose,
  count,
  target,
  fields,
  onDone,
}: {
  open: boolean;
  onClose: () => void;
  count: number;
  target: Pick<BulkEdit, "filter" | "track_ids">;
  fields: Field[];
  onDone: (summary: string) => void;
}) {
  const [add, setAdd] = useState("");
  const [remove, setRemove] = useState("");
  const [setField, setSetField] = useState("");
  const [setValue, setSetValue] = useState("");
  const [clearField, setClearField] = useState("");
  const edit = useBulkEdit();
  const editable = fields.filter((field) => field.origin === "enrichment" && field.name !== "tags");

  const body: BulkEdit = {
    ...target,
    add_tags: words(add),
    remove_tags: words(remove),
    set:
      setField !== "" && setValue.trim() !== ""
        ? {
            [setField]: typedValue(
              fields.find((f) => f.name === setField),
              setValue,
            ),
          }
        : {},
    unset: clearField !== "" ? [clearField] : [],
  };
  const empty =
    (body.add_tags ?? []).length === 0 &&
    (body.remove_tags ?? []).length === 0 &&
    Object.keys(body.set ?? {}).length === 0 &&
    (body.unset ?? []).length === 0;

  async function submit() {
    const answer = await edit.mutateAsync(body);
    const summary = answer.undo?.summary ?? "nothing changed";
    setAdd("");
    setRemove("");
    setSetField("");
    setSetValue("");
    setClearField("");
    onDone(
      `${summary[0]?.toUpperCase() ?? ""}${summary.slice(1)} (${answer.updated} changed, ${answer.unchanged} already so)`,
    );
  }

  return (
    <Dialog open={open} onClose={onClose} title={`Edit ${count.toLocaleString("en")} tracks`}>
      <form
        className={styles.form}
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <label>
          <span>Add tags (comma-separated)</span>
          <input
            data-autofocus
            value={add}
            onChange={(event) => {
              setAdd(event.target.value);
            }}
          />
        </label>
        <label>
          <span>Remove tags (comma-separated)</span>
          <input
            value={remove}
            onChange={(event) => {
              setRemove(event.target.value);
            }}
          />
        </label>
        <div className={styles.pair}>
          <label>
            <span>Set field</span>
            <select
              value={setField}
              onChange={(event) => {
                setSetField(event.target.value);
              }}
            >
              <option value="">—</option>
              {editable.map((field) => (
                <option key={field.name} value={field.name}>
                  {field.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            <span>to the value</span>
            <input
              value={setValue}
              onChange={(event) => {
                setSetValue(event.target.value);
              }}
              disabled={setField === ""}
            />
          </label>
        </div>
        <label>
          <span>Clear your value of</span>
          <select
            value={clearField}
            onChange={(event) => {
              setClearField(event.target.value);
            }}
          >
            <option value="">—</option>
            {editable.map((field) => (
              <option key={field.name} value={field.name}>
                {field.name}
              </option>
            ))}
          </select>
        </label>
        {edit.isError ? <ErrorNotice error={edit.error} /> : null}
        <div className={styles.formActions}>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={empty} busy={edit.isPending}>
            Apply to {count.toLocaleString("en")} tracks
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
