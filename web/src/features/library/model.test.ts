import { describe, expect, it } from "vitest";
import {
  EMPTY_SELECTION,
  composeFilter,
  formatSort,
  moveFocus,
  addRange,
  parseSort,
  quickCondition,
  rangeIds,
  selectAllState,
  selectRow,
  toggleSort,
} from "./model";

describe("the sort in the URL", () => {
  it("round-trips field:desc lists", () => {
    const sort = parseSort("tempo:desc,name");
    expect(sort).toEqual([
      { field: "tempo", direction: "desc" },
      { field: "name", direction: "asc" },
    ]);
    expect(formatSort(sort)).toBe("tempo:desc,name");
    expect(parseSort(null)).toEqual([]);
  });

  it.each([
    [[], "tempo", false, "tempo"],
    ["tempo", "tempo", false, "tempo:desc"],
    ["tempo:desc", "tempo", false, ""],
    ["tempo:desc,name", "energy", false, "energy"],
    ["tempo:desc", "name", true, "tempo:desc,name"],
    ["tempo:desc,name", "name", true, "tempo:desc,name:desc"],
    ["tempo:desc,name:desc", "name", true, "tempo:desc"],
  ])("%s, a click on %s (shift: %s) gives %s", (before, field, add, after) => {
    const start = typeof before === "string" ? parseSort(before) : [];
    expect(formatSort(toggleSort(start, field, add))).toBe(after);
  });
});

describe("quick filters compose into the rules language", () => {
  it.each([
    ["name", "text", "love", 'name contains "love"'],
    ["name", "text", 'say "hi"', 'name contains "say \\"hi\\""'],
    ["tempo", "number", "> 120", "tempo > 120"],
    ["tempo", "number", "90..120", "tempo between 90..120"],
    ["tempo", "number", "100", "tempo = 100"],
    ["added_at", "date", ">= 2024-01-01", "added_at >= 2024-01-01"],
    ["explicit", "bool", "false", "explicit = false"],
    ["genres", "text", "missing", "genres is missing"],
    ["tempo", "number", "  ", null],
  ] as const)("%s %s %j → %s", (field, type, input, condition) => {
    expect(quickCondition(field, type, input)).toBe(condition);
  });

  it("joins the search text and each quick filter with and, bracketing an or", () => {
    const quick = [
      { field: "tempo", type: "number" as const, input: "> 100" },
      { field: "name", type: "text" as const, input: "" },
      { field: "artists", type: "text" as const, input: "Fox" },
    ];
    expect(composeFilter("", quick)).toBe('tempo > 100 and artists contains "Fox"');
    expect(composeFilter("liked = true", quick)).toBe('liked = true and tempo > 100 and artists contains "Fox"');
    expect(composeFilter("energy > 0.5 or liked = true", quick)).toBe(
      '(energy > 0.5 or liked = true) and tempo > 100 and artists contains "Fox"',
    );
    expect(composeFilter("  energy > 0.5 ", [])).toBe("energy > 0.5");
  });
});

describe("selection", () => {
  const ids = ["a", "b", "c", "d", "e"];
  const idAt = (index: number) => ids[index];

  it("a click selects one row, a second click on it clears it", () => {
    const one = selectRow(EMPTY_SELECTION, 1, "b", "only", idAt);
    expect([...one.ids]).toEqual(["b"]);
    expect([...selectRow(one, 1, "b", "only", idAt).ids]).toEqual([]);
    expect([...selectRow(one, 3, "d", "only", idAt).ids]).toEqual(["d"]);
  });

  it("toggle adds and removes; shift selects the range from the anchor, both ways", () => {
    let selection = selectRow(EMPTY_SELECTION, 1, "b", "toggle", idAt);
    selection = selectRow(selection, 3, "d", "range", idAt);
    expect([...selection.ids].sort()).toEqual(["b", "c", "d"]);
    selection = selectRow(selection, 0, "a", "range", idAt);
    expect([...selection.ids].sort()).toEqual(["a", "b", "c", "d"]);
    selection = selectRow(selection, 2, "c", "toggle", idAt);
    expect([...selection.ids].sort()).toEqual(["a", "b", "d"]);
    expect(selection.all).toBe(false);
  });

  it("a range over loaded rows gives their ids; with a row not loaded, the rows to fetch", () => {
    expect(rangeIds(3, 1, idAt)).toEqual({ ids: ["b", "c", "d"] });
    const sparse = (index: number) => (index === 2 ? undefined : ids[index]);
    expect(rangeIds(4, 0, sparse)).toEqual({ offset: 0, limit: 5 });
    expect(rangeIds(1, 250, sparse)).toEqual({ offset: 1, limit: 250 });
  });

  it("a fetched range adds every row between the two ends, keeping the anchor", () => {
    const start = selectRow(EMPTY_SELECTION, 0, "a", "toggle", idAt);
    const after = addRange(start, ["a", "b", "c", "d", "e"]);
    expect([...after.ids]).toEqual(["a", "b", "c", "d", "e"]);
    expect(after.anchor).toBe(0);
  });

  it("the header checkbox is checked, mixed or clear", () => {
    expect(selectAllState(EMPTY_SELECTION, 5)).toBe("none");
    expect(selectAllState(selectRow(EMPTY_SELECTION, 0, "a", "toggle", idAt), 5)).toBe("some");
    expect(selectAllState(addRange(EMPTY_SELECTION, ids), 5)).toBe("all");
    expect(selectAllState({ ids: new Set(), anchor: null, all: true }, 5)).toBe("all");
    expect(selectAllState(EMPTY_SELECTION, 0)).toBe("none");
  });
});

describe("the grid's keyboard moves", () => {
  const size = { rows: 100, cols: 5, page: 10 };
  it.each([
    [{ row: 0, col: 1 }, "ArrowDown", { row: 1, col: 1 }],
    [{ row: 0, col: 1 }, "ArrowUp", { row: -1, col: 1 }],
    [{ row: -1, col: 1 }, "ArrowUp", { row: -1, col: 1 }],
    [{ row: 99, col: 1 }, "ArrowDown", { row: 99, col: 1 }],
    [{ row: 5, col: 0 }, "ArrowLeft", { row: 5, col: 0 }],
    [{ row: 5, col: 4 }, "ArrowRight", { row: 5, col: 4 }],
    [{ row: 5, col: 2 }, "Home", { row: 5, col: 0 }],
    [{ row: 5, col: 2 }, "End", { row: 5, col: 4 }],
    [{ row: 5, col: 2 }, "PageDown", { row: 15, col: 2 }],
    [{ row: 95, col: 2 }, "PageDown", { row: 99, col: 2 }],
    [{ row: 5, col: 2 }, "PageUp", { row: 0, col: 2 }],
    [{ row: 5, col: 2 }, "Tab", null],
  ])("from %j, %s goes to %j", (from, key, to) => {
    expect(moveFocus(from, key, size)).toEqual(to);
  });

  it("Ctrl+Home and Ctrl+End go to the first and the last cell", () => {
    expect(moveFocus({ row: 40, col: 2 }, "Home", { ...size, ctrl: true })).toEqual({ row: 0, col: 0 });
    expect(moveFocus({ row: 40, col: 2 }, "End", { ...size, ctrl: true })).toEqual({ row: 99, col: 4 });
  });
});
