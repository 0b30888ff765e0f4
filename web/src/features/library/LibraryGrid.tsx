// The library as an ARIA grid: one row per matching track (aria-rowcount counts them all, plus
// the header), only the rows in view in the DOM (TanStack Virtual), the columns and multi-sort
// state from TanStack Table (headless; the server sorts). The focus moves by cell (roving
// tabindex): arrows, Home/End (Ctrl: first/last row), PageUp/PageDown; Enter or Space selects a
// row (Shift: a range) or sorts by a header (Shift: adds a sort key); Ctrl+Enter opens the
// cell's Spotify link. The first header cell is a real checkbox (focused as the cell: Space or
// Enter) selecting every track that matches, mixed when some are selected. An enriched value's provider and time show on hover and on focus.
import { getCoreRowModel, useReactTable, type ColumnDef, type SortingState } from "@tanstack/react-table";
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent } from "react";
import type { Column, LibraryRow } from "./api";
import { formatValue, provenanceText } from "./format";
import { moveFocus, selectAllState, type Cell, type Selection, type SortKey } from "./model";
import styles from "./LibraryGrid.module.css";

export const ROW_HEIGHT = 36;
const HEADER_HEIGHT = 40;
/** The grid's height when it has many rows (a long library scrolls inside it). */
const GRID_HEIGHT = "max(22rem, calc(100vh - 21rem))";

export interface GridProps {
  columns: Column[];
  total: number;
  rowAt: (index: number) => LibraryRow | undefined;
  onRange: (first: number, last: number) => void;
  sort: SortKey[];
  onSort: (field: string, add: boolean) => void;
  selection: Selection;
  onSelect: (index: number, id: string, mode: "only" | "toggle" | "range") => void;
  /** The header checkbox: true selects every track that matches, false clears the selection.
   * Without it (a table where one row is picked at a time) the header cell has no checkbox. */
  onSelectAll?: (select: boolean) => void;
  stale?: boolean;
  label: string;
}

// Fixed widths in pixels: the header and the absolutely placed rows must line up exactly.
const WIDTHS: Record<string, number> = { name: 260, artists: 190, album: 190, genres: 210, tags: 210 };
const SELECT_WIDTH = 44;

function width(column: Column): number {
  return WIDTHS[column.name] ?? (column.type === "text" || column.list ? 160 : column.type === "date" ? 130 : 110);
}

/** The Spotify page a cell links to, if any. */
export function spotifyLink(column: Column, row: LibraryRow): string | null {
  if (column.name === "name") return `https://open.spotify.com/track/${row.id}`;
  const ids = row.links?.[column.name];
  const first = ids?.[0];
  if (first === undefined) return null;
  return `https://open.spotify.com/${column.name === "album" ? "album" : "artist"}/${first}`;
}

