// The editor's server state: the rule set being edited, the completion data, and the calls that
// make the two views one model — parse (text → JSON) and format (JSON → text), both the server's
// — plus validate (the text view's diagnostics), the live count and save.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";

export type RuleSetDocument = Schemas["RuleSetDocument"];
export type RuleSetCount = Schemas["RuleSetCount"];
export type NodeCount = Schemas["NodeCount"];
export type Completion = Schemas["RuleCompletion"];
export type ParsedRules = Schemas["ParsedRules"];
export type ValidationReport = Schemas["ValidationReport"];
export type SortKey = Schemas["SortKey"];
export type LimitSpec = Schemas["LimitSpec"];

/** A rule set as the editor sends it: JSON, or JSON whose `text` holds rules and clauses. */
export type RuleSetBody = Record<string, unknown>;

export const editorKeys = {
  all: () => ["editor"] as const,
  ruleSet: (id: string) => ["editor", "rule-set", id] as const,
  completion: () => ["editor", "completion"] as const,
  count: (body: string) => ["editor", "count", body] as const,
};

export function useRuleSet(id: string | null) {
  return useQuery({
    queryKey: editorKeys.ruleSet(id ?? ""),
    queryFn: () => unwrap(api.GET("/data/rules/{rule_id}", { params: { path: { rule_id: id ?? "" } } })),
    enabled: id !== null,
    retry: false,
    staleTime: Infinity,
  });
}

export function useCompletion() {
  return useQuery({
    queryKey: editorKeys.completion(),
    queryFn: () => unwrap(api.GET("/data/rules/completion")),
    staleTime: 60_000,
  });
}

export function parseText(text: string): Promise<ParsedRules> {
  return unwrap(api.POST("/data/rules/parse", { body: { text } }));
}

export async function formatRules(parts: ParsedRules): Promise<string> {
  return (await unwrap(api.POST("/data/rules/format", { body: parts }))).text;
}

export function validate(body: RuleSetBody, signal?: AbortSignal): Promise<ValidationReport> {
  return unwrap(api.POST("/data/rules/validate", { body, signal }));
}

/** The live count of `body` (a JSON string, already debounced by the caller). A newer body
 * makes this query out of date, and TanStack Query aborts its request (the signal). */
export function useCount(body: string | null) {
  return useQuery({
    queryKey: editorKeys.count(body ?? ""),
    queryFn: ({ signal }) =>
      unwrap(
        api.POST("/pipeline/playlists/count", {
          body: JSON.parse(body ?? "{}") as RuleSetBody,
          signal,
        }),
      ),
    enabled: body !== null,
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 5_000,
  });
}

export function useSaveRuleSet() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: RuleSetBody) => unwrap(api.POST("/data/rules", { body })),
    onSuccess: (saved) => {
      client.setQueryData(editorKeys.ruleSet(saved.id), saved);
      void client.invalidateQueries({ queryKey: ["rules"] });
      void client.invalidateQueries({ queryKey: editorKeys.completion() });
    },
  });
}
