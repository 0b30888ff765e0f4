// The account's server state: login status, the setup guide, logout.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";

export const accountKeys = {
  all: ["auth"] as const,
  status: () => [...accountKeys.all, "status"] as const,
  setup: () => [...accountKeys.all, "setup"] as const,
};

/** Where the browser goes to connect: the server redirects to Spotify's consent page (or the
 * demo's emulated one), which comes back to /auth/callback and then to /account. */
export const LOGIN_PATH = "/auth/login";

export function useAuthStatus() {
  return useQuery({
    queryKey: accountKeys.status(),
    queryFn: () => unwrap(api.GET("/auth/status")),
  });
}

export function useSetupGuide() {
  return useQuery({
    queryKey: accountKeys.setup(),
    queryFn: () => unwrap(api.GET("/auth/setup")),
    staleTime: Infinity, // settings change only with a server restart
  });
}

export function useLogout() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(api.POST("/auth/logout")),
    onSuccess: (status) => {
      client.setQueryData(accountKeys.status(), status);
      // What was read with the old login is no longer ours to show.
      void client.invalidateQueries({ queryKey: ["spotify"] });
    },
  });
}
