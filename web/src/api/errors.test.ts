import { describe, expect, it } from "vitest";
import { ApiError, describeCode, describeError } from "./errors";

describe("describeError", () => {
  it("words a known code and keeps the server's sentence as the detail", () => {
    const error = ApiError.fromBody(401, {
      error: "login_required",
      detail: "not connected to Spotify yet",
      auth_url: "http://127.0.0.1:8888/auth/login",
    });
    const words = describeError(error);
    expect(words.title).toBe("Spotify is not connected");
    expect(words.detail).toBe("not connected to Spotify yet");
    expect(words.action).toEqual({ label: "Connect Spotify", href: "/auth/login" });
  });

  it("says how long to wait when Spotify rate-limits", () => {
    const words = describeError(ApiError.fromBody(429, { error: "rate_limited", detail: "wait", retry_after: 41.2 }));
    expect(words.hint).toBe("Try again in about 42 seconds.");
  });

  it("explains an unreachable server without the browser's technical message", () => {
    const words = describeError(ApiError.network(new TypeError("Failed to fetch")));
    expect(words.title).toBe("The server is not answering");
    expect(words.detail).not.toContain("Failed to fetch");
    expect(words.hint).toContain("make run");
  });

  it("never shows raw JSON for a body it does not understand", () => {
    const words = describeError(ApiError.fromBody(502, { unexpected: { nested: true } }));
    expect(words.title).toBe("The server could not do that");
    expect(words.detail).toBeNull();
    expect(JSON.stringify(words)).not.toContain("nested");
  });

  it("titles an unknown code by its status and shows the server's sentence", () => {
    const words = describeError(ApiError.fromBody(409, { error: "something_new", detail: "the plan is stale" }));
    expect(words).toEqual({
      title: "That cannot be done right now",
      detail: "the plan is stale",
      hint: null,
      action: null,
    });
  });

  it("words a login callback's code alone", () => {
    expect(describeCode("login_denied").title).toBe("Spotify access was not granted");
    expect(describeCode("invalid_state").action?.href).toBe("/auth/login");
  });
});
