// Every action of the app, for the command palette (Ctrl-K). The shell registers the global
// ones (navigation, theme, jobs, help); each screen registers its own while it is shown with
// `useCommands`, so the palette always lists exactly what can be done here and now.
import { createContext, useContext, useEffect, useSyncExternalStore, type ReactNode } from "react";

export interface Command {
  id: string;
  title: string;
  group: string;
  /** Other words that find it. */
  keywords?: string[];
  /** Keys shown beside it, e.g. ["g", "s"]. */
  shortcut?: string[];
  run: () => void;
}

export class CommandRegistry {
  private sets = new Map<number, Command[]>();
  private next = 0;
  private listeners = new Set<() => void>();
  private snapshot: Command[] = [];

  register(commands: Command[]): () => void {
    const key = this.next++;
    this.sets.set(key, commands);
    this.changed();
    return () => {
      this.sets.delete(key);
      this.changed();
    };
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): Command[] => this.snapshot;

  private changed(): void {
    const byId = new Map<string, Command>();
    for (const commands of this.sets.values()) for (const command of commands) byId.set(command.id, command);
    this.snapshot = [...byId.values()];
    this.listeners.forEach((listener) => {
      listener();
    });
  }
}

const RegistryContext = createContext<CommandRegistry | null>(null);

export function CommandsProvider({ registry, children }: { registry: CommandRegistry; children: ReactNode }) {
  return <RegistryContext.Provider value={registry}>{children}</RegistryContext.Provider>;
}

function useRegistry(): CommandRegistry {
  const registry = useContext(RegistryContext);
  if (registry === null) throw new Error("useCommands needs a CommandsProvider");
  return registry;
}

/** Registers `commands` while the calling component is mounted (re-registered when they change). */
export function useCommands(commands: Command[]): void {
  const registry = useRegistry();
  useEffect(() => registry.register(commands), [registry, commands]);
}

/** Every registered command, in registration order. */
export function useAllCommands(): Command[] {
  const registry = useRegistry();
  return useSyncExternalStore(registry.subscribe, registry.getSnapshot);
}
