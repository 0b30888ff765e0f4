// The column chooser: every field the library has (GET /data/rules/fields, enrichment fields
// included, with their coverage), presets, and the choice kept in this browser.
import { Button } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import type { Field } from "./api";
import { PRESETS } from "./columns";
import styles from "./LibraryPage.module.css";

export function ColumnChooser({
  open,
  onClose,
  fields,
  chosen,
  onChoose,
}: {
  open: boolean;
  onClose: () => void;
  fields: Field[];
  chosen: string[];
  onChoose: (fields: string[]) => void;
}) {
  const known = new Set(fields.map((field) => field.name));
  const listed = fields.filter((field) => field.type !== "track");
  const groups: [string, Field[]][] = [
    ["From Spotify", listed.filter((field) => field.origin !== "enrichment")],
    ["Enrichment", listed.filter((field) => field.origin === "enrichment")],
  ];
  return (
    <Dialog open={open} onClose={onClose} title="Columns" side>
      <div className={[styles.form, styles.chooser].join(" ")}>
        <div className={styles.presets} role="group" aria-label="Presets">
          {PRESETS.map((preset) => (
            <Button
              key={preset.id}
              size="sm"
              onClick={() => {
                onChoose(preset.fields.filter((field) => known.has(field)));
              }}
            >
              {preset.label}
            </Button>
          ))}
        </div>
        {groups.map(([title, group]) => (
          <fieldset key={title} className={styles.fieldset}>
            <legend>{title}</legend>
            {group.map((field) => (
              <label key={field.name} className={styles.check}>
                <input
                  type="checkbox"
                  checked={chosen.includes(field.name)}
                  onChange={(event) => {
                    const next = event.target.checked
                      ? [...chosen, field.name]
                      : chosen.filter((name) => name !== field.name);
                    if (next.length > 0) onChoose(next);
                  }}
                />
                <span>{field.name}</span>
                {field.coverage !== null ? (
                  <span className={styles.coverage}>{`${Math.round(field.coverage * 100)}%`}</span>
                ) : null}
              </label>
            ))}
          </fieldset>
        ))}
      </div>
    </Dialog>
  );
}
