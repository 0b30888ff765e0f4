// The Library screen's pure model: the URL contract (filter and sort), the quick filters and how
// they compose into the rules-language filter, the selection, and the grid's keyboard moves.
// Nothing here touches React or the network; model.test.ts covers it.

export type Direction = "asc" | "desc";

export interface SortKey {
  field: string;
  direction: Direction;
}

/** `tempo:desc,name` ⇄ [{tempo, desc}, {name, asc}] (the `sort` URL parameter). */
export function parseSort(text: string | null): SortKey[] {
  if (text === null || text.trim() === "") return [];
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const [field = "", direction] = part.split(":");
      return { field, direction: direction === "desc" ? "desc" : "asc" };
    });
}

export function formatSort(sort: SortKey[]): string {
  return sort.map((key) => (key.direction === "desc" ? `${key.field}:desc` : key.field)).join(",");
}

/** A click on a column's header: alone it sorts by that column (asc, then desc, then none);
 * with `add` (shift-click) it adds the column as the next key, or flips or drops it in place. */
export function toggleSort(sort: SortKey[], field: string, add: boolean): SortKey[] {
  const current = sort.find((key) => key.field === field);
  const next: SortKey | null =
    current === undefined
      ? { field, direction: "asc" }
      : current.direction === "asc"
        ? { field, direction: "desc" }
        : null;
  if (!add) return next === null ? [] : [next];
  if (current === undefined) return [...sort, { field, direction: "asc" }];
  return next === null
    ? sort.filter((key) => key.field !== field)
    : sort.map((key) => (key.field === field ? next : key));
}

export type FieldType = "text" | "number" | "date" | "bool" | "track";

/** A rules-language string literal. */
export function quote(text: string): string {
  return JSON.stringify(text);
}

/** One quick filter's words as a rules-language condition, or null when it says nothing.
 * Text: `contains` (a list field: any element). Numbers and dates: `> 100`, `<= 2020-01-01`,
 * `100..120` (between), `= 5`, or a bare value (equals). Booleans: `true` / `false`. `missing`
 * and `present` work on every type. */
export function quickCondition(field: string, type: FieldType, input: string): string | null {
  const text = input.trim();
  if (text === "") return null;
  if (text === "missing") return `${field} is missing`;
  if (text === "present") return `${field} is present`;
  if (type === "bool") return `${field} = ${text.toLowerCase() === "false" || text === "no" ? "false" : "true"}`;
  if (type === "number" || type === "date") {
    const range = /^(\S+)\s*\.\.\s*(\S+)$/.exec(text);
    if (range !== null) return `${field} between ${literal(range[1] ?? "", type)}..${literal(range[2] ?? "", type)}`;
    const compare = /^(>=|<=|!=|>|<|=)\s*(.+)$/.exec(text);
    if (compare !== null) return `${field} ${compare[1] ?? "="} ${literal((compare[2] ?? "").trim(), type)}`;
    return `${field} = ${literal(text, type)}`;
  }
  return `${field} contains ${quote(text)}`;
}

function literal(value: string, type: FieldType): string {
  if (type === "number" && /^-?\d+(\.\d+)?$/.test(value)) return value;
  if (type === "date" && /^\d{4}(-\d{2}(-\d{2})?)?$/.test(value)) return value;
  return quote(value);
}

/** The filter the server gets: the search box's text and every quick filter, joined by `and`
 * (the search text in parentheses when it has an `or` of its own). */
export function composeFilter(search: string, quick: { field: string; type: FieldType; input: string }[]): string {
  const conditions = quick
    .map((filter) => quickCondition(filter.field, filter.type, filter.input))
    .filter((condition): condition is string => condition !== null);
  const base = search.trim();
  if (conditions.length === 0) return base;
  if (base === "") return conditions.join(" and ");
  const wrapped = /\bor\b|\n/.test(base) ? `(${base})` : base;
  return [wrapped, ...conditions].join(" and ");
}

/** Which rows are selected: ids, plus the index of the last row clicked (the anchor of a
 * shift-click range). `all` means "every track that matches" (its ids come from the server). */
export interface Selection {
  ids: ReadonlySet<string>;
  anchor: number | null;
  all: boolean;
}

