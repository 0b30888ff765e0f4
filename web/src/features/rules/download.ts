// Files the browser saves: an answer of the API as a file the user downloads.
import { rulesFile } from "./api";

/** Saves `text` as a file named `name` (the browser's own download). */
export function download(name: string, text: string, type = "text/plain"): void {
  const url = URL.createObjectURL(new Blob([text], { type: `${type};charset=utf-8` }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 1000);
}

/** Every stored rule set as one rule file (what `sap rules export` writes). */
export async function downloadRulesFile(): Promise<number> {
  const answer = await rulesFile();
  download("rules.txt", answer.text);
  return answer.text.split("\n").filter((line) => /^\[[^\]]+\]/.test(line)).length;
}
