// How the library's values read in a cell and in a tooltip.
import type { Column, LibraryRow } from "./api";

type Value = LibraryRow["values"][string];

const DATE = new Intl.DateTimeFormat("en-GB", { year: "numeric", month: "short", day: "numeric" });
const STAMP = new Intl.DateTimeFormat("en-GB", {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "UTC",
  timeZoneName: "short",
});

export function formatValue(column: Column, value: Value | undefined): string {
  if (value === null || value === undefined) return "";
  if (Array.isArray(value)) return value.map((item) => formatValue({ ...column, list: false }, item)).join(", ");
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") {
    if (column.name === "duration")
      return `${Math.floor(value / 60)}:${String(Math.floor(value % 60)).padStart(2, "0")}`;
    return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
  }
  if (column.type === "date") {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? value : DATE.format(date);
  }
  return value;
}

export function formatStamp(at: string | null): string {
  if (at === null) return "time unknown";
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? at : STAMP.format(date);
}

/** "Deezer, 7 Dec 2026, 15:20 UTC; MusicBrainz, …" */
export function provenanceText(sources: LibraryRow["provenance"][string] | undefined): string | null {
  if (sources === undefined || sources.length === 0) return null;
  return sources.map((source) => `${providerName(source.provider)}, ${formatStamp(source.at)}`).join("; ");
}

const PROVIDERS: Record<string, string> = {
  deezer: "Deezer",
  musicbrainz: "MusicBrainz",
  reccobeats: "ReccoBeats",
  lastfm: "Last.fm",
  acousticbrainz: "AcousticBrainz",
  manual: "you (manual)",
};

export function providerName(id: string): string {
  return PROVIDERS[id] ?? id;
}
