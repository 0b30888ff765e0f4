import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useState } from "react";
import { RouterProvider } from "react-router";
import { ApiError } from "../api/errors";
import { CommandRegistry, CommandsProvider } from "./commands";
import { createRouter } from "./router";

/** Server state lives in TanStack Query: a refused request (4xx) is not retried, a network
 * failure or a 5xx once. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        retry: (count, error) => count < 1 && !(error instanceof ApiError && error.status >= 400 && error.status < 500),
      },
    },
  });
}

export function App() {
  const [client] = useState(createQueryClient);
  const [registry] = useState(() => new CommandRegistry());
  const [router] = useState(createRouter);
  return (
    <QueryClientProvider client={client}>
      <CommandsProvider registry={registry}>
        <RouterProvider router={router} />
      </CommandsProvider>
    </QueryClientProvider>
  );
}
