import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router";
import { describe, expect, it } from "vitest";
import type { Schemas } from "../../api/client";
import { CommandRegistry, CommandsProvider } from "../../app/commands";
import { ruleKeys, type RuleDoc } from "./api";
import { RulesPage } from "./RulesPage";

function rule(id: string, name: string, enabled = true): RuleDoc {
  return {
    id,
    name,
    enabled,
    auto_apply: false,
    dedupe: "none",
    schema_version: 1,
    sync_mode: "replace",
    text: "energy >= 0.5",
  };
}

function counted(id: string, name: string, tracks: number, minutes: number, enabled = true) {
  const removed = { rules: 0, excluded: 0, deduped: 0, over_limit: 0, artist_cap: 0, pins: 0 };
  return {
    rule_id: id,
    rule_name: name,
    enabled,
    track_count: tracks,
    candidates: tracks,
    matched: tracks,
    removed,
    duration_ms: minutes * 60_000,
    minutes,
    warnings: [],
  };
}

/** The list over a cache seeded with what the server answered (nothing is fetched). */
function list(rules: RuleDoc[], counts: Schemas["RuleSetCounts"]) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
  client.setQueryData(ruleKeys.list(), rules);
  client.setQueryData(ruleKeys.counts(rules.map((r) => r.id)), counts);
  client.setQueryData(ruleKeys.status(), []);
  render(
    <QueryClientProvider client={client}>
      <CommandsProvider registry={new CommandRegistry()}>
        <MemoryRouter>
          <RulesPage />
        </MemoryRouter>
      </CommandsProvider>
    </QueryClientProvider>,
  );
}

describe("the rules list", () => {
  it("shows each rule set's count and minutes from the counts-only answer, and the broken ones", () => {
    list([rule("loud", "Loud"), rule("bad", "Bad"), rule("off", "Off", false)], {
      counts: [counted("loud", "Loud", 12_345, 95.4), counted("off", "Off", 7, 30, false)],
      broken: [
        {
          rule_id: "bad",
          rule_name: "Bad",
          problems: [{ message: "name regex: invalid pattern", path: "rules", length: 1 }],
          broken_references: [],
        },
      ],
    });
    expect(screen.getByTestId("count-loud")).toHaveTextContent("12,345 · 1 h 35 min");
    expect(screen.getByTestId("count-off")).toHaveTextContent("7 · 30 min");
    expect(screen.getByTestId("count-bad")).toHaveTextContent("—");
    const bad = screen.getByRole("listitem", { name: "Bad" });
    expect(within(bad).getByText("Broken")).toBeInTheDocument();
    expect(within(bad).getByText("name regex: invalid pattern")).toBeInTheDocument();
  });
});
