import { CompletionContext, type CompletionResult } from "@codemirror/autocomplete";
import { EditorState } from "@codemirror/state";
import { describe, expect, it } from "vitest";
import type { Completion } from "./api";
import { completionSource, diagnostics, problemRange, suggestion, type Problem } from "./language";

const field = (name: string, type: "text" | "number" | "date" | "track", operators: string[], list = false) => ({
  name,
  type,
  list,
  operators,
  examples: [],
  coverage: 1,
  origin: "enrichment",
  providers: [],
  declared_by: [],
  aliases: [],
  description: "",
  notes: [],
});

const data = {
  fields: [
    field("energy", "number", ["eq", "gt", "gte", "between", "exists"]),
    field("genres", "text", ["has_any", "has_none", "contains"], true),
    field("track", "track", ["in_playlist", "in_rule"]),
  ],
  values: {
    genres: [
      { value: "rock", tracks: 40 },
      { value: "jazz", tracks: 12 },
    ],
    playlists: [{ value: "Road trip", tracks: 30 }],
  },
  rule_sets: [{ id: "chill", name: "Chill", enabled: true }],
} as unknown as Completion;

function complete(doc: string, explicit = false): CompletionResult | null {
  const state = EditorState.create({ doc });
  const result = completionSource(() => data)(new CompletionContext(state, doc.length, explicit));
  return result instanceof Promise ? null : result;
}

describe("completion of the rules text", () => {
  it("offers fields (and clause keywords) for a word", () => {
    const result = complete("ene");
    expect(result?.from).toBe(0);
    expect(result?.options.map((o) => o.label)).toContain("energy");
    expect(result?.options.map((o) => o.label)).not.toContain("track");
  });

  it("offers the operators the field before the cursor takes, in their text form", () => {
    expect(complete("energy ")?.options.map((o) => o.label)).toEqual(["=", ">", ">=", "between", "is present"]);
    expect(complete("genres ha")?.options.map((o) => o.label)).toEqual(["has any", "has none", "contains"]);
    expect(complete("genres ha")?.from).toBe("genres ".length);
  });

  it("offers the values the library holds, quoted, most common first", () => {
    const result = complete('energy > 0.5 and genres has any ["ro');
    expect(result?.options.map((o) => o.label)).toEqual(['"rock"', '"jazz"']);
    expect(result?.from).toBe("energy > 0.5 and genres has any [".length);
    expect(complete('genres has any ["rock", "j')?.options.map((o) => o.label)).toEqual(['"rock"', '"jazz"']);
  });

  it("offers rule set ids after `in rule` and playlist names after `in playlist`", () => {
    expect(complete("in rule ")?.options.map((o) => o.label)).toEqual(['"chill"']);
    expect(complete('energy > 0.5 and in playlist "Ro')?.options.map((o) => o.label)).toEqual(['"Road trip"']);
  });

  it("offers nothing inside a comment", () => {
    expect(complete("# genres ")).toBeNull();
  });
});

describe("the server's problems in the editor", () => {
  const state = EditorState.create({ doc: 'energy > 0.5 and genre has any ["rock"]' });
  const problem: Problem = {
    message: "unknown field 'genre'",
    line: 1,
    column: 18,
    length: 5,
    hint: "did you mean 'genres'?",
    severity: "error",
  };

  it("sit at their line and column, with the did-you-mean as an action", () => {
    expect(problemRange(state, problem)).toEqual({ from: 17, to: 22 });
    const [diagnostic] = diagnostics(state, [problem]);
    expect(diagnostic?.actions?.map((a) => a.name)).toEqual(["Use 'genres'"]);
    expect(suggestion("expected ')'")).toBeNull();
  });

  it("stay inside the document when the server points past it", () => {
    expect(problemRange(state, { ...problem, line: 9 })).toEqual({ from: 0, to: 0 });
    expect(problemRange(state, { ...problem, column: 400 })).toEqual({ from: 39, to: 39 });
  });
});
