// The visual builder's model: the JSON rule tree (app/core/rules.py: RuleGroup, RuleCondition)
// with a stable key per node for React and focus, and every edit the builder makes — add,
// delete, move up/down, indent into a group, outdent — as pure functions from tree to tree.
// `fromModel` and `toModel` are exact inverses (property-tested in model.test.ts), and every
// edit leaves a tree the server accepts: nested groups are never left empty, depth stays within
// MAX_DEPTH. The server is the one parser and printer (POST /data/rules/parse, /format): the
// builder never reads or writes the text syntax itself.
import type { Schemas } from "../../api/client";

export type RuleGroup = Schemas["RuleGroup"];
export type RuleCondition = Schemas["RuleCondition"];
export type Operator = Schemas["RuleOperator"];

/** The deepest nesting the server accepts (app/core/rules.py MAX_DEPTH). */
export const MAX_DEPTH = 8;

export interface BCondition {
  kind: "condition";
  key: string;
  field: string;
  operator: Operator;
  value: unknown;
  case_sensitive: boolean;
  accent_insensitive: boolean;
}

export interface BGroup {
  kind: "group";
  key: string;
  operator: "and" | "or";
  negate: boolean;
  children: BNode[];
}

export type BNode = BCondition | BGroup;
/** Indices into nested children; [] is the root. */
export type Path = number[];

let counter = 0;
function nextKey(): string {
  counter += 1;
  return `n${String(counter)}`;
}

function isGroup(node: RuleCondition | RuleGroup): node is RuleGroup {
  return "conditions" in node || !("field" in node);
}

/** The builder's tree of a JSON rule group (new keys). */
export function fromModel(group: RuleGroup): BGroup {
  return {
    kind: "group",
    key: nextKey(),
    operator: group.operator,
    negate: group.negate,
    children: (group.conditions ?? []).map((node) =>
      isGroup(node)
        ? fromModel(node)
        : {
            kind: "condition",
            key: nextKey(),
            field: node.field,
            operator: node.operator,
            value: node.value,
            case_sensitive: node.case_sensitive,
            accent_insensitive: node.accent_insensitive,
          },
    ),
  };
}

/** The JSON rule group of a builder tree. */
export function toModel(group: BGroup): RuleGroup {
  return {
    operator: group.operator,
    negate: group.negate,
    conditions: group.children.map((node) =>
      node.kind === "group"
        ? toModel(node)
        : {
            field: node.field,
            operator: node.operator,
            value: node.value,
            case_sensitive: node.case_sensitive,
            accent_insensitive: node.accent_insensitive,
          },
    ),
  };
}

export function pathKey(path: Path): string {
  return path.join(".");
}

export function nodeAt(root: BGroup, path: Path): BNode | undefined {
  let node: BNode = root;
  for (const index of path) {
    if (node.kind !== "group") return undefined;
    const child: BNode | undefined = node.children[index];
    if (child === undefined) return undefined;
    node = child;
  }
  return node;
}

/** A copy of the tree with the group at `path` replaced by `change(group)`. */
function withGroup(root: BGroup, path: Path, change: (group: BGroup) => BGroup): BGroup {
  if (path.length === 0) return change(root);
  const [first, ...rest] = path as [number, ...number[]];
  const child = root.children[first];
  if (child?.kind !== "group") return root;
  const children = root.children.slice();
  children[first] = withGroup(child, rest, change);
  return { ...root, children };
}

export function depth(node: BNode): number {
  if (node.kind === "condition") return 0;
  return 1 + Math.max(0, ...node.children.map(depth));
}

export function conditionCount(node: BNode): number {
  return node.kind === "condition" ? 1 : node.children.reduce((sum, child) => sum + conditionCount(child), 0);
}

export function newCondition(template: Omit<BCondition, "kind" | "key">): BCondition {
  return { kind: "condition", key: nextKey(), ...template };
}

export function newGroup(operator: "and" | "or", children: BNode[]): BGroup {
  return { kind: "group", key: nextKey(), operator, negate: false, children };
}

/** Inserts `node` after the node at `at` (in its group), or at the end of the root when `at`
 * is null or the root; returns the tree and the new node's path. */
export function insertAfter(root: BGroup, at: Path | null, node: BNode): [BGroup, Path] {
  if (at === null || at.length === 0) {
    return [{ ...root, children: [...root.children, node] }, [root.children.length]];
  }
  const parent = at.slice(0, -1);
  const index = (at[at.length - 1] ?? 0) + 1;
  if (parent.length + depth(node) + 1 > MAX_DEPTH) return [root, at];
  const next = withGroup(root, parent, (group) => {
    const children = group.children.slice();
    children.splice(index, 0, node);
    return { ...group, children };
  });
  return [next, [...parent, index]];
}

/** Removes the node at `path`; a nested group left empty goes too. Returns the tree and the
 * path to focus next (the node that took its place, else the one before, else the parent). */
