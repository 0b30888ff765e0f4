// The rules editor's keys, listed by the `?` dialog (the shell imports this small file only,
// never the editor's chunk) and handled by Builder.tsx and EditorPage.tsx.
export const BUILDER_KEYS: [string[], string][] = [
  [["Ctrl", "S"], "Rules editor: save"],
  [["Alt", "Enter"], "Rules builder: add a condition after this row"],
  [["Alt", "→"], "Rules builder: indent into a group"],
  [["Alt", "←"], "Rules builder: outdent out of its group"],
  [["Alt", "↑"], "Rules builder: move up"],
  [["Alt", "↓"], "Rules builder: move down"],
  [["Alt", "Delete"], "Rules builder: delete the row (Delete on its handle too)"],
  [["↑"], "Rules builder: previous row (on a row's handle)"],
  [["↓"], "Rules builder: next row (on a row's handle)"],
];
