import { Dialog } from "../components/Dialog";
import { BUILDER_KEYS } from "../features/editor/keys";
import { SCREENS } from "./screens";
import styles from "./ShortcutsDialog.module.css";

const GENERAL: [string[], string][] = [
  [["Ctrl", "K"], "Open the command palette (every action)"],
  [["/"], "Search on this screen"],
  [["?"], "Show these shortcuts"],
  [["Esc"], "Close a dialog or the palette"],
];

/** `?`: the keyboard shortcuts. */
export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const rows: [string[], string][] = [
    ...GENERAL,
    ...SCREENS.map((screen): [string[], string] => [["g", screen.key], `Go to ${screen.label}`]),
    ...BUILDER_KEYS,
  ];
  return (
    <Dialog open={open} onClose={onClose} title="Keyboard shortcuts">
      <table className={styles.table}>
        <caption className="visually-hidden">Keys and what they do</caption>
        <thead>
          <tr>
            <th scope="col">Keys</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([keys, action]) => (
            <tr key={action}>
              <td>
                {keys.map((key, index) => (
                  <span key={key}>
                    {index > 0 ? <span className={styles.then}>{keys[0] === "g" ? " then " : " + "}</span> : null}
                    <kbd>{key}</kbd>
                  </span>
                ))}
              </td>
              <td>{action}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className={styles.note}>On a Mac, Cmd works wherever Ctrl is shown.</p>
    </Dialog>
  );
}
