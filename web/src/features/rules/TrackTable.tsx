// Tracks in the library's grid (the same columns, provenance and server-side sort as the
// Library screen): a rule set's playlist (`rule`, in the playlist's order until sorted) or the
// library's tracks matching `filter`. Picking a row (click, Enter, Space) calls `onPick`.
import { useCallback, useMemo, useState } from "react";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Page";
import { LibraryGrid } from "../library/LibraryGrid";
import { toggleSort, type SortKey } from "../library/model";
import { useFirstPage, useRows, type QueryShape } from "../library/api";
import type { RuleBody } from "./api";
import styles from "./Rules.module.css";
import { useNarrow } from "../../lib/narrow";

const FIELDS = ["name", "artists", "album", "duration", "genres", "tempo", "energy", "added_at"];
const NARROW = ["name", "artists", "tempo"];

export function TrackTable({
  rule,
  filter = "",
  label,
  picked,
  onPick,
}: {
  rule: RuleBody | null;
  filter?: string;
  label: string;
  picked?: string | null;
  onPick?: (trackId: string, name: string | null) => void;
}) {
  const narrow = useNarrow();
  const [sort, setSort] = useState<SortKey[]>([]);
  const shape: QueryShape = useMemo(
    () => ({ rule, filter, sort, fields: narrow ? NARROW : FIELDS }),
    [rule, filter, sort, narrow],
  );
  const first = useFirstPage(shape);
  const page = first.data;
  const [range, setRange] = useState<[number, number]>([0, 30]);
  const onRange = useCallback((from: number, to: number) => {
    setRange([from, to]);
  }, []);
  const rows = useRows(shape, range[0], range[1], page !== undefined);
  const rowAt = useCallback(
    (index: number) => (index < (page?.rows.length ?? 0) ? page?.rows[index] : rows.get(index)),
    [page, rows],
  );
  const selection = useMemo(
    () => ({ ids: new Set(picked !== null && picked !== undefined ? [picked] : []), anchor: null, all: false }),
    [picked],
  );
  const onSort = useCallback((field: string, add: boolean) => {
    setSort((before) => toggleSort(before, field, add));
  }, []);
  if (first.isError) return <ErrorNotice error={first.error} />;
  if (page === undefined) return <Loading label="Reading the tracks…" />;
  return (
    <div className={styles.table}>
      <p className={styles.muted} role="status">
        {`${page.total.toLocaleString("en")} track${page.total === 1 ? "" : "s"}`}
        {onPick !== undefined ? " · select one to explain it" : ""}
      </p>
      {page.total > 0 ? (
        <LibraryGrid
          label={label}
          columns={page.columns}
          total={page.total}
          rowAt={rowAt}
          onRange={onRange}
          sort={page.sort}
          onSort={onSort}
          selection={selection}
          onSelect={(index, id) => {
            const name = rowAt(index)?.values.name;
            onPick?.(id, typeof name === "string" ? name : null);
          }}
          stale={first.isFetching}
        />
      ) : null}
    </div>
  );
}
