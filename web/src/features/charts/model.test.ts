import { describe, expect, it } from "vitest";
import { binLabel, chartTitle, clock, scaled } from "./model";

describe("the charts' words and numbers", () => {
  it("label bins as ranges, durations as minutes and seconds", () => {
    expect(binLabel("year", 1990, 1995)).toBe("1990–1995");
    expect(binLabel("energy", 0.2, 0.25)).toBe("0.2–0.25");
    expect(binLabel("duration", 180, 210)).toBe("3:00–3:30");
    expect(clock(65.4)).toBe("1:05");
  });

  it("scale bars to the largest count", () => {
    expect(scaled([5, 10, 0])).toEqual([0.5, 1, 0]);
    expect(scaled([])).toEqual([]);
    expect(scaled([0, 0])).toEqual([0, 0]);
  });

  it("name the charts", () => {
    expect(chartTitle("genres")).toBe("Top genres");
    expect(chartTitle("valence")).toBe("valence");
  });
});
