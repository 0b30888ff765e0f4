// The app's one connection to the job event stream (`GET /pipeline/jobs/events`): its events
// go into TanStack Query's cache under jobKeys.recent(), where the drawer, the shell's badge
// and every screen read them. The browser's EventSource reconnects by itself (the server says
// `retry: 3000`) and sends Last-Event-ID, for which the server answers a fresh snapshot; when
// the browser gives up (the server answered with an error, or stopped while it was down) we
// open a new one after a pause, so a restarted server is picked up again.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { jobKeys, jobSubject, stepWords } from "./api";
import { applyEvent, newlyFinished, parseEvent, recordSamples, type Job, type JobList, type Samples } from "./model";
import { STATUS_WORDS } from "./api";

export const EVENTS_URL = "/pipeline/jobs/events?limit=50";
const REOPEN_MS = 3000;

export type StreamState = "connecting" | "open" | "lost";

/** A sentence for a job that just ended, for the live region. */
export function finishedWords(job: Job): string {
  return `${stepWords(job)} of ${jobSubject(job)}: ${STATUS_WORDS[job.status].toLowerCase()}`;
}

/** Keep the job list live; `onFinished` hears of each job that ends while the page is open. */
export function useJobStream(onFinished: (jobs: Job[]) => void): StreamState {
  const client = useQueryClient();
  const [state, setState] = useState<StreamState>("connecting");
  useEffect(() => {
    let source: EventSource | null = null;
    let timer: number | undefined;
    let stopped = false;
    const receive = (type: string) => (message: MessageEvent<string>) => {
      const event = parseEvent(type, message.data);
      if (event === null) return;
      const before = client.getQueryData<JobList>(jobKeys.recent());
      const after = applyEvent(before, event);
      client.setQueryData(jobKeys.recent(), after);
      client.setQueryData<Samples>(jobKeys.samples(), (samples) => recordSamples(samples, event, Date.now()));
      const ended = newlyFinished(before, after);
      if (ended.length > 0) {
        // What the jobs changed is read afresh by the screens that show it.
        void client.invalidateQueries({ queryKey: ["library"] });
        void client.invalidateQueries({ queryKey: ["enrichment"] });
        void client.invalidateQueries({ queryKey: ["sources"] });
        void client.invalidateQueries({ queryKey: ["charts"] });
        void client.invalidateQueries({ queryKey: ["rules"] });
        onFinished(ended);
      }
    };
    const open = () => {
      if (stopped) return;
      setState("connecting");
      source = new EventSource(EVENTS_URL);
      source.addEventListener("open", () => {
        setState("open");
      });
      source.addEventListener("snapshot", receive("snapshot"));
      source.addEventListener("job", receive("job"));
      source.addEventListener("error", () => {
        setState("lost");
        if (source !== null && source.readyState === EventSource.CLOSED) {
          source = null;
          timer = window.setTimeout(open, REOPEN_MS);
        }
      });
    };
    open();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      source?.close();
    };
    // onFinished is read through a ref-like stable callback (Layout passes a stable one).
  }, [client, onFinished]);
  return state;
}
