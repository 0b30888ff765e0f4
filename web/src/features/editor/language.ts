// The rules text syntax for CodeMirror: highlighting that mirrors the grammar
// (app/pipeline/rules/text/grammar.lark: keywords, operators, strings, numbers, dates, spans,
// comments), completion of fields, of the operators valid for the field before the cursor and
// of the values the library holds (GET /data/rules/completion), and the server's problems as
// diagnostics at their line and column, with "did you mean" hints as one-click fixes.
import {
  autocompletion,
  type Completion as Option,
  type CompletionContext,
  type CompletionResult,
} from "@codemirror/autocomplete";
import { StreamLanguage, type StringStream } from "@codemirror/language";
import type { Diagnostic } from "@codemirror/lint";
import type { EditorState } from "@codemirror/state";
import type { EditorView } from "@codemirror/view";
import type { Completion } from "./api";
import { OPERATORS } from "./operators";
import type { Operator } from "./model";

/** Words the grammar reserves or uses in clauses (case-insensitive). */
const KEYWORDS = new Set([
  "and", "or", "not", "from", "liked", "playlist", "csv", "sort", "by", "asc", "desc", "seed",
  "limit", "tracks", "track", "minutes", "minute", "percent", "selected", "dedupe", "max", "per",
  "artist", "case", "sensitive", "accent", "accents", "insensitive",
]); // prettier-ignore
const OPERATOR_WORDS = new Set(
  Object.values(OPERATORS).flatMap(({ text }) => text.split(" ").filter((word) => /^[a-z]+$/.test(word))),
);
const DATE = /^[0-9]{4}-[0-9]{2}(?:-[0-9]{2}(?:T[0-9:.]+(?:Z|[+-][0-9]{2}:[0-9]{2})?)?)?/;
const SPAN = /^[0-9]+(?:mo|h|d|w|y)(?![\w.])/;
const NUMBER = /^-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/;

interface State {
  /** The previous word was `in`/`not`: `rule` and `playlist` after them are operator words. */
  afterIn: boolean;
}

/** The grammar's tokens, as CodeMirror's highlighting tags. */
export const rulesLanguage = StreamLanguage.define<State>({
  name: "sap-rules",
  startState: () => ({ afterIn: false }),
  token(stream: StringStream, state: State): string | null {
    if (stream.eatSpace()) return null;
    if (stream.match("#")) {
      stream.skipToEnd();
      return "comment";
    }
    if (stream.match(/^"(?:[^"\\\n]|\\.)*"?/)) return "string";
    if (stream.match(DATE)) return "atom";
    if (stream.match(SPAN)) return "atom";
    if (stream.match(NUMBER)) return "number";
    if (stream.match(/^(?:!=|>=|<=|=|>|<|\.\.)/)) return "operator";
    if (stream.match(/^[()[\],%]/)) return "punctuation";
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/);
    if (word) {
      const text = stream.current().toLowerCase();
      const wasIn = state.afterIn;
      state.afterIn = text === "in" || text === "not";
      if (text === "true" || text === "false") return "atom";
      if (wasIn && (text === "rule" || text === "playlist")) return "operatorKeyword";
      if (OPERATOR_WORDS.has(text) || text === "is" || text === "present" || text === "missing") {
        return "operatorKeyword";
      }
      if (KEYWORDS.has(text)) return "keyword";
      return "variableName";
    }
    stream.next();
    return null;
  },
  languageData: { commentTokens: { line: "#" } },
});

// --- completion --------------------------------------------------------------------------------

const CLAUSES = ["sort by ", "limit ", "from liked", "dedupe by ", "max ", "in rule ", "in playlist ", "not "];
const byLength = (words: string[]) => words.slice().sort((a, b) => b.length - a.length);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const OPERATOR_PATTERN = byLength(Object.values(OPERATORS).map(({ text }) => text))
  .map(escape)
  .join("|");
