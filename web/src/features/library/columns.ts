// Which columns the table shows: presets, the user's choice (kept in localStorage), and a
// narrower set for a phone-sized window.

export const PRESETS: { id: string; label: string; fields: string[] }[] = [
  { id: "basics", label: "Basics", fields: ["name", "artists", "album", "duration", "added_at"] },
  {
    id: "audio",
    label: "Audio features",
    fields: [
      "name",
      "artists",
      "tempo",
      "energy",
      "danceability",
      "valence",
      "acousticness",
      "loudness",
      "key",
      "mode",
    ],
  },
  { id: "tags", label: "Tags & genres", fields: ["name", "artists", "genres", "tags", "mood", "subgenre", "era"] },
];

export const DEFAULT_FIELDS = ["name", "artists", "album", "duration", "added_at", "genres", "tags", "tempo", "energy"];
export const NARROW_FIELDS = ["name", "artists", "tempo"];

const KEY = "sap.library.columns";

export function storedColumns(storage: Storage = window.localStorage): string[] | null {
  try {
    const value: unknown = JSON.parse(storage.getItem(KEY) ?? "null");
    return Array.isArray(value) && value.every((item) => typeof item === "string") && value.length > 0 ? value : null;
  } catch {
    return null;
  }
}

export function storeColumns(fields: string[], storage: Storage = window.localStorage): void {
  storage.setItem(KEY, JSON.stringify(fields));
}

/** The chosen fields the library knows (a stored choice may name a field that is gone). */
export function knownFields(fields: string[], known: Set<string> | null): string[] {
  if (known === null) return fields;
  const kept = fields.filter((field) => known.has(field));
  return kept.length > 0 ? kept : ["name"];
}