export const EMPTY_SELECTION: Selection = { ids: new Set(), anchor: null, all: false };

/** The ids of rows `anchor`…`index` (either way round) when every one is loaded; otherwise the
 * rows to ask the server for (`POST /data/library/ids` with offset and limit): a range is
 * always every row between its two ends, also those scrolled past and never loaded. */
export function rangeIds(
  anchor: number,
  index: number,
  idAt: (index: number) => string | undefined,
): { ids: string[] } | { offset: number; limit: number } {
  const [low, high] = anchor < index ? [anchor, index] : [index, anchor];
  const ids: string[] = [];
  for (let at = low; at <= high; at++) {
    const id = idAt(at);
    if (id === undefined) return { offset: low, limit: high - low + 1 };
    ids.push(id);
  }
  return { ids };
}

/** The selection with a range's `ids` added (the anchor stays, for the next shift-click). */
export function addRange(selection: Selection, ids: readonly string[]): Selection {
  return { ids: new Set([...selection.ids, ...ids]), anchor: selection.anchor, all: false };
}

/** Which state the header's "select all" checkbox shows for a selection of `total` rows. */
export function selectAllState(selection: Selection, total: number): "all" | "some" | "none" {
  if (selection.all || (total > 0 && selection.ids.size >= total)) return "all";
  return selection.ids.size > 0 ? "some" : "none";
}

/** A click on row `index` (id `id`): plain selects only it, `toggle` (Ctrl/Cmd, the checkbox,
 * Space) adds or removes it, `range` (shift) selects from the anchor to it; `idAt` gives the
 * ids of loaded rows (a range with rows not loaded is `rangeIds`' to fetch first: here it
 * covers only the loaded ones). */
export function selectRow(
  selection: Selection,
  index: number,
  id: string,
  mode: "only" | "toggle" | "range",
  idAt: (index: number) => string | undefined,
): Selection {
  if (mode === "range" && selection.anchor !== null) {
    const ids = new Set(selection.ids);
    const [low, high] = selection.anchor < index ? [selection.anchor, index] : [index, selection.anchor];
    for (let at = low; at <= high; at++) {
      const rowId = idAt(at);
      if (rowId !== undefined) ids.add(rowId);
    }
    return { ids, anchor: selection.anchor, all: false };
  }
  if (mode === "toggle" || mode === "range") {
    const ids = new Set(selection.ids);
    if (ids.has(id)) ids.delete(id);
    else ids.add(id);
    return { ids, anchor: index, all: false };
  }
  if (selection.ids.size === 1 && selection.ids.has(id)) return { ids: new Set(), anchor: index, all: false };
  return { ids: new Set([id]), anchor: index, all: false };
}

/** A cell of the grid: `row` -1 is the header row. */
export interface Cell {
  row: number;
  col: number;
}

/** Where the focus goes on a key, in a grid of `rows` data rows and `cols` columns, `page` rows
 * a screen; null: the key is not the grid's. Ctrl+Home/End go to the first/last row. */
export function moveFocus(
  cell: Cell,
  key: string,
  { rows, cols, page, ctrl = false }: { rows: number; cols: number; page: number; ctrl?: boolean },
): Cell | null {
  const clampRow = (row: number) => Math.max(-1, Math.min(rows - 1, row));
  const clampCol = (col: number) => Math.max(0, Math.min(cols - 1, col));
  switch (key) {
    case "ArrowUp":
      return { row: clampRow(cell.row - 1), col: cell.col };
    case "ArrowDown":
      return { row: clampRow(cell.row + 1), col: cell.col };
    case "ArrowLeft":
      return { row: cell.row, col: clampCol(cell.col - 1) };
    case "ArrowRight":
      return { row: cell.row, col: clampCol(cell.col + 1) };
    case "Home":
      return ctrl ? { row: rows > 0 ? 0 : -1, col: 0 } : { row: cell.row, col: 0 };
    case "End":
      return ctrl ? { row: rows - 1, col: cols - 1 } : { row: cell.row, col: cols - 1 };
    case "PageUp":
      return { row: clampRow(Math.max(cell.row === -1 ? -1 : 0, cell.row - page)), col: cell.col };
    case "PageDown":
      return { row: clampRow(cell.row + page), col: cell.col };
    default:
      return null;
  }
}
