// The Enrichment screen's server state: the providers, the coverage, and running them.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { jobKeys } from "../jobs/api";
import { applyEvent, type JobList } from "../jobs/model";

export const enrichmentKeys = {
  all: ["enrichment"] as const,
  providers: () => [...enrichmentKeys.all, "providers"] as const,
  coverage: () => [...enrichmentKeys.all, "coverage"] as const,
};

export function useProviders() {
  return useQuery({
    queryKey: enrichmentKeys.providers(),
    queryFn: () => unwrap(api.GET("/data/providers")),
  });
}

/** Check every provider's service again now (the server keeps a check a minute otherwise). */
export function useCheckServices() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.GET("/data/providers", { params: { query: { refresh: true } } })),
    onSuccess: (providers) => {
      client.setQueryData(enrichmentKeys.providers(), providers);
    },
  });
}

/** Read again when a job ends (the job stream invalidates `["enrichment"]`). */
export function useCoverage() {
  return useQuery({
    queryKey: enrichmentKeys.coverage(),
    queryFn: () => unwrap(api.GET("/data/enrichments/coverage")),
  });
}

/** Start one enrich job over the given providers (null: every enabled one). */
export function useRunEnrich() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (providers: string[] | null) =>
      unwrap(api.POST("/pipeline/enrich", { body: { providers, refresh: false } })),
    onSuccess: (answer) => {
      for (const job of answer.jobs) {
        client.setQueryData<JobList>(jobKeys.recent(), (list) => applyEvent(list, { kind: "job", job }));
      }
    },
  });
}
