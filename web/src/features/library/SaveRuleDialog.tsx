// "Save this filter as a rule set": a name, then POST /data/rules, then a link to it.
import { useState } from "react";
import { Link } from "react-router";
import { Button } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { ErrorNotice } from "../../components/ErrorNotice";
import { useSaveRuleSet } from "./api";
import styles from "./LibraryPage.module.css";

export function SaveRuleDialog({ open, onClose, filter }: { open: boolean; onClose: () => void; filter: string }) {
  const [name, setName] = useState("");
  const save = useSaveRuleSet();
  return (
    <Dialog
      open={open}
      onClose={() => {
        save.reset();
        onClose();
      }}
      title="Save this filter as a rule set"
    >
      {save.isSuccess ? (
        <div className={styles.form}>
          <p role="status">
            {`Saved the rule set “${save.data.name}”. `}
            <Link to={`/rules?rule=${encodeURIComponent(save.data.id)}`}>Open it in Rules</Link>
          </p>
        </div>
      ) : (
        <form
          className={styles.form}
          onSubmit={(event) => {
            event.preventDefault();
            save.mutate({ name: name.trim(), filter });
          }}
        >
          <p>
            <code>{filter}</code>
          </p>
          <label>
            <span>Name</span>
            <input
              data-autofocus
              required
              value={name}
              onChange={(event) => {
                setName(event.target.value);
              }}
            />
          </label>
          {save.isError ? <ErrorNotice error={save.error} /> : null}
          <div className={styles.formActions}>
            <Button type="submit" variant="primary" disabled={name.trim() === ""} busy={save.isPending}>
              Save
            </Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
