// Screen 3, Library: every fetched track in one virtualised grid, filtered in the rules language
// (the search box and quick filters compose one filter), sorted on the server by one or more
// columns, with bulk tag and value edits on a selection or on all that match, one-step undo,
// and "save this filter as a rule set". The URL carries the filter and sort (the contract other
// screens link with: /library?filter=…&sort=field:desc,field — docs/api.md, "Linking to the
// library").
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useSearchParams } from "react-router";
import { ApiError } from "../../api/errors";
import { useCommands, type Command } from "../../app/commands";
import { usePageSearch } from "../../app/shell";
import { Button } from "../../components/Button";
import { ErrorNotice } from "../../components/ErrorNotice";
import { PageHeader } from "../../components/Page";
import {
  useFields,
  useFirstPage,
  useRows,
  useUndo,
  useUndoState,
  idsOfRows,
  matchingIds,
  type Column,
  type QueryShape,
} from "./api";
import { BulkEditDialog } from "./BulkEditDialog";
import { ColumnChooser } from "./ColumnChooser";
import { DEFAULT_FIELDS, NARROW_FIELDS, knownFields, storeColumns, storedColumns } from "./columns";
import { FilterBox } from "./FilterBox";
import { LibraryGrid } from "./LibraryGrid";
import {
  EMPTY_SELECTION,
  addRange,
  composeFilter,
  formatSort,
  parseSort,
  rangeIds,
  selectRow,
  toggleSort,
  type Selection,
} from "./model";
import { SaveRuleDialog } from "./SaveRuleDialog";
import styles from "./LibraryPage.module.css";
import { useNarrow } from "../../lib/narrow";

/** Waits `ms` after the last change of `value`. */
function useSettled<T>(value: T, ms: number): [T, (value: T) => void] {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => {
      setSettled(value);
    }, ms);
    return () => {
      window.clearTimeout(timer);
    };
  }, [value, ms]);
  return [settled, setSettled];
}

