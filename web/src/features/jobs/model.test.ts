import { describe, expect, it } from "vitest";
import {
  applyEvent,
  etaSeconds,
  etaWords,
  newlyFinished,
  noteWords,
  parseEvent,
  recordSamples,
  type Job,
  type JobList,
} from "./model";

function job(id: string, status: Job["status"], done = 0, total: number | null = null): Job {
  return {
    id,
    step: "fetch_tracks",
    status,
    cancel_requested: false,
    progress: { done, total, fraction: total ? done / total : null },
  };
}

const list = (items: Job[], total = items.length): JobList => ({ items, total, limit: 50, offset: 0 });

describe("the job event stream", () => {
  it("takes the snapshot as the whole truth", () => {
    const before = list([job("a", "running")]);
    const after = applyEvent(before, { kind: "snapshot", list: list([job("b", "done")], 7) });
    expect(after.items.map((j) => j.id)).toEqual(["b"]);
    expect(after.total).toBe(7);
  });

  it("replaces a known job in place and puts a new one first", () => {
    let state = applyEvent(undefined, { kind: "snapshot", list: list([job("a", "running", 1, 10), job("b", "done")]) });
    state = applyEvent(state, { kind: "job", job: job("a", "running", 5, 10) });
    expect(state.items.map((j) => [j.id, j.progress?.done])).toEqual([
      ["a", 5],
      ["b", 0],
    ]);
    expect(state.total).toBe(2);
    state = applyEvent(state, { kind: "job", job: job("c", "pending") });
    expect(state.items.map((j) => j.id)).toEqual(["c", "a", "b"]);
    expect(state.total).toBe(3);
  });

  it("never lets an older answer undo what the stream said since", () => {
    const at = (j: Job, updated_at: string): Job => ({ ...j, updated_at });
    let state = applyEvent(undefined, { kind: "snapshot", list: list([job("a", "running")]) });
    // The stream says the job was cancelled; the cancel request's own answer (the job as the
    // cancel found it, still running) arrives after it.
    state = applyEvent(state, { kind: "job", job: at(job("a", "cancelled"), "2026-12-07T16:00:02Z") });
    state = applyEvent(state, { kind: "job", job: at(job("a", "running"), "2026-12-07T16:00:01Z") });
    expect(state.items.map((j) => j.status)).toEqual(["cancelled"]);
    // Without times, a finished job still never goes back to running.
    state = applyEvent(state, { kind: "job", job: job("a", "running", 3, 10) });
    expect(state.items.map((j) => j.status)).toEqual(["cancelled"]);
    // A later state of a running job does replace it.
    state = applyEvent(state, { kind: "job", job: at(job("b", "running", 1, 10), "2026-12-07T16:00:01Z") });
    state = applyEvent(state, { kind: "job", job: at(job("b", "running", 4, 10), "2026-12-07T16:00:03Z") });
    expect(state.items.find((j) => j.id === "b")?.progress?.done).toBe(4);
  });

  it("after a reconnect, a fresh snapshot drops what the old connection showed", () => {
    let state = applyEvent(undefined, { kind: "snapshot", list: list([job("a", "running")]) });
    state = applyEvent(state, { kind: "job", job: job("gone", "running") });
    state = applyEvent(state, { kind: "snapshot", list: list([job("a", "failed")]) });
    expect(state.items).toEqual([job("a", "failed")]);
  });

  it("names the jobs that just finished, not those finished before", () => {
    const before = list([job("a", "running"), job("b", "done"), job("c", "pending")]);
    const after = list([job("a", "done"), job("b", "done"), job("c", "running")]);
    expect(newlyFinished(before, after).map((j) => j.id)).toEqual(["a"]);
    expect(newlyFinished(undefined, after)).toEqual([]);
  });

  it("reads only the events the server documents", () => {
    expect(parseEvent("snapshot", '{"items": [], "total": 0, "limit": 50, "offset": 0}')).toEqual({
      kind: "snapshot",
      list: list([]),
    });
    expect(parseEvent("job", '{"id": "x", "status": "running"}')?.kind).toBe("job");
    expect(parseEvent("job", "not json")).toBeNull();
    expect(parseEvent("snapshot", '{"id": "x"}')).toBeNull();
  });
});

describe("the time left", () => {
  it("comes from the rate since the job was first seen", () => {
    // 100 of 1,000 done in 10 s: 900 left at 10 a second.
    expect(etaSeconds({ at: 0, done: 0 }, { at: 10_000, done: 100 }, 1000)).toBe(90);
    expect(etaWords(90)).toBe("about 2\u00a0min left");
    expect(etaWords(12.2)).toBe("about 13\u00a0s left");
  });

  it("is unknown without a total, without time passing or without progress", () => {
    expect(etaSeconds({ at: 0, done: 0 }, { at: 10_000, done: 100 }, null)).toBeNull();
    expect(etaSeconds({ at: 0, done: 0 }, { at: 500, done: 100 }, 1000)).toBeNull();
    expect(etaSeconds({ at: 0, done: 50 }, { at: 10_000, done: 50 }, 1000)).toBeNull();
  });
});

describe("a throttling note", () => {
  it("counts down to when the work resumes", () => {
    const note = {
      kind: "throttled" as const,
      service: "Deezer",
      text: "Deezer asked us to slow down; resuming in 4 s",
      seconds: 4,
      until: "2026-12-07T10:00:04.000Z",
    };
    const start = Date.parse("2026-12-07T10:00:00.000Z");
    // A no-break space between the number and its unit: "4 s" never wraps across lines.
    expect(noteWords(note, start)).toBe("Deezer asked us to slow down; resuming in 4\u00a0s");
    expect(noteWords(note, start + 2_500)).toBe("Deezer asked us to slow down; resuming in 2\u00a0s");
    expect(noteWords(note, start + 2_500)).not.toMatch(/\d s/);
    expect(noteWords(note, start + 5_000)).toBe("Deezer asked us to slow down; resuming now");
  });
});

describe("the samples the time left is computed from", () => {
  it("keep the first sight of a job and its latest move, and forget it when it ends", () => {
    const at = (n: number, status: Job["status"] = "running") => ({
      kind: "job" as const,
      job: job("a", status, n, 100),
    });
    let samples = recordSamples(undefined, at(10), 0);
    samples = recordSamples(samples, at(30), 4_000);
    samples = recordSamples(samples, at(30), 9_000); // no progress: the latest move stays
    const seen = samples.a;
    expect(seen).toEqual({ first: { at: 0, done: 10 }, latest: { at: 4_000, done: 30 } });
    if (seen === undefined) return;
    expect(etaSeconds(seen.first, seen.latest, 100)).toBe(14);
    samples = recordSamples(samples, at(100, "done"), 12_000);
    expect(samples).toEqual({});
  });
});
