// The Library screen's server state: pages of the library query (keyed by filter, sort, columns
// and offset, so a scroll fetches only the pages it shows), the fields, "all that match", bulk
// edits and their undo, and saving the filter as a rule set.
import { keepPreviousData, useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";
import type { SortKey } from "./model";

export type LibraryPage = Schemas["LibraryPage"];
export type LibraryRow = Schemas["LibraryRow"];
export type Column = Schemas["QueryColumn"];
export type Field = Schemas["FieldRow"];
export type BulkEdit = Schemas["BulkManualEdit"];
export type LastEdit = Schemas["LastEdit"];

/** Rows a page holds (the server takes up to 500). */
export const PAGE_SIZE = 100;

export interface QueryShape {
  filter: string;
  sort: SortKey[];
  fields: string[];
  /** Only the tracks this rule set's playlist would hold (saved or not; the rules preview). */
  rule?: Record<string, unknown> | null;
}

export const libraryKeys = {
  all: () => ["library"] as const,
  pages: (shape: QueryShape) => ["library", "page", shape] as const,
  page: (shape: QueryShape, offset: number) => ["library", "page", shape, offset] as const,
  fields: () => ["library", "fields"] as const,
  undo: () => ["library", "undo"] as const,
};

async function fetchPage(shape: QueryShape, offset: number): Promise<LibraryPage> {
  return unwrap(
    api.POST("/data/library/query", {
      body: {
        rule: shape.rule ?? null,
        filter: shape.filter === "" ? null : shape.filter,
        sort: shape.sort,
        fields: shape.fields,
        offset,
        limit: PAGE_SIZE,
      },
    }),
  );
}

/** The first page (total, columns, warnings; its error is the filter's), kept while the next
 * filter loads or fails, so the last good results stay on screen. */
export function useFirstPage(shape: QueryShape) {
  return useQuery({
    queryKey: libraryKeys.page(shape, 0),
    queryFn: () => fetchPage(shape, 0),
    placeholderData: keepPreviousData,
    retry: false,
  });
}

/** The pages holding rows `first`..`last` (the virtualiser's window), fetched as they come
 * into view; a row not loaded yet is undefined. */
export function useRows(shape: QueryShape, first: number, last: number, enabled: boolean) {
  const offsets: number[] = [];
  if (enabled && last >= first) {
    for (let page = Math.floor(first / PAGE_SIZE); page <= Math.floor(last / PAGE_SIZE); page++) {
      offsets.push(page * PAGE_SIZE);
    }
  }
  return useQueries({
    queries: offsets.map((offset) => ({
      queryKey: libraryKeys.page(shape, offset),
      queryFn: () => fetchPage(shape, offset),
      staleTime: 30_000,
    })),
    combine: (results) => {
      const rows = new Map<number, LibraryRow>();
      results.forEach((result, at) => {
        const offset = offsets[at] ?? 0;
        result.data?.rows.forEach((row, index) => rows.set(offset + index, row));
      });
      return rows;
    },
  });
}

export function useFields() {
  return useQuery({
    queryKey: libraryKeys.fields(),
    queryFn: () => unwrap(api.GET("/data/rules/fields")),
    staleTime: 60_000,
  });
}

/** Every id the filter matches ("select all that match"). */
export async function matchingIds(shape: QueryShape) {
  return unwrap(
    api.POST("/data/library/ids", {
      body: { filter: shape.filter === "" ? null : shape.filter, sort: shape.sort, offset: 0 },
    }),
  );
}

/** The ids of rows `offset`…`offset + limit` of the table (a range over rows not loaded). */
export async function idsOfRows(shape: QueryShape, offset: number, limit: number) {
  return unwrap(
    api.POST("/data/library/ids", {
      body: { filter: shape.filter === "" ? null : shape.filter, sort: shape.sort, offset, limit },
    }),
  );
}

export function useUndoState() {
  return useQuery({ queryKey: libraryKeys.undo(), queryFn: () => unwrap(api.GET("/data/enrichments/manual/undo")) });
}

export function useBulkEdit() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (edit: BulkEdit) => unwrap(api.POST("/data/enrichments/manual", { body: edit })),
    onSettled: () => client.invalidateQueries({ queryKey: libraryKeys.all() }),
  });
}

export function useUndo() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/data/enrichments/manual/undo")),
    onSettled: () => client.invalidateQueries({ queryKey: libraryKeys.all() }),
  });
}

/** Saves `filter` as a rule set named `name` (its id made from the name). */
export function useSaveRuleSet() {
  return useMutation({
    mutationFn: ({ name, filter }: { name: string; filter: string }) =>
      unwrap(api.POST("/data/rules", { body: { id: ruleId(name), name, text: filter } })),
  });
}

export function ruleId(name: string): string {
  const slug = name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return slug === "" ? "library-filter" : slug;
}