export function LibraryPage() {
  const [params, setParams] = useSearchParams();
  const urlFilter = params.get("filter") ?? "";
  const sort = useMemo(() => parseSort(params.get("sort")), [params]);

  const [search, setSearch] = useState(urlFilter);
  const [quick, setQuick] = useState<Record<string, string>>({});
  const fields = useFields();
  const types = useMemo(() => new Map((fields.data ?? []).map((field) => [field.name, field.type])), [fields.data]);
  const narrow = useNarrow();
  const [chosen, setChosen] = useState<string[] | null>(() => storedColumns());
  const shownFields = knownFields(
    chosen ?? (narrow ? NARROW_FIELDS : DEFAULT_FIELDS),
    fields.data ? new Set(types.keys()) : null,
  );

  const composed = composeFilter(
    search,
    Object.entries(quick).map(([field, input]) => ({ field, type: types.get(field) ?? "text", input })),
  );
  const [filter, applyNow] = useSettled(composed, 400);

  // The URL follows the filter the server gets; a link from elsewhere (another filter in the
  // URL) resets the box and the quick filters to it.
  useEffect(() => {
    if ((params.get("filter") ?? "") === filter) return;
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        if (filter === "") next.delete("filter");
        else next.set("filter", filter);
        return next;
      },
      { replace: true },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps -- only when the applied filter changes
  }, [filter]);
  const [seenUrl, setSeenUrl] = useState(urlFilter);
  if (urlFilter !== seenUrl) {
    setSeenUrl(urlFilter);
    if (urlFilter !== filter) {
      setSearch(urlFilter);
      setQuick({});
      applyNow(urlFilter);
    }
  }

  const fieldsKey = shownFields.join(",");
  const shape: QueryShape = useMemo(() => ({ filter, sort, fields: fieldsKey.split(",") }), [filter, sort, fieldsKey]);
  const current = useFirstPage(shape);
  // The last filter that worked: its rows stay on screen (greyed) while a bad one is shown.
  const [lastGood, setLastGood] = useState<QueryShape>(shape);
  if (current.isSuccess && !current.isPlaceholderData && lastGood !== shape) setLastGood(shape);
  const failed = current.isError;
  const shown = failed ? lastGood : shape;
  const shownPage = useFirstPage(shown);
  const page = shownPage.data;
  const total = page?.total ?? 0;
  const rulesProblem =
    failed && current.error instanceof ApiError && current.error.code === "rules_invalid" ? current.error : null;

  const [range, setRange] = useState<[number, number]>([0, 30]);
  const onRange = useCallback((first: number, last: number) => {
    setRange([first, last]);
  }, []);
  const rows = useRows(shown, range[0], range[1], page !== undefined);
  const rowAt = useCallback(
    (index: number) => (index < (page?.rows.length ?? 0) ? page?.rows[index] : rows.get(index)),
    [page, rows],
  );

  const [selection, setSelection] = useState<Selection>(EMPTY_SELECTION);
  const [allIds, setAllIds] = useState<string[] | null>(null);
  const [selectingAll, setSelectingAll] = useState(false);
  const [selectError, setSelectError] = useState<unknown>(null);
  // A new filter or sort starts a new selection: the rows it names may no longer be shown.
  const [selectionShape, setSelectionShape] = useState(filter);
  if (selectionShape !== filter) {
    setSelectionShape(filter);
    setSelection(EMPTY_SELECTION);
    setAllIds(null);
  }
  // The filter in force now (a range's answer for an older one is dropped).
  const filterRef = useRef(filter);
  useEffect(() => {
    filterRef.current = filter;
  }, [filter]);
  const selectedCount = selection.all ? (allIds?.length ?? total) : selection.ids.size;
  const selectedIds = selection.all ? (allIds ?? []) : [...selection.ids];

  async function selectAll() {
    setSelectingAll(true);
    setSelectError(null);
    try {
      const answer = await matchingIds(shown);
      setAllIds(answer.ids);
      setSelection({ ids: new Set(), anchor: null, all: true });
    } catch (error) {
      setSelectError(error);
    } finally {
      setSelectingAll(false);
    }
  }

  const onSelect = useCallback(
    (index: number, id: string, mode: "only" | "toggle" | "range") => {
      // "All that match" becomes its ids once a row is clicked: the click edits that list.
      const explicit = (before: Selection): Selection =>
        before.all && allIds !== null ? { ids: new Set(allIds), anchor: before.anchor, all: false } : before;
      const anchor = selection.anchor;
      const range = mode === "range" && anchor !== null ? rangeIds(anchor, index, (at) => rowAt(at)?.id) : null;
      if (range !== null && !("ids" in range)) {
        // Rows between the two ends were scrolled past and never loaded: the server says which.
        const asked = shown;
        setSelectError(null);
        idsOfRows(asked, range.offset, range.limit).then(
          (answer) => {
            setSelection((before) =>
              filterRef.current === asked.filter ? addRange(explicit(before), answer.ids) : before,
            );
          },
          (error: unknown) => {
            setSelectError(error);
          },
        );
        return;
      }
      setSelection((before) => selectRow(explicit(before), index, id, mode, (at) => rowAt(at)?.id));
    },
    [rowAt, allIds, selection.anchor, shown],
  );

  const onSort = useCallback(
    (field: string, add: boolean) => {
      // From the address bar itself: the router's `currentParams` are those of the render the
      // handler came from, and a second Enter on a header before the page re-rendered toggled
      // the old sort again (asc, asc instead of asc, desc).
      setParams(
        () => {
          const next = new URLSearchParams(window.location.search);
          const sorted = formatSort(toggleSort(parseSort(next.get("sort")), field, add));
          if (sorted === "") next.delete("sort");
          else next.set("sort", sorted);
          return next;
        },
        { replace: true },
      );
    },
    [setParams],
  );

  const undoState = useUndoState();
  const undo = useUndo();
  const [editing, setEditing] = useState(false);
  const [toast, setToast] = useState<string | null>(null);
  const [choosing, setChoosing] = useState(false);
  const [saving, setSaving] = useState(false);
  const searchRef = usePageSearch();

  const last = undoState.data?.available === true ? undoState.data.last : null;
  async function runUndo() {
    const answer = await undo.mutateAsync();
    setToast(`Undone: ${answer.undone.summary} (${answer.restored} tracks restored)`);
  }

  const commands: Command[] = useMemo(
    () => [
      {
        id: "library.columns",
        title: "Choose the library's columns",
        group: "Library",
        run: () => {
          setChoosing(true);
        },
      },
      {
        id: "library.save-rule",
        title: "Save this filter as a rule set",
        group: "Library",
        run: () => {
          setSaving(true);
        },
      },
      {
        id: "library.select-all",
        title: "Select all tracks that match",
        group: "Library",
        run: () => void selectAll(),
      },
    ],
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the actions read the latest state when run
    [shown],
  );
  useCommands(commands);

  const columns: Column[] = page?.columns ?? [];
  const stale = failed || current.isFetching;

  return (
    <div className={styles.page}>
      <PageHeader
        title="Library"
        lead="Every fetched track. Filter in the rules language, sort by any column (Shift-click adds a key), select tracks to tag them."
        actions={
          <>
            <Button
              size="sm"
              onClick={() => {
                setChoosing(true);
              }}
            >
              Columns
            </Button>
            <Button
              size="sm"
              onClick={() => {
                setSaving(true);
              }}
              disabled={filter === "" || failed}
            >
              Save as rule set
            </Button>
            <Button
              size="sm"
              onClick={() => void runUndo()}
              disabled={last === null}
              busy={undo.isPending}
              title={last !== null ? `Undo: ${last.summary}` : "Nothing to undo"}
            >
              {last !== null ? `Undo: ${last.summary}` : "Undo"}
            </Button>
          </>
        }
      />

      <FilterBox
        ref={searchRef}
        value={search}
        onChange={setSearch}
        onApply={() => {
          applyNow(composed);
        }}
        problems={rulesProblem}
        columns={columns}
        types={types}
        quick={quick}
        onQuick={setQuick}
        composed={composed}
      />
      {failed && rulesProblem === null ? <ErrorNotice error={current.error} /> : null}
      {undo.isError ? <ErrorNotice error={undo.error} /> : null}
      {selectError !== null ? <ErrorNotice error={selectError} /> : null}
      {shownPage.isError ? <ErrorNotice error={shownPage.error} /> : null}
      {page !== undefined && page.warnings.length > 0 ? (
        <ul className={styles.warnings} aria-label="Filter warnings">
          {page.warnings.map((warning, index) => (
            <li key={index}>{warning.rendered}</li>
          ))}
        </ul>
      ) : null}

      <div className={styles.toolbar} aria-label="Selection" role="toolbar">
        <p className={styles.count} role="status" aria-live="polite">
          {page === undefined
            ? "Loading the library…"
            : `${total.toLocaleString("en")} of ${page.library_tracks.toLocaleString("en")} tracks match` +
              (selectedCount > 0 ? ` · ${selectedCount.toLocaleString("en")} selected` : "")}
        </p>
        <Button size="sm" onClick={() => void selectAll()} busy={selectingAll} disabled={total === 0 || selection.all}>
          {`Select all ${total.toLocaleString("en")} that match`}
        </Button>
        <Button
          size="sm"
          onClick={() => {
            setSelection(EMPTY_SELECTION);
            setAllIds(null);
          }}
          disabled={selectedCount === 0}
        >
          Clear selection
        </Button>
        <Button
          size="sm"
          variant="primary"
          onClick={() => {
            setEditing(true);
          }}
          disabled={selectedCount === 0}
        >
          Edit tags and values…
        </Button>
      </div>

      {toast !== null ? (
        <div className={styles.toast} role="status">
          <span>{toast}</span>
          {last !== null && !toast.startsWith("Undone") ? (
            <Button size="sm" onClick={() => void runUndo()} busy={undo.isPending}>
              Undo
            </Button>
          ) : null}
          <Button
            size="sm"
            variant="ghost"
            onClick={() => {
              setToast(null);
            }}
            aria-label="Dismiss"
          >
            ✕
          </Button>
        </div>
      ) : null}

      {page !== undefined && total === 0 ? (
        <p className={styles.empty}>
          {page.library_tracks === 0
            ? "The library is empty: fetch some sources first (Sources screen)."
            : "No track matches this filter."}
        </p>
      ) : null}
      {page !== undefined ? (
        <LibraryGrid
          label="Library tracks"
          columns={columns}
          total={total}
          rowAt={rowAt}
          onRange={onRange}
          sort={page.sort}
          onSort={onSort}
          selection={selection}
          onSelect={onSelect}
          onSelectAll={(select) => {
            if (select) void selectAll();
            else {
              setSelection(EMPTY_SELECTION);
              setAllIds(null);
            }
          }}
          stale={stale}
        />
      ) : null}

      <BulkEditDialog
        open={editing}
        onClose={() => {
          setEditing(false);
        }}
        count={selectedCount}
        target={selection.all && shown.filter !== "" ? { filter: shown.filter } : { track_ids: selectedIds }}
        fields={fields.data ?? []}
        onDone={(summary) => {
          setEditing(false);
          setToast(summary);
        }}
      />
      <ColumnChooser
        open={choosing}
        onClose={() => {
          setChoosing(false);
        }}
        fields={fields.data ?? []}
        chosen={shownFields}
        onChoose={(next) => {
          storeColumns(next);
          setChosen(next);
        }}
      />
      <SaveRuleDialog
        open={saving}
        onClose={() => {
          setSaving(false);
        }}
        filter={filter}
      />
    </div>
  );
}
