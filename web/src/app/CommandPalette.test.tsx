import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useMemo } from "react";
import { describe, expect, it, vi } from "vitest";
import { CommandPalette } from "./CommandPalette";
import { CommandRegistry, CommandsProvider, useCommands, type Command } from "./commands";

function Screen({ run }: { run: () => void }) {
  const commands = useMemo<Command[]>(
    () => [
      { id: "a", title: "Fetch the selected sources", group: "Sources", run },
      { id: "b", title: "Theme: dark", group: "View", keywords: ["dark mode"], run: vi.fn() },
    ],
    [run],
  );
  useCommands(commands);
  return null;
}

describe("CommandPalette", () => {
  it("lists what the screens registered, filters as you type, and runs the choice", async () => {
    const run = vi.fn();
    const onClose = vi.fn();
    const registry = new CommandRegistry();
    render(
      <CommandsProvider registry={registry}>
        <Screen run={run} />
        <CommandPalette open onClose={onClose} />
      </CommandsProvider>,
    );
    expect(screen.getByRole("option", { name: "Fetch the selected sources" })).toBeInTheDocument();
    expect(screen.getByRole("option", { name: "Theme: dark" })).toBeInTheDocument();
    await userEvent.type(screen.getByRole("combobox", { name: "Search commands" }), "fetch");
    expect(screen.queryByRole("option", { name: "Theme: dark" })).not.toBeInTheDocument();
    await userEvent.keyboard("{Enter}");
    expect(run).toHaveBeenCalledOnce();
    expect(onClose).toHaveBeenCalledOnce();
  });

  it("forgets a screen's commands when the screen goes", () => {
    const registry = new CommandRegistry();
    const { rerender } = render(
      <CommandsProvider registry={registry}>
        <Screen run={vi.fn()} />
      </CommandsProvider>,
    );
    expect(registry.getSnapshot()).toHaveLength(2);
    rerender(<CommandsProvider registry={registry}>{null}</CommandsProvider>);
    expect(registry.getSnapshot()).toHaveLength(0);
  });
});