export function remove(root: BGroup, path: Path): [BGroup, Path] {
  if (path.length === 0) return [root, path];
  const parent = path.slice(0, -1);
  const index = path[path.length - 1] ?? 0;
  const group = nodeAt(root, parent);
  if (group?.kind !== "group") return [root, path];
  if (group.children.length === 1 && parent.length > 0) return remove(root, parent);
  const next = withGroup(root, parent, (g) => ({ ...g, children: g.children.filter((_, i) => i !== index) }));
  const left = group.children.length - 1;
  if (left === 0) return [next, parent];
  return [next, [...parent, Math.min(index, left - 1)]];
}

/** Moves the node at `path` one place up (-1) or down (+1) within its group. */
export function move(root: BGroup, path: Path, by: -1 | 1): [BGroup, Path] {
  if (path.length === 0) return [root, path];
  const parent = path.slice(0, -1);
  const index = path[path.length - 1] ?? 0;
  const group = nodeAt(root, parent);
  if (group?.kind !== "group") return [root, path];
  const target = index + by;
  if (target < 0 || target >= group.children.length) return [root, path];
  const next = withGroup(root, parent, (g) => {
    const children = g.children.slice();
    const [moved] = children.splice(index, 1);
    if (moved !== undefined) children.splice(target, 0, moved);
    return { ...g, children };
  });
  return [next, [...parent, target]];
}

/** Indent: into the group just above it (at its end), else into a new group of its own whose
 * operator is the other one (so that `a and b` → `a and (b or …)`: the next indent joins it). */
export function indent(root: BGroup, path: Path): [BGroup, Path] {
  if (path.length === 0) return [root, path];
  const parent = path.slice(0, -1);
  const index = path[path.length - 1] ?? 0;
  const group = nodeAt(root, parent);
  const node = nodeAt(root, path);
  if (group?.kind !== "group" || node === undefined) return [root, path];
  const above = index > 0 ? group.children[index - 1] : undefined;
  if (parent.length + 2 + depth(node) > MAX_DEPTH) return [root, path];
  if (above?.kind === "group") {
    const next = withGroup(root, parent, (g) => {
      const children = g.children.filter((_, i) => i !== index);
      const target = children[index - 1];
      if (target?.kind !== "group") return g;
      children[index - 1] = { ...target, children: [...target.children, node] };
      return { ...g, children };
    });
    return [next, [...parent, index - 1, above.children.length]];
  }
  const wrapper: BGroup = {
    kind: "group",
    key: nextKey(),
    operator: group.operator === "and" ? "or" : "and",
    negate: false,
    children: [node],
  };
  const next = withGroup(root, parent, (g) => {
    const children = g.children.slice();
    children[index] = wrapper;
    return { ...g, children };
  });
  return [next, [...path, 0]];
}

/** Outdent: out of its group, just after it; a group left empty goes. */
export function outdent(root: BGroup, path: Path): [BGroup, Path] {
  if (path.length < 2) return [root, path];
  const parent = path.slice(0, -1);
  const grand = parent.slice(0, -1);
  const parentIndex = parent[parent.length - 1] ?? 0;
  const index = path[path.length - 1] ?? 0;
  const group = nodeAt(root, parent);
  const node = nodeAt(root, path);
  if (group?.kind !== "group" || node === undefined) return [root, path];
  const emptied = group.children.length === 1;
  const next = withGroup(root, grand, (g) => {
    const children = g.children.slice();
    if (emptied) {
      children[parentIndex] = node;
    } else {
      children[parentIndex] = { ...group, children: group.children.filter((_, i) => i !== index) };
      children.splice(parentIndex + 1, 0, node);
    }
    return { ...g, children };
  });
  return [next, [...grand, emptied ? parentIndex : parentIndex + 1]];
}

/** A copy with the condition at `path` changed. */
export function updateCondition(root: BGroup, path: Path, patch: Partial<Omit<BCondition, "kind" | "key">>): BGroup {
  if (path.length === 0) return root;
  const parent = path.slice(0, -1);
  const index = path[path.length - 1] ?? 0;
  return withGroup(root, parent, (g) => {
    const child = g.children[index];
    if (child?.kind !== "condition") return g;
    const children = g.children.slice();
    children[index] = { ...child, ...patch };
    return { ...g, children };
  });
}

/** A copy with the group at `path` (the root: []) changed. */
export function updateGroup(root: BGroup, path: Path, patch: Partial<Pick<BGroup, "operator" | "negate">>): BGroup {
  return withGroup(root, path, (g) => ({ ...g, ...patch }));
}

/** Every node's path, depth first in order (the builder's rows and its arrow keys). */
export function paths(root: BGroup): Path[] {
  const found: Path[] = [];
  const walk = (group: BGroup, at: Path) => {
    group.children.forEach((child, index) => {
      const path = [...at, index];
      found.push(path);
      if (child.kind === "group") walk(child, path);
    });
  };
  walk(root, []);
  return found;
}

/** Whether a tree is one the server accepts structurally: nested groups not empty, depth and
 * size within the limits, every condition naming a field. */
export function structurallyValid(root: BGroup): boolean {
  const ok = (node: BNode, level: number): boolean => {
    if (node.kind === "condition") return node.field.trim() !== "";
    if (level > 0 && node.children.length === 0) return false;
    return node.children.every((child) => ok(child, level + 1));
  };
  return ok(root, 0) && depth(root) <= MAX_DEPTH && conditionCount(root) <= 200;
}
