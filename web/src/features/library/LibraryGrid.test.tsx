import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Column, LibraryRow } from "./api";
import { LibraryGrid } from "./LibraryGrid";
import { EMPTY_SELECTION, selectRow, toggleSort, type Selection, type SortKey } from "./model";

const COLUMNS: Column[] = [
  { name: "name", type: "text", list: false, origin: "track" },
  { name: "tempo", type: "number", list: false, origin: "enrichment" },
  { name: "album", type: "text", list: false, origin: "track" },
];
const ROWS: LibraryRow[] = Array.from({ length: 500 }, (_, index): LibraryRow => ({
  id: `id${index}`,
  values: { name: `Song ${index}`, tempo: 100 + index, album: `Album ${index}` },
  links: { album: [`al${index}`] },
  provenance: index === 0 ? { tempo: [{ provider: "deezer", at: "2026-11-30T08:00:00Z" }] } : {},
}));

function Harness({ onSortSeen }: { onSortSeen?: (sort: SortKey[]) => void }) {
  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  const [sort, setSort] = useState<SortKey[]>([]);
  return (
    <>
      <p data-testid="selected">{selection.all ? "all" : [...selection.ids].join(",")}</p>
      <LibraryGrid
        label="Library tracks"
        columns={COLUMNS}
        total={ROWS.length}
        rowAt={(index) => ROWS[index]}
        onRange={() => {}}
        sort={sort}
        onSort={(field, add) => {
          const next = toggleSort(sort, field, add);
          setSort(next);
          onSortSeen?.(next);
        }}
        selection={selection}
        onSelect={(index, id, mode) => {
          setSelection((before) => selectRow(before, index, id, mode, (at) => ROWS[at]?.id));
        }}
        onSelectAll={(select) => {
          setSelection(select ? { ids: new Set(), anchor: null, all: true } : EMPTY_SELECTION);
        }}
      />
    </>
  );
}

// jsdom has no layout: the virtualiser measures its scroll element's offsetWidth/offsetHeight,
// which jsdom answers 0 (so no row would be in view). Give elements a window's size here.
const sizes = ["offsetWidth", "offsetHeight"] as const;
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, "offsetWidth", { configurable: true, get: () => 1200 });
  Object.defineProperty(HTMLElement.prototype, "offsetHeight", { configurable: true, get: () => 600 });
});
afterAll(() => {
  for (const size of sizes) Reflect.deleteProperty(HTMLElement.prototype, size);
});

describe("the library grid", () => {
  it("is an ARIA grid counting every row and keeping few in the DOM", () => {
    render(<Harness />);
    const grid = screen.getByRole("grid", { name: "Library tracks" });
    expect(grid).toHaveAttribute("aria-rowcount", "501");
    const rows = within(grid).getAllByRole("row");
    expect(rows.length).toBeGreaterThan(5);
    expect(rows.length).toBeLessThan(60);
    expect(rows[1]).toHaveAttribute("aria-rowindex", "2");
  });

  it("moves the focus by cell with the keys, selects with Space and Shift+Space, sorts from a header", async () => {
    const user = userEvent.setup();
    const sorts: SortKey[][] = [];
    render(<Harness onSortSeen={(sort) => sorts.push(sort)} />);
    const grid = screen.getByRole("grid");
    const first = grid.querySelector<HTMLElement>('[data-cell="0:1"]');
    expect(first).toHaveAttribute("tabindex", "0");
    first?.focus();
    await user.keyboard("{ArrowRight}");
    expect(document.activeElement).toHaveAttribute("data-cell", "0:2");
    await user.keyboard("{ArrowDown}{ArrowDown}");
    expect(document.activeElement).toHaveAttribute("data-cell", "2:2");
    await user.keyboard("{Home}");
    expect(document.activeElement).toHaveAttribute("data-cell", "2:0");
    await user.keyboard("{End}");
    expect(document.activeElement).toHaveAttribute("data-cell", "2:3");
    await user.keyboard("{ArrowLeft}");
    await user.keyboard(" ");
    expect(screen.getByTestId("selected")).toHaveTextContent("id2");
    await user.keyboard("{ArrowDown}{ArrowDown}{Shift>} {/Shift}");
    expect(screen.getByTestId("selected")).toHaveTextContent("id2,id3,id4");
    expect(grid.querySelector('[data-id="id3"]')).toHaveAttribute("aria-selected", "true");
    await user.keyboard("{Control>}{Home}{/Control}{ArrowUp}");
    expect(document.activeElement).toHaveAccessibleName("Select all 500 tracks that match");
    await user.keyboard("{ArrowRight}{ArrowRight}{Enter}");
    expect(sorts.at(-1)).toEqual([{ field: "tempo", direction: "asc" }]);
    await user.keyboard("{ArrowLeft}{Shift>}{Enter}{/Shift}");
    expect(sorts.at(-1)).toEqual([
      { field: "tempo", direction: "asc" },
      { field: "name", direction: "asc" },
    ]);
  });

  it("has a real, labelled 'select all' checkbox in the header: mixed, checked, cleared, by keyboard too", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    const all = screen.getByRole("checkbox", { name: "Select all 500 tracks that match" });
    expect(all).not.toBeChecked();
    expect(all).not.toBePartiallyChecked();
    await user.click(screen.getByRole("checkbox", { name: "Select Song 3" }));
    expect(all).toBePartiallyChecked();
    await user.click(all);
    expect(screen.getByTestId("selected")).toHaveTextContent("all");
    expect(all).toBeChecked();
    expect(all).not.toBePartiallyChecked();
    // From the first data cell, ArrowUp reaches it; Space and Enter toggle it.
    screen.getByRole("grid").querySelector<HTMLElement>('[data-cell="0:0"]')?.focus();
    await user.keyboard("{ArrowUp}");
    expect(document.activeElement).toBe(all);
    await user.keyboard(" ");
    expect(screen.getByTestId("selected")).toHaveTextContent(/^$/);
    expect(all).not.toBeChecked();
    await user.keyboard("{Enter}");
    expect(screen.getByTestId("selected")).toHaveTextContent("all");
  });

  it("shows who gave an enriched value and when, on focus", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    const grid = screen.getByRole("grid");
    grid.querySelector<HTMLElement>('[data-cell="0:1"]')?.focus();
    await user.keyboard("{ArrowRight}");
    const tooltip = screen.getByRole("tooltip");
    expect(tooltip).toHaveTextContent("tempo from Deezer, 30 Nov 2026, 08:00 UTC");
    expect(document.activeElement).toHaveAttribute("aria-describedby", tooltip.id);
  });

  it("links a track's name to Spotify", () => {
    render(<Harness />);
    expect(screen.getByRole("link", { name: "Song 0" })).toHaveAttribute("href", "https://open.spotify.com/track/id0");
  });
});
