// The Charts screen's data: one request for every chart (`GET /data/library/distributions`),
// read again when a job ends (the job stream invalidates ["charts"]).
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";

export const chartKeys = {
  all: ["charts"] as const,
  distributions: () => [...chartKeys.all, "distributions"] as const,
};

export function useDistributions() {
  return useQuery({
    queryKey: chartKeys.distributions(),
    queryFn: () => unwrap(api.GET("/data/library/distributions", { params: { query: { bins: 20, top: 12 } } })),
  });
}
