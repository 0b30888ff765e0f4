import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { jobKeys } from "./api";
import { JobsDrawer } from "./JobsDrawer";
import type { Job, JobList } from "./model";

function job(id: string, status: Job["status"]): Job {
  return {
    id,
    step: "fetch_tracks",
    status,
    cancel_requested: false,
    progress: { done: 0, total: null, fraction: null },
  };
}

function drawer(list: JobList) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  client.setQueryData(jobKeys.recent(), list);
  render(
    <QueryClientProvider client={client}>
      <JobsDrawer open highlight={[]} stream="open" onClose={() => undefined} />
    </QueryClientProvider>,
  );
}

describe("JobsDrawer", () => {
  it("counts in the history only the jobs that finished, not the running ones", () => {
    drawer({ items: [job("a", "running"), job("b", "pending"), job("c", "done")], total: 7, limit: 50, offset: 0 });
    expect(screen.getByRole("status")).toHaveTextContent("2 running · 5 jobs in the history");
  });

  it("says 'job' for one finished job", () => {
    drawer({ items: [job("a", "running"), job("c", "failed")], total: 2, limit: 50, offset: 0 });
    expect(screen.getByRole("status")).toHaveTextContent("1 running · 1 job in the history");
  });
});
