import { describe, expect, it } from "vitest";
import type { Job } from "../jobs/model";
import {
  providerBadge,
  type Provider,
  coverageGrid,
  currentEnrichJob,
  lastFailure,
  libraryLink,
  missingFilter,
  percent,
  type Coverage,
} from "./model";

const coverage: Coverage = {
  tracks: 200,
  providers: { deezer: { matched: 150, not_found: 50 }, reccobeats: { matched: 100, not_found: 0 } },
  fields: [
    { field: "tempo", tracks: 180, share: 0.9, providers: { reccobeats: 100, deezer: 150 } },
    { field: "energy", tracks: 100, share: 0.5, providers: { reccobeats: 100 } },
    { field: "mood", tracks: 1, share: 0.005, providers: { llm: 1 } },
  ],
};

describe("the coverage grid", () => {
  it("has a column per provider that gave anything, in the providers' order", () => {
    const grid = coverageGrid(coverage, ["musicbrainz", "deezer", "reccobeats"]);
    expect(grid.providers).toEqual(["deezer", "reccobeats", "llm"]);
    expect(grid.rows.map((row) => row.field)).toEqual(["tempo", "energy", "mood"]);
  });

  it("gives each cell its share of the library and each field the tracks that lack it", () => {
    const [tempo, energy] = coverageGrid(coverage, ["deezer", "reccobeats"]).rows;
    expect(tempo?.cells).toEqual({ deezer: { tracks: 150, share: 0.75 }, reccobeats: { tracks: 100, share: 0.5 } });
    expect(tempo?.any).toEqual({ tracks: 180, share: 0.9 });
    expect(tempo?.missing).toBe(20);
    expect(energy?.cells.deezer).toBeUndefined();
  });

  it("is empty for an empty library", () => {
    expect(coverageGrid({ tracks: 0, providers: {}, fields: [] }, ["deezer"])).toEqual({
      providers: [],
      rows: [],
      tracks: 0,
    });
  });

  it("says shares in whole percents, never rounding a few tracks up to none or all", () => {
    expect([percent(0), percent(0.005), percent(0.9253), percent(0.999), percent(1)]).toEqual([
      "0 %",
      "< 1 %",
      "92 %",
      "99 %",
      "100 %",
    ]);
  });
});

describe("the library link of a cell", () => {
  it("filters the library to the tracks that lack the field, in the rules language", () => {
    expect(missingFilter("tempo")).toBe("tempo is missing");
    expect(libraryLink(missingFilter("first_release_year"))).toBe("/library?filter=first_release_year+is+missing");
  });
});

describe("the enrich job the screen follows", () => {
  const job = (id: string, step: string, status: Job["status"]): Job => ({ id, step, status, cancel_requested: false });
  it("is the running one, else the latest", () => {
    expect(
      currentEnrichJob([job("f", "fetch_tracks", "running"), job("a", "enrich", "done"), job("b", "enrich", "running")])
        ?.id,
    ).toBe("b");
    expect(currentEnrichJob([job("a", "enrich", "failed"), job("c", "enrich", "done")])?.id).toBe("a");
    expect(currentEnrichJob([job("f", "fetch_tracks", "done")])).toBeNull();
  });
});

describe("why a provider's last run failed", () => {
  const enrich = (id: string, status: Job["status"], deezer: "done" | "failed" | "running"): Job => ({
    id,
    step: "enrich",
    status,
    cancel_requested: false,
    finished_at: "2026-12-07T10:00:00Z",
    progress: {
      done: 0,
      fraction: null,
      parts: [
        {
          id: "deezer",
          state: deezer,
          done: 0,
          error:
            deezer === "failed" ? { code: "provider_unavailable", message: "Deezer answered 503 five times" } : null,
        },
      ],
    },
  });

  it("is the latest finished run's error, not an older one's", () => {
    expect(lastFailure([enrich("b", "partial", "failed"), enrich("a", "done", "done")], "deezer")).toEqual({
      message: "Deezer answered 503 five times",
      at: "2026-12-07T10:00:00Z",
    });
    expect(lastFailure([enrich("b", "done", "done"), enrich("a", "partial", "failed")], "deezer")).toBeNull();
  });

  it("skips a running job and providers it did not run", () => {
    expect(lastFailure([enrich("c", "running", "running"), enrich("b", "partial", "failed")], "deezer")?.message).toBe(
      "Deezer answered 503 five times",
    );
    expect(lastFailure([enrich("b", "partial", "failed")], "lastfm")).toBeNull();
  });
});

describe("a provider's badge", () => {
  const base: Provider = {
    id: "deezer",
    type: "external",
    version: "1",
    enabled: true,
    reason_if_disabled: null,
    fields: [],
    description: "",
    match_methods: [],
    batch_size: 25,
    rate_limit: 9,
    settings: [],
    default: true,
    service: null,
  };
  const service = (state: "up" | "down" | "throttled") => ({
    url: "https://api.deezer.com",
    service: "Deezer",
    state,
    detail: "",
    retry_after: null,
    checked_at: "2026-12-07T10:00:00Z",
  });

  it.each([
    [base, false, "Ready"],
    [{ ...base, service: service("up") }, false, "Ready"],
    [{ ...base, service: service("down") }, false, "Service down"],
    [{ ...base, service: service("down") }, true, "Service down"],
    [{ ...base, service: service("throttled") }, false, "Slowed down"],
    [{ ...base, service: service("up") }, true, "Last run failed"],
    [{ ...base, enabled: false, service: null }, false, "Cannot run"],
    [{ ...base, type: "manual" as const }, false, "Yours"],
  ])("case %#", (provider, failed, words) => {
    expect(providerBadge(provider, failed).words).toBe(words);
  });
});
