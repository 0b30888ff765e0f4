import { afterEach, describe, expect, it } from "vitest";
import { NEXT_THEME, setTheme } from "./theme";

afterEach(() => {
  setTheme("system");
});

describe("setTheme", () => {
  it("applies and remembers a chosen theme, and forgets it for the system's", () => {
    setTheme("dark");
    expect(document.documentElement.dataset.theme).toBe("dark");
    expect(window.localStorage.getItem("sap.theme")).toBe("dark");
    setTheme("system");
    expect(document.documentElement.dataset.theme).toBeUndefined();
    expect(window.localStorage.getItem("sap.theme")).toBeNull();
  });

  it("cycles system, light, dark", () => {
    expect([NEXT_THEME.system, NEXT_THEME.light, NEXT_THEME.dark]).toEqual(["light", "dark", "system"]);
  });
});
