// The rules screens' server state: rule sets and their counts (one counts-only request for
// all), their standing with Spotify (stored plans; "check" plans them all afresh), a rule set's
// playlist as library pages and charts (`rule` on the library query), explain, overlaps,
// starters, and the files in and out (.nsp, rule files).
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";

export type RuleDoc = Schemas["RuleSetDocument"];
export type SyncState = Schemas["RuleSetStanding"];
export type Explanation = Schemas["Explanation"];
export type Overlaps = Schemas["Overlaps"];
export type Starter = Schemas["Starter"];
export type NspReport = Schemas["NspImportReport"];
export type RulesFilePreview = Schemas["RulesFilePreview"];
export type Distributions = Schemas["Distributions"];

/** A rule set as the server takes it: JSON (the document without its text), saved or not. */
export type RuleBody = Record<string, unknown>;

export const ruleKeys = {
  all: () => ["rules"] as const,
  list: () => ["rules", "list"] as const,
  counts: (ids: string[]) => ["rules", "counts", ids] as const,
  status: () => ["rules", "sync-status"] as const,
  one: (id: string) => ["rules", "one", id] as const,
  count: (rule: RuleBody) => ["rules", "count", rule] as const,
  charts: (rule: RuleBody | null, top: number) => ["rules", "charts", rule, top] as const,
  explain: (trackId: string, rule: RuleBody) => ["rules", "explain", trackId, rule] as const,
  overlaps: () => ["rules", "overlaps"] as const,
  starters: () => ["rules", "starters"] as const,
};

/** The JSON of a stored rule set as the server takes it back (its text is derived). */
export function ruleBody(rule: RuleDoc): RuleBody {
  const body: Record<string, unknown> = { ...rule };
  delete body.text;
  return body;
}

export function useRuleSets() {
  return useQuery({ queryKey: ruleKeys.list(), queryFn: () => unwrap(api.GET("/data/rules")) });
}

export function useRuleSet(id: string) {
  return useQuery({
    queryKey: ruleKeys.one(id),
    queryFn: () => unwrap(api.GET("/data/rules/{rule_id}", { params: { path: { rule_id: id } } })),
    retry: false,
  });
}

/** Counts, minutes and the broken ones of every stored rule set (disabled ones too): the
 * counts-only answer, without the track ids a preview carries. Keyed by the listed `ids`, so a
 * change to the list asks again; the body asks for every stored one, so a rule set deleted
 * meanwhile is not an unknown id (404) but simply left out. */
export function useRuleSetCounts(ids: string[] | undefined) {
  return useQuery({
    queryKey: ruleKeys.counts(ids ?? []),
    queryFn: () => unwrap(api.POST("/pipeline/playlists/counts", { body: {} })),
    enabled: ids !== undefined && ids.length > 0,
    placeholderData: keepPreviousData,
  });
}

export function useSyncStatus() {
  return useQuery({ queryKey: ruleKeys.status(), queryFn: () => unwrap(api.GET("/pipeline/playlists/sync-status")) });
}

/** "Check against Spotify": plans every enabled rule set with a target (reads Spotify). */
export function useCheckAll() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/pipeline/playlists/plan", { body: {} })),
    onSettled: () => client.invalidateQueries({ queryKey: ruleKeys.status() }),
  });
}

export function useSaveRule() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: RuleBody) => unwrap(api.POST("/data/rules", { body })),
    onSettled: () => client.invalidateQueries({ queryKey: ruleKeys.all() }),
  });
}

export function useDeleteRule() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/data/rules/{rule_id}", { params: { path: { rule_id: id } } })),
    onSettled: () => client.invalidateQueries({ queryKey: ruleKeys.all() }),
  });
}

export function exportNsp(id: string) {
  return unwrap(api.GET("/data/rules/{rule_id}/export-nsp", { params: { path: { rule_id: id } } }));
}

export function useImportNsp() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (nsp: Record<string, unknown>) => unwrap(api.POST("/data/rules/import-nsp", { body: { nsp } })),
    onSettled: () => client.invalidateQueries({ queryKey: ruleKeys.all() }),
  });
}

export function rulesFile() {
  return unwrap(api.GET("/data/rules/export"));
}

export function useCheckRulesFile() {
  return useMutation({
    mutationFn: (text: string) => unwrap(api.POST("/data/rules-file/check", { body: { text } })),
  });
}

export function useApplyRulesFile() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (text: string) => unwrap(api.POST("/data/rules-file", { body: { text } })),
    onSettled: () => client.invalidateQueries({ queryKey: ruleKeys.all() }),
  });
}

/** One rule set's count, minutes and what each stage removed (saved or not). */
export function useCount(rule: RuleBody) {
  return useQuery({
    queryKey: ruleKeys.count(rule),
    queryFn: () => unwrap(api.POST("/pipeline/playlists/count", { body: rule })),
    placeholderData: keepPreviousData,
    retry: false,
  });
}

const CHART_FIELDS = ["tempo", "energy", "year", "genres"];

/** The charts of a rule set's playlist (`rule`) or of the whole library (null), on the same
 * histogram bins; `top` values of the text fields (the library's: enough to find the
 * playlist's top values among them). */
export function useCharts(rule: RuleBody | null, top: number) {
  return useQuery({
    queryKey: ruleKeys.charts(rule, top),
    queryFn: () =>
      unwrap(
        api.POST("/data/library/distributions", { body: { fields: CHART_FIELDS, bins: 16, top, rule } }),
      ) as Promise<Distributions>,
    retry: false,
  });
}

export function useExplain(trackId: string | null, rule: RuleBody) {
  return useQuery({
    queryKey: ruleKeys.explain(trackId ?? "", rule),
    queryFn: () => unwrap(api.POST("/pipeline/playlists/explain", { body: { track_id: trackId ?? "", rule } })),
    enabled: trackId !== null,
    retry: false,
  });
}

export function useOverlaps() {
  return useQuery({ queryKey: ruleKeys.overlaps(), queryFn: () => unwrap(api.GET("/pipeline/playlists/overlaps")) });
}

export function useStarters() {
  return useQuery({ queryKey: ruleKeys.starters(), queryFn: () => unwrap(api.GET("/pipeline/playlists/starters")) });
}
