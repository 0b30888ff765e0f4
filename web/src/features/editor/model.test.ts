import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  fromModel,
  indent,
  insertAfter,
  move,
  newCondition,
  nodeAt,
  outdent,
  paths,
  remove,
  structurallyValid,
  toModel,
  updateCondition,
  updateGroup,
  type BGroup,
  type Operator,
  type Path,
  type RuleCondition,
  type RuleGroup,
} from "./model";
import { OPERATORS } from "./operators";

const operators = Object.keys(OPERATORS) as Operator[];

const condition: fc.Arbitrary<RuleCondition> = fc.record({
  field: fc.constantFrom("energy", "genres", "year", "added_at", "track", "name"),
  operator: fc.constantFrom(...operators),
  value: fc.oneof(
    fc.constant(null),
    fc.integer(),
    fc.string(),
    fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 }),
    fc.constantFrom("30d", "2w"),
  ),
  case_sensitive: fc.boolean(),
  accent_insensitive: fc.boolean(),
});

/** Rule groups as the server accepts them: nested groups never empty, at most 5 deep. */
const group: fc.Arbitrary<RuleGroup> = fc.letrec<{ group: RuleGroup; node: RuleCondition | RuleGroup }>((tie) => ({
  group: fc.record({
    operator: fc.constantFrom("and" as const, "or" as const),
    negate: fc.boolean(),
    conditions: fc.array(tie("node"), { minLength: 1, maxLength: 4 }),
  }),
  node: fc.oneof({ depthSize: "small", maxDepth: 4 }, condition, tie("group")),
})).group;

const root: fc.Arbitrary<RuleGroup> = fc.oneof(
  group,
  fc.constant<RuleGroup>({ operator: "and", negate: false, conditions: [] }),
);

type Edit =
  | { kind: "add" | "remove" | "up" | "down" | "indent" | "outdent" | "field" | "toggle"; at: number }
  | { kind: "group"; at: number; operator: "and" | "or"; negate: boolean };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    kind: fc.constantFrom(
      "add" as const,
      "remove" as const,
      "up" as const,
      "down" as const,
      "indent" as const,
      "outdent" as const,
      "field" as const,
      "toggle" as const,
    ),
    at: fc.nat(),
  }),
  fc.record({
    kind: fc.constant("group" as const),
    at: fc.nat(),
    operator: fc.constantFrom("and" as const, "or" as const),
    negate: fc.boolean(),
  }),
);

function apply(tree: BGroup, change: Edit): BGroup {
  const all = paths(tree);
  const path: Path = all.length === 0 ? [] : (all[change.at % all.length] ?? []);
  switch (change.kind) {
    case "add":
      return insertAfter(
        tree,
        path,
        newCondition({ field: "year", operator: "gte", value: 2000, case_sensitive: false, accent_insensitive: false }),
      )[0];
    case "remove":
      return remove(tree, path)[0];
    case "up":
      return move(tree, path, -1)[0];
    case "down":
      return move(tree, path, 1)[0];
    case "indent":
      return indent(tree, path)[0];
    case "outdent":
      return outdent(tree, path)[0];
    case "field":
      return updateCondition(tree, path, { field: "tempo", operator: "between", value: [100, 120] });
    case "toggle":
      return updateCondition(tree, path, { case_sensitive: true });
    case "group": {
      const target = nodeAt(tree, path)?.kind === "group" ? path : path.slice(0, -1);
      return updateGroup(tree, target, { operator: change.operator, negate: change.negate });
    }
  }
}

describe("the builder's model", () => {
  it("gives back the rule model it was made from (model → builder → model is identity)", () => {
    fc.assert(
      fc.property(root, (model) => {
        expect(toModel(fromModel(model))).toEqual(model);
      }),
      { numRuns: 400 },
    );
  });

  it("keeps a valid model through any sequence of edits, and the edited model round-trips", () => {
    fc.assert(
      fc.property(root, fc.array(edit, { maxLength: 25 }), (model, edits) => {
        let tree = fromModel(model);
        for (const change of edits) {
          tree = apply(tree, change);
          expect(structurallyValid(tree)).toBe(true);
        }
        const edited = toModel(tree);
        expect(toModel(fromModel(edited))).toEqual(edited);
      }),
      { numRuns: 400 },
    );
  });

  it("indents into a group, the next indent joins it, outdent takes it back", () => {
    const c = (field: string): RuleCondition => ({
      field,
      operator: "exists",
      value: null,
      case_sensitive: false,
      accent_insensitive: false,
    });
    let tree = fromModel({ operator: "and", negate: false, conditions: [c("a"), c("b"), c("c")] });
    let at: Path;
    [tree, at] = indent(tree, [1]);
    expect(at).toEqual([1, 0]);
    [tree, at] = indent(tree, [2]);
    expect(at).toEqual([1, 1]);
    expect(toModel(tree)).toEqual({
      operator: "and",
      negate: false,
      conditions: [c("a"), { operator: "or", negate: false, conditions: [c("b"), c("c")] }],
    });
    [tree, at] = outdent(tree, [1, 0]);
    expect(at).toEqual([2]);
    [tree, at] = move(tree, at, -1);
    expect(at).toEqual([1]);
    [tree, at] = remove(tree, [2, 0]);
    expect(at).toEqual([1]);
    expect(toModel(tree)).toEqual({ operator: "and", negate: false, conditions: [c("a"), c("b")] });
  });
});