/** `field operator [ "a", "b` up to the cursor: the field and the value typed so far. */
const VALUE_BEFORE = new RegExp(
  `([A-Za-z_][\\w.]*|"[^"]*")\\s+(${OPERATOR_PATTERN})\\s*(?:\\[(?:\\s*"[^"]*"\\s*,)*)?\\s*("[^"]*)?$`,
  "i",
);
const REF_BEFORE = /\bin\s+(rule|playlist)\s+("[^"]*)?$/i;
const OPERATOR_BEFORE = /(?:^|[\s(])([A-Za-z_][\w.]*)\s+([a-z!=<>]*)$/i;
const WORD_BEFORE = /[A-Za-z_][\w.]*$/;

function quote(value: string): string {
  return JSON.stringify(value);
}

/** Completes fields, operators valid for a field, and known values. */
export function completionSource(data: () => Completion | undefined) {
  return (context: CompletionContext): CompletionResult | null => {
    const known = data();
    if (known === undefined) return null;
    const line = context.state.doc.lineAt(context.pos);
    const before = line.text.slice(0, context.pos - line.from);
    if (before.includes("#")) return null;
    const ref = REF_BEFORE.exec(before);
    if (ref !== null) {
      const typed = ref[2] ?? "";
      const options: Option[] =
        ref[1]?.toLowerCase() === "rule"
          ? known.rule_sets.map((rule) => ({ label: quote(rule.id), detail: rule.name, type: "constant" }))
          : (known.values.playlists ?? []).map((v) => ({
              label: quote(v.value),
              detail: `${String(v.tracks)} tracks`,
              type: "constant",
            }));
      return { from: context.pos - typed.length, options, validFor: /^"[^"]*$/ };
    }
    const value = VALUE_BEFORE.exec(before);
    if (value !== null && (value[3] !== undefined || context.explicit || /\s$|\[$/.test(before))) {
      const field = (value[1] ?? "").replace(/^"|"$/g, "");
      const values = known.values[field] ?? [];
      if (values.length > 0) {
        const typed = value[3] ?? "";
        return {
          from: context.pos - typed.length,
          options: values.map((v) => ({
            label: quote(v.value),
            detail: `${String(v.tracks)} tracks`,
            type: "constant",
          })),
          validFor: /^"[^"]*$/,
        };
      }
    }
    const operator = OPERATOR_BEFORE.exec(before);
    const fieldRow = operator !== null ? known.fields.find((f) => f.name === operator[1]) : undefined;
    if (operator !== null && fieldRow !== undefined) {
      const typed = operator[2] ?? "";
      return {
        from: context.pos - typed.length,
        options: fieldRow.operators.map((op: Operator) => ({
          label: OPERATORS[op].text,
          detail: op,
          type: "keyword",
          apply: OPERATORS[op].shape === "none" ? OPERATORS[op].text : `${OPERATORS[op].text} `,
        })),
        validFor: /^[a-z!=<>]*$/i,
      };
    }
    const word = context.matchBefore(WORD_BEFORE);
    if (word === null && !context.explicit) return null;
    const options: Option[] = [
      ...known.fields
        .filter((f) => f.name !== "track")
        .map((f) => ({
          label: f.name,
          detail: `${f.type}${f.list ? " list" : ""}`,
          info: f.description,
          type: "variable",
          apply: `${f.name} `,
          boost: f.coverage === 0 ? -10 : 0,
        })),
      ...CLAUSES.map((clause) => ({ label: clause.trim(), type: "keyword", apply: clause })),
    ];
    return { from: word?.from ?? context.pos, options, validFor: WORD_BEFORE };
  };
}

export function rulesCompletion(data: () => Completion | undefined) {
  return autocompletion({ override: [completionSource(data)], activateOnTyping: true });
}

// --- diagnostics -------------------------------------------------------------------------------

export interface Problem {
  message: string;
  line?: number | null;
  column?: number | null;
  length?: number;
  hint?: string | null;
  severity: "error" | "warning";
}

/** The replacement a "did you mean 'x'?" hint suggests, if it does. */
export function suggestion(hint: string | null | undefined): string | null {
  const found = hint ? /did you mean '([^']+)'/.exec(hint) : null;
  return found?.[1] ?? null;
}

/** Where a problem is in the document (line and column are 1-based), clamped to it. */
export function problemRange(state: EditorState, problem: Problem): { from: number; to: number } {
  const doc = state.doc;
  if (problem.line === null || problem.line === undefined || problem.line > doc.lines) return { from: 0, to: 0 };
  const line = doc.line(Math.max(1, problem.line));
  const from = Math.min(line.to, line.from + Math.max(0, (problem.column ?? 1) - 1));
  return { from, to: Math.min(line.to, from + Math.max(1, problem.length ?? 1)) };
}

/** Applies a problem's suggested fix: its range replaced by the suggestion (quoted if the
 * range was). Returns false when there is nothing to apply. */
export function applyFix(view: EditorView, problem: Problem): boolean {
  const replacement = suggestion(problem.hint);
  if (replacement === null) return false;
  const { from, to } = problemRange(view.state, problem);
  const current = view.state.sliceDoc(from, to);
  const insert = current.startsWith('"') ? quote(replacement) : replacement;
  view.dispatch({ changes: { from, to, insert }, selection: { anchor: from + insert.length } });
  return true;
}

export function diagnostics(state: EditorState, problems: Problem[]): Diagnostic[] {
  return problems.map((problem) => {
    const { from, to } = problemRange(state, problem);
    const fix = suggestion(problem.hint);
    return {
      from,
      to,
      severity: problem.severity,
      message: problem.hint ? `${problem.message} — ${problem.hint}` : problem.message,
      actions:
        fix === null
          ? []
          : [
              {
                name: `Use '${fix}'`,
                apply: (view: EditorView) => {
                  applyFix(view, problem);
                },
              },
            ],
    };
  });
}
