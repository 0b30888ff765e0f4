// What a chart shows, as words and numbers: bar labels, heights, the field's name.
import type { Schemas } from "../../api/client";

export type Distribution = Schemas["Distribution"];

const TITLES: Record<string, string> = {
  year: "Release year",
  tempo: "Tempo (BPM)",
  energy: "Energy",
  duration: "Duration",
  genres: "Top genres",
  tags: "Top tags",
};

export function chartTitle(field: string): string {
  return TITLES[field] ?? field;
}

function number(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}

/** A bin's range as people read it: "1990–1995", "0.2–0.25", "3:00–3:30" for a duration. */
export function binLabel(field: string, low: number, high: number): string {
  if (field === "duration") return `${clock(low)}–${clock(high)}`;
  return `${number(low)}–${number(high)}`;
}

/** Seconds as m:ss. */
export function clock(seconds: number): string {
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** Each count's share of the largest (bar lengths, 0–1). */
export function scaled(counts: number[]): number[] {
  const most = Math.max(0, ...counts);
  return counts.map((count) => (most > 0 ? count / most : 0));
}
