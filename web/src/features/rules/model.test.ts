import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/client";
import { ago, copyId, minutesText, newRuleLink, outcomeText, ruleStatus, valueText } from "./model";

const NOW = new Date("2026-12-07T12:00:00Z");

function state(
  status: Schemas["RuleSetStanding"]["status"],
  extra: Partial<Schemas["RuleSetStanding"]> = {},
): Schemas["RuleSetStanding"] {
  return { rule_id: "r", status, checked_at: "2026-12-07T11:55:00Z", plan: null, last_apply: null, ...extra };
}

describe("a rule set's status in words", () => {
  it("says broken with the first problem, whatever the plan said", () => {
    const broken = {
      rule_id: "r",
      rule_name: "R",
      problems: [{ message: "unknown rule 'x'", length: 1 }],
      broken_references: [],
    };
    expect(ruleStatus(broken as Schemas["BrokenRuleSet"], state("in sync"), true, NOW)).toEqual({
      label: "Broken",
      tone: "danger",
      detail: "unknown rule 'x'",
    });
  });

  it("reads the latest plan with its age", () => {
    expect(ruleStatus(undefined, state("in sync"), true, NOW).detail).toBe("nothing to change (checked 5 min ago)");
    expect(ruleStatus(undefined, state("drift"), true, NOW).label).toBe("Drift");
    expect(ruleStatus(undefined, undefined, true, NOW).label).toBe("Not checked");
    expect(ruleStatus(undefined, undefined, false, NOW).label).toBe("No target");
    const plan = {
      summary: { adds: 3, removes: 1, moves: 2, kept: 0, duplicates: 0, writes: 3, excluded: 0 },
      guards: [],
    } as unknown as Schemas["PlanBrief"];
    expect(ruleStatus(undefined, state("would change", { plan }), true, NOW).label).toBe("Would change +3 −1 ~2");
  });
});

describe("words and links", () => {
  it("ages, copies, minutes and values", () => {
    expect(ago(new Date("2026-12-07T11:59:30Z"), NOW)).toBe("just now");
    expect(ago(new Date("2026-12-05T12:00:00Z"), NOW)).toBe("2 days ago");
    expect(copyId("fast", new Set(["fast", "fast-copy"]))).toBe("fast-copy-2");
    expect(minutesText(42.4)).toBe("42 min");
    expect(minutesText(125)).toBe("2 h 05 min");
    expect(valueText([128.456, "x"])).toBe("128.5, x");
    expect(valueText(null)).toBe("no value");
    expect(outcomeText("over limit")).toBe("Out: beyond the limit");
  });

  it("opens the editor prefilled with the text in the URL", () => {
    expect(newRuleLink('genres has any ["jazz"]\nsort by added_at desc')).toBe(
      "/rules/new?text=genres%20has%20any%20%5B%22jazz%22%5D%0Asort%20by%20added_at%20desc",
    );
  });
});
