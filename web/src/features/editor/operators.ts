// What the editor needs to know of each operator: its text form (the words the text syntax and
// the builder show) and the shape of its value. Mirrors the registry of
// app/pipeline/rules/operators.py (TEXT_FORMS, VALUE_KIND); which operators a field takes comes
// from the server (GET /data/rules/completion: each field's `operators`).
import type { Operator } from "./model";

export type ValueShape = "scalar" | "pair" | "list" | "span" | "none" | "ref";

export const OPERATORS: Record<Operator, { text: string; shape: ValueShape }> = {
  eq: { text: "=", shape: "scalar" },
  ne: { text: "!=", shape: "scalar" },
  gt: { text: ">", shape: "scalar" },
  gte: { text: ">=", shape: "scalar" },
  lt: { text: "<", shape: "scalar" },
  lte: { text: "<=", shape: "scalar" },
  between: { text: "between", shape: "pair" },
  not_between: { text: "not between", shape: "pair" },
  in: { text: "in", shape: "list" },
  not_in: { text: "not in", shape: "list" },
  contains: { text: "contains", shape: "scalar" },
  not_contains: { text: "not contains", shape: "scalar" },
  starts_with: { text: "starts with", shape: "scalar" },
  not_starts_with: { text: "not starts with", shape: "scalar" },
  ends_with: { text: "ends with", shape: "scalar" },
  not_ends_with: { text: "not ends with", shape: "scalar" },
  regex: { text: "matches", shape: "scalar" },
  not_regex: { text: "not matches", shape: "scalar" },
  has_any: { text: "has any", shape: "list" },
  has_all: { text: "has all", shape: "list" },
  has_none: { text: "has none", shape: "list" },
  before: { text: "before", shape: "scalar" },
  after: { text: "after", shape: "scalar" },
  in_last: { text: "in last", shape: "span" },
  not_in_last: { text: "not in last", shape: "span" },
  exists: { text: "is present", shape: "none" },
  not_exists: { text: "is missing", shape: "none" },
  in_playlist: { text: "in playlist", shape: "ref" },
  not_in_playlist: { text: "not in playlist", shape: "ref" },
  in_rule: { text: "in rule", shape: "ref" },
  not_in_rule: { text: "not in rule", shape: "ref" },
};

export type FieldType = "text" | "number" | "date" | "bool" | "track";

/** One typed item from what a person typed: a number for a number field when it reads as one,
 * a boolean for a bool field, else the text. */
export function typedItem(raw: string, type: FieldType): unknown {
  const text = raw.trim();
  if (type === "number" && text !== "" && Number.isFinite(Number(text))) return Number(text);
  if (type === "bool" && (text === "true" || text === "false")) return text === "true";
  return text;
}

/** A value in the shape `shape` from a value of another shape (changing the operator keeps
 * what can be kept). */
export function reshape(value: unknown, shape: ValueShape): unknown {
  const items = Array.isArray(value) ? (value as unknown[]) : value === null || value === undefined ? [] : [value];
  switch (shape) {
    case "none":
      return null;
    case "list":
      return items;
    case "pair":
      return [items[0] ?? 0, items[1] ?? items[0] ?? 0];
    case "span":
      return typeof value === "string" && /^\d+(h|d|w|mo|y)$/.test(value) ? value : "30d";
    default:
      return items[0] ?? "";
  }
}

/** A value as the builder's input shows it (lists joined by ", "). */
export function shownItem(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}
