// The Sources screen's server state: the Spotify playlists, what was fetched, and the two ways
// to start fetching (sources, CSV uploads).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../../api/client";

export type Playlist = Schemas["PlaylistSummary"];
export type FetchedSource = Schemas["SourceSummary"];
export type SourceRequest = Schemas["SourceRequest"];
export type Job = Schemas["PipelineJob"];

export const sourceKeys = {
  playlists: () => ["spotify", "playlists"] as const,
  fetched: () => ["library", "sources"] as const,
};

export function usePlaylists(enabled: boolean) {
  return useQuery({
    queryKey: sourceKeys.playlists(),
    queryFn: () => unwrap(api.GET("/spotify/playlists")),
    enabled,
  });
}

/** Every fetched source with its counts and when it was fetched (from the library aggregate:
 * one track is asked for, the sources come whole). */
export function useFetchedSources() {
  return useQuery({
    queryKey: sourceKeys.fetched(),
    queryFn: async () =>
      (await unwrap(api.GET("/pipeline/tracks/aggregate", { params: { query: { limit: 1 } } }))).sources,
  });
}

export function useFetchSources() {
  return useMutation({
    mutationFn: async (sources: SourceRequest[]) =>
      (await unwrap(api.POST("/pipeline/tracks/fetch-sources", { body: { sources } }))).jobs,
  });
}

/** A file's bytes in base64, so the server decodes the text itself (and says when it cannot). */
export async function base64Of(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  const chunk = 0x8000;
  for (let start = 0; start < bytes.length; start += chunk) {
    binary += String.fromCharCode(...bytes.subarray(start, start + chunk));
  }
  return btoa(binary);
}

export function useImportCsv() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: async (file: File) =>
      unwrap(
        api.POST("/pipeline/tracks/import-csv", {
          body: { filename: file.name, content: await base64Of(file), encoding: "base64" },
        }),
      ),
    onSuccess: () => {
      void client.invalidateQueries({ queryKey: ["jobs"] });
    },
  });
}
