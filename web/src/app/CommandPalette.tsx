import { Command } from "cmdk";
import { Dialog } from "../components/Dialog";
import { useAllCommands, type Command as AppCommand } from "./commands";
import styles from "./CommandPalette.module.css";

/** Ctrl-K: every action the app has here and now, found by typing. */
export function CommandPalette({ open, onClose }: { open: boolean; onClose: () => void }) {
  const commands = useAllCommands();
  const groups = new Map<string, AppCommand[]>();
  for (const command of commands) groups.set(command.group, [...(groups.get(command.group) ?? []), command]);
  return (
    <Dialog open={open} onClose={onClose} labelledBy="palette-title" className={styles.dialog}>
      <h2 id="palette-title" className="visually-hidden">
        Command palette
      </h2>
      <Command label="Search commands" loop className={styles.command}>
        <Command.Input className={styles.input} placeholder="Type a command…" data-autofocus />
        <Command.List className={styles.list}>
          <Command.Empty className={styles.empty}>No command matches.</Command.Empty>
          {[...groups.entries()].map(([group, items]) => (
            <Command.Group key={group} heading={group} className={styles.group}>
              {items.map((command) => (
                <Command.Item
                  key={command.id}
                  value={command.id}
                  keywords={[command.title, ...(command.keywords ?? [])]}
                  className={styles.item}
                  onSelect={() => {
                    onClose();
                    command.run();
                  }}
                >
                  <span>{command.title}</span>
                  {command.shortcut !== undefined ? (
                    <span className={styles.keys} aria-hidden="true">
                      {command.shortcut.map((key) => (
                        <kbd key={key}>{key}</kbd>
                      ))}
                    </span>
                  ) : null}
                </Command.Item>
              ))}
            </Command.Group>
          ))}
        </Command.List>
      </Command>
    </Dialog>
  );
}
