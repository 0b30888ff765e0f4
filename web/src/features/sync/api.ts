// The Sync screens' server state: rule sets, plans (made, read, applied), backups (listed,
// compared with the playlist now, restored) and unattended sync (its schedule, each rule set's
// choice, the last runs). Jobs come from the job stream (features/jobs), never polled.
import { useEffect } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { jobKeys, useRecentJobs } from "../jobs/api";
import { applyEvent, isFinished, type Job, type JobList } from "../jobs/model";
import type { StoredPlan, SyncMode } from "./model";

export const syncKeys = {
  all: ["sync"] as const,
  rules: () => [...syncKeys.all, "rules"] as const,
  plan: (id: string) => [...syncKeys.all, "plan", id] as const,
  backups: () => [...syncKeys.all, "backups"] as const,
  backupDiff: (id: string) => [...syncKeys.all, "backup-diff", id] as const,
  unattended: () => [...syncKeys.all, "unattended"] as const,
};

export function useRuleSets() {
  return useQuery({ queryKey: syncKeys.rules(), queryFn: () => unwrap(api.GET("/data/rules")) });
}

/** One stored plan (seeded by `usePlan`, read again after its apply). */
export function useStoredPlan(id: string) {
  return useQuery({
    queryKey: syncKeys.plan(id),
    queryFn: () => unwrap(api.GET("/pipeline/playlists/plans/{plan_id}", { params: { path: { plan_id: id } } })),
  });
}

export interface PlanRequest {
  ruleIds: string[] | null;
  mode: SyncMode | null;
  newPlaylistName: string | null;
}

/** Plan now (reads the live playlists); each plan is put in the cache under its id. */
export function usePlan() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (request: PlanRequest) =>
      unwrap(
        api.POST("/pipeline/playlists/plan", {
          body: { rule_ids: request.ruleIds, mode: request.mode, new_playlist_name: request.newPlaylistName },
        }),
      ),
    onSuccess: (answer) => {
      for (const plan of answer.plans) client.setQueryData<StoredPlan>(syncKeys.plan(plan.id), plan);
    },
  });
}

function useRemember() {
  const client = useQueryClient();
  return (job: Job) => {
    client.setQueryData<JobList>(jobKeys.recent(), (list) => applyEvent(list, { kind: "job", job }));
  };
}

export function useApply() {
  const remember = useRemember();
  return useMutation({
    mutationFn: ({ planId, force }: { planId: string; force: string[] }) =>
      unwrap(
        api.POST("/pipeline/playlists/apply", {
          body: { plan_id: planId, force: force as ("empty" | "remove_share" | "drift")[] },
        }),
      ),
    onSuccess: remember,
  });
}

export function useBackups() {
  return useQuery({ queryKey: syncKeys.backups(), queryFn: () => unwrap(api.GET("/pipeline/playlists/backups")) });
}

/** A backup against the playlist now: read when asked (it reads Spotify). */
export function useBackupDiff(id: string | null) {
  return useQuery({
    queryKey: syncKeys.backupDiff(id ?? ""),
    queryFn: () =>
      unwrap(api.GET("/pipeline/playlists/backups/{backup_id}/diff", { params: { path: { backup_id: id ?? "" } } })),
    enabled: id !== null,
    staleTime: 0,
  });
}

export function useRestore() {
  const remember = useRemember();
  return useMutation({
    mutationFn: (backupId: string) =>
      unwrap(api.POST("/pipeline/playlists/restore", { body: { backup_id: backupId } })),
    onSuccess: remember,
  });
}

export function useUnattended() {
  return useQuery({
    queryKey: syncKeys.unattended(),
    queryFn: () => unwrap(api.GET("/pipeline/playlists/unattended")),
  });
}

export function useSetAutoApply() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ ruleId, autoApply }: { ruleId: string; autoApply: boolean }) =>
      unwrap(
        api.PUT("/pipeline/playlists/unattended/{rule_id}", {
          params: { path: { rule_id: ruleId } },
          body: { auto_apply: autoApply },
        }),
      ),
    onSuccess: () => client.invalidateQueries({ queryKey: syncKeys.all }),
  });
}

/** A job as the stream last told it (null until it is known). */
export function useJob(id: string | null): Job | null {
  const jobs = useRecentJobs().data?.items ?? [];
  return id === null ? null : (jobs.find((job) => job.id === id) ?? null);
}

/** Read the Sync screens' data afresh once a sync job (apply, restore, sync) ends. */
export function useRefreshWhenSyncJobsEnd() {
  const client = useQueryClient();
  const jobs = useRecentJobs().data?.items ?? [];
  const finished = jobs
    .filter((job) => ["apply", "restore", "sync"].includes(job.step) && isFinished(job))
    .map((job) => job.id)
    .join(",");
  useEffect(() => {
    void client.invalidateQueries({ queryKey: syncKeys.all });
  }, [client, finished]);
}
