// The text view: a CodeMirror 6 editor over the rules text syntax (language.ts). It owns its
// document while it is shown (typing never waits on React or the server); the page hears each
// change through `onChange` and hands back the server's problems, shown as diagnostics.
//
// The editor lives in a shadow root: CodeMirror injects its styles, and in a document it does
// so with <style> elements, which the server's Content-Security-Policy (`style-src 'self'`)
// refuses; in a shadow root it adopts constructed style sheets instead, which CSP allows. Its
// look (editorTheme, highlight) is written with the app's colour tokens, which custom
// properties carry into the shadow root, so light and dark follow the app.
import { completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { HighlightStyle, bracketMatching, syntaxHighlighting } from "@codemirror/language";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, placeholder } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { useEffect, useRef } from "react";
import type { Completion } from "./api";
import { diagnostics, rulesCompletion, rulesLanguage, type Problem } from "./language";
import styles from "./TextEditor.module.css";

const highlight = HighlightStyle.define([
  { tag: tags.keyword, color: "var(--info-soft-text)", fontWeight: "600" },
  { tag: [tags.operatorKeyword, tags.operator], color: "var(--danger-soft-text)" },
  { tag: tags.string, color: "var(--accent-soft-text)" },
  { tag: [tags.number, tags.atom], color: "var(--warning-soft-text)" },
  { tag: tags.comment, color: "var(--text-muted)", fontStyle: "italic" },
  { tag: tags.variableName, color: "var(--text)", fontWeight: "600" },
]);

const editorTheme = EditorView.theme({
  "&": {
    minHeight: "10rem",
    maxHeight: "28rem",
    backgroundColor: "var(--surface)",
    color: "var(--text)",
    fontSize: "var(--text-sm)",
  },
  "&.cm-focused": { outline: "none" },
  ".cm-scroller": { fontFamily: "var(--font-mono)", lineHeight: "1.6", minHeight: "10rem" },
  ".cm-content": { caretColor: "var(--text)" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--text)" },
  ".cm-gutters": {
    backgroundColor: "var(--surface-2)",
    color: "var(--text-muted)",
    borderRight: "1px solid var(--border)",
  },
  ".cm-placeholder": { color: "var(--text-muted)" },
  "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground": {
    backgroundColor: "var(--info-soft)",
  },
  ".cm-matchingBracket": { backgroundColor: "var(--accent-soft)", color: "var(--accent-soft-text)" },
  ".cm-tooltip": {
    backgroundColor: "var(--surface)",
    color: "var(--text)",
    border: "1px solid var(--border-strong)",
    borderRadius: "var(--radius-sm)",
    boxShadow: "var(--shadow)",
  },
  ".cm-tooltip-autocomplete > ul > li[aria-selected]": {
    backgroundColor: "var(--accent)",
    color: "var(--accent-contrast)",
  },
  ".cm-completionDetail": { color: "inherit", opacity: "0.85" },
  ".cm-diagnostic": { color: "var(--text)" },
  ".cm-diagnostic-error": { borderLeftColor: "var(--danger)" },
  ".cm-diagnosticAction": {
    backgroundColor: "var(--accent)",
    color: "var(--accent-contrast)",
    borderRadius: "var(--radius-sm)",
    font: "inherit",
  },
  ".cm-lintRange-error": { textDecoration: "underline wavy var(--danger)", backgroundImage: "none" },
});

export function TextEditor({
  initial,
  onChange,
  problems,
  completion,
  onView,
  label,
}: {
  initial: string;
  onChange: (text: string) => void;
  problems: Problem[];
  completion: Completion | undefined;
  onView: (view: EditorView | null) => void;
  label: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const latest = useRef({ onChange, completion });
  useEffect(() => {
    latest.current = { onChange, completion };
  });

  useEffect(() => {
    const element = host.current;
    if (element === null) return;
    const shadow = element.shadowRoot ?? element.attachShadow({ mode: "open" });
    const parent = document.createElement("div");
    shadow.replaceChildren(parent);
    const created = new EditorView({
      parent,
      root: shadow,
      state: EditorState.create({
        doc: initial,
        extensions: [
          lineNumbers(),
          history(),
          bracketMatching(),
          rulesLanguage,
          syntaxHighlighting(highlight),
          editorTheme,
          rulesCompletion(() => latest.current.completion),
          lintGutter(),
          placeholder('e.g. genres has any ["rock"] and energy > 0.6'),
          EditorView.lineWrapping,
          keymap.of([...completionKeymap, ...defaultKeymap, ...historyKeymap]),
          EditorView.contentAttributes.of({ "aria-label": label, spellcheck: "false" }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) latest.current.onChange(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = created;
    onView(created);
    return () => {
      onView(null);
      created.destroy();
      view.current = null;
    };
    // The editor is created once per mount: later `initial` values are the page's echo of it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const current = view.current;
    if (current === null) return;
    current.dispatch(setDiagnostics(current.state, diagnostics(current.state, problems)));
  }, [problems]);

  return <div ref={host} className={styles.editor} data-testid="rules-text" />;
}