export function LibraryGrid({
  columns,
  total,
  rowAt,
  onRange,
  sort,
  onSort,
  selection,
  onSelect,
  onSelectAll,
  stale,
  label,
}: GridProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const selectAll = useRef<HTMLInputElement>(null);
  const allState = selectAllState(selection, total);
  useEffect(() => {
    // "Mixed" is a property of the element, not an attribute React can render.
    if (selectAll.current !== null) selectAll.current.indeterminate = allState === "some";
  }, [allState]);
  const [focus, setFocus] = useState<Cell>({ row: 0, col: 1 });
  const [pendingFocus, setPendingFocus] = useState(false);
  const [hover, setHover] = useState<Cell | null>(null);
  const cols = columns.length + 1; // the selection column first

  const sorting: SortingState = useMemo(
    () => sort.map((key) => ({ id: key.field, desc: key.direction === "desc" })),
    [sort],
  );
  const defs: ColumnDef<LibraryRow>[] = useMemo(
    () => columns.map((column) => ({ id: column.name, header: column.name, enableMultiSort: true })),
    [columns],
  );
  // TanStack's hooks return mutable instances the React Compiler cannot memoise; it skips this
  // component, which is what the table and the virtualiser need anyway.
  // eslint-disable-next-line react-hooks/incompatible-library -- see above
  const table = useReactTable({
    data: [],
    columns: defs,
    state: { sorting },
    manualSorting: true,
    enableMultiSort: true,
    getCoreRowModel: getCoreRowModel(),
  });

  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    scrollMargin: HEADER_HEIGHT,
    initialRect: { width: 1200, height: 600 },
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? -1;
  useEffect(() => {
    onRange(first, last);
  }, [first, last, onRange]);

  const row = Math.min(focus.row, total - 1);
  const focusCell: Cell = { row: total === 0 ? -1 : row, col: Math.min(focus.col, cols - 1) };
  const rendered = focusCell.row === -1 || (focusCell.row >= first && focusCell.row <= last);

  // After a key moved the focus, the cell may only exist once the virtualiser rendered its row.
  // eslint-disable-next-line react-hooks/exhaustive-deps -- runs after every render until done
  useEffect(() => {
    if (!pendingFocus) return;
    const element = scroller.current?.querySelector<HTMLElement>(`[data-cell="${focusCell.row}:${focusCell.col}"]`);
    if (element) {
      element.focus(); // and the browser scrolls it into view, sideways too
      setPendingFocus(false);
    }
  });

  const page = Math.max(1, Math.floor(((scroller.current?.clientHeight ?? 600) - HEADER_HEIGHT) / ROW_HEIGHT));

  function go(cell: Cell) {
    setFocus(cell);
    setPendingFocus(true);
    if (cell.row >= 0) virtualizer.scrollToIndex(cell.row, { align: "auto" });
  }

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const ctrl = event.ctrlKey || event.metaKey;
    const next = moveFocus(focusCell, event.key, { rows: total, cols, page, ctrl });
    if (next !== null) {
      event.preventDefault();
      go(next);
      return;
    }
    if (event.key !== "Enter" && event.key !== " ") return;
    if (focusCell.row === -1 && focusCell.col === 0) {
      // Space is the checkbox's own (its change event); Enter does the same here.
      if (event.key === "Enter" && onSelectAll !== undefined) {
        event.preventDefault();
        onSelectAll(allState !== "all");
      }
      return;
    }
    if (focusCell.row === -1) {
      const column = columns[focusCell.col - 1];
      if (column !== undefined) {
        event.preventDefault();
        onSort(column.name, event.shiftKey);
      }
      return;
    }
    const data = rowAt(focusCell.row);
    if (data === undefined) return;
    event.preventDefault();
    if (event.key === "Enter" && ctrl) {
      const column = columns[focusCell.col - 1];
      const link = column !== undefined ? spotifyLink(column, data) : null;
      if (link !== null) window.open(link, "_blank", "noopener");
      return;
    }
    onSelect(focusCell.row, data.id, event.shiftKey ? "range" : "toggle");
  }

  function onRowClick(event: MouseEvent, index: number, data: LibraryRow, col: number) {
    if ((event.target as HTMLElement).closest("a") !== null) return;
    setFocus({ row: index, col });
    const checkbox = (event.target as HTMLElement).closest("input") !== null;
    const mode = event.shiftKey ? "range" : event.ctrlKey || event.metaKey || checkbox ? "toggle" : "only";
    onSelect(index, data.id, mode);
  }

  const widths = [SELECT_WIDTH, ...columns.map(width)];
  const template = widths.map((px) => `${px}px`).join(" ");
  const rowWidth = widths.reduce((sum, px) => sum + px, 0);
  const headers = table.getHeaderGroups()[0]?.headers ?? [];

  return (
    <div
      ref={scroller}
      className={[styles.grid, stale === true ? styles.stale : ""].join(" ")}
      // A few rows (a short playlist's preview) make a short table, not a tall empty box; the
      // stylesheet's height is the most it takes (room for a horizontal scrollbar included).
      style={{ height: `min(${GRID_HEIGHT}, ${String(HEADER_HEIGHT + Math.max(total, 3) * ROW_HEIGHT + 20)}px)` }}
      role="grid"
      aria-label={label}
      aria-rowcount={total + 1}
      aria-colcount={cols}
      aria-multiselectable="true"
      aria-busy={stale === true || undefined}
      onKeyDown={onKeyDown}
    >
      <div role="rowgroup" className={styles.head} style={{ width: rowWidth }}>
        <div role="row" aria-rowindex={1} className={styles.row} style={{ gridTemplateColumns: template }}>
          <div role="columnheader" aria-colindex={1} className={[styles.header, styles.selectAll].join(" ")}>
            {onSelectAll !== undefined ? (
              <input
                ref={selectAll}
                type="checkbox"
                data-cell="-1:0"
                tabIndex={focusCell.row === -1 && focusCell.col === 0 ? 0 : -1}
                checked={allState === "all"}
                disabled={total === 0}
                aria-label={`Select all ${total.toLocaleString("en")} tracks that match`}
                onFocus={() => {
                  setFocus({ row: -1, col: 0 });
                }}
                onChange={() => {
                  setFocus({ row: -1, col: 0 });
                  onSelectAll(allState !== "all");
                }}
              />
            ) : (
              <span
                data-cell="-1:0"
                tabIndex={focusCell.row === -1 && focusCell.col === 0 ? 0 : -1}
                className={styles.pickHeader}
                onFocus={() => {
                  setFocus({ row: -1, col: 0 });
                }}
              >
                Pick
              </span>
            )}
          </div>
          {headers.map((header, index) => {
            const column = columns[index];
            if (column === undefined) return null;
            const sorted = header.column.getIsSorted();
            const position = header.column.getSortIndex();
            const isFocus = focusCell.row === -1 && focusCell.col === index + 1;
            return (
              <div
                key={header.id}
                role="columnheader"
                aria-colindex={index + 2}
                aria-sort={position === 0 ? (sorted === "desc" ? "descending" : "ascending") : undefined}
                className={[styles.header, styles.sortable].join(" ")}
                data-cell={`-1:${index + 1}`}
                data-field={column.name}
                tabIndex={isFocus || (!rendered && focusCell.col === index + 1) ? 0 : -1}
                title="Sort (Shift: add as the next sort key)"
                onFocus={() => {
                  setFocus({ row: -1, col: index + 1 });
                }}
                onClick={(event) => {
                  setFocus({ row: -1, col: index + 1 });
                  onSort(column.name, event.shiftKey);
                }}
              >
                <span className={styles.headerText}>{column.name.replaceAll("_", " ")}</span>
                {sorted !== false ? (
                  <span className={styles.sortMark}>
                    <span aria-hidden="true">{sorted === "desc" ? "↓" : "↑"}</span>
                    {sort.length > 1 ? <span aria-hidden="true">{position + 1}</span> : null}
                    <span className="visually-hidden">
                      {`sorted ${sorted === "desc" ? "descending" : "ascending"}${sort.length > 1 ? `, key ${position + 1} of ${sort.length}` : ""}`}
                    </span>
                  </span>
                ) : null}
              </div>
            );
          })}
        </div>
      </div>
      <div role="rowgroup" className={styles.body} style={{ height: virtualizer.getTotalSize(), width: rowWidth }}>
        {items.map((item) => {
          const data = rowAt(item.index);
          const selected = data !== undefined && (selection.all || selection.ids.has(data.id));
          const active = hover?.row === item.index || focusCell.row === item.index;
          return (
            <div
              key={item.key}
              role="row"
              aria-rowindex={item.index + 2}
              aria-selected={data === undefined ? undefined : selected}
              data-row={item.index}
              data-id={data?.id}
              className={[
                styles.row,
                styles.dataRow,
                selected ? styles.selected : "",
                active ? styles.active : "",
              ].join(" ")}
              style={{ gridTemplateColumns: template, transform: `translateY(${item.start - HEADER_HEIGHT}px)` }}
            >
              <div
                role="gridcell"
                aria-colindex={1}
                className={styles.cell}
                data-cell={`${item.index}:0`}
                tabIndex={focusCell.row === item.index && focusCell.col === 0 ? 0 : -1}
                onFocus={() => {
                  setFocus({ row: item.index, col: 0 });
                }}
                onClick={(event) => {
                  if (data !== undefined) onRowClick(event, item.index, data, 0);
                }}
              >
                {data !== undefined ? (
                  <input
                    type="checkbox"
                    tabIndex={-1}
                    checked={selected}
                    readOnly
                    aria-label={`Select ${String(data.values.name ?? data.id)}`}
                  />
                ) : null}
              </div>
              {columns.map((column, index) => {
                const col = index + 1;
                const isFocus = focusCell.row === item.index && focusCell.col === col;
                const tip = data !== undefined ? provenanceText(data.provenance[column.name]) : null;
                const showTip =
                  tip !== null && (isFocus || (hover !== null && hover.row === item.index && hover.col === col));
                const text = data !== undefined ? formatValue(column, data.values[column.name]) : "";
                const link = data !== undefined ? spotifyLink(column, data) : null;
                const tipId = `tip-${item.index}-${col}`;
                return (
                  <div
                    key={column.name}
                    role="gridcell"
                    aria-colindex={col + 1}
                    aria-describedby={showTip ? tipId : undefined}
                    className={[styles.cell, tip !== null ? styles.enriched : ""].join(" ")}
                    data-cell={`${item.index}:${col}`}
                    data-field={column.name}
                    tabIndex={isFocus ? 0 : -1}
                    onFocus={() => {
                      setFocus({ row: item.index, col });
                    }}
                    onMouseEnter={() => {
                      setHover({ row: item.index, col });
                    }}
                    onMouseLeave={() => {
                      setHover(null);
                    }}
                    onClick={(event) => {
                      if (data !== undefined) onRowClick(event, item.index, data, col);
                    }}
                  >
                    {data === undefined ? (
                      <span className={styles.placeholder} aria-hidden="true" />
                    ) : link !== null ? (
                      <a className={styles.text} href={link} target="_blank" rel="noopener noreferrer" tabIndex={-1}>
                        {text}
                      </a>
                    ) : (
                      <span className={styles.text}>{text}</span>
                    )}
                    {showTip ? (
                      <span
                        role="tooltip"
                        id={tipId}
                        className={[styles.tooltip, col > columns.length / 2 ? styles.tooltipEnd : ""].join(" ")}
                      >
                        {`${column.name.replaceAll("_", " ")} from ${tip}`}
                      </span>
                    ) : null}
                  </div>
                );
              })}
            </div>
          );
        })}
      </div>
    </div>
  );
}
