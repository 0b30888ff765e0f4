// Screen 4, Enrichment: the providers (what each gives, whether it can run and why not), running
// one or all with per-provider progress from the job stream, and the coverage grid whose cells
// open the Library on the tracks that lack a field.
import { useMemo } from "react";
import { Link } from "react-router";
import { Badge } from "../../components/Badge";
import { Button } from "../../components/Button";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Notice } from "../../components/Notice";
import { Loading, PageHeader, Section } from "../../components/Page";
import { fullDate, relativeTime } from "../../lib/time";
import { useShell } from "../../app/shell";
import { useCommands, type Command } from "../../app/commands";
import { STATUS_TONE, STATUS_WORDS, useRecentJobs } from "../jobs/api";
import { JobParts } from "../jobs/JobParts";
import { isActive } from "../jobs/model";
import { useCheckServices, useCoverage, useProviders, useRunEnrich } from "./api";
import {
  coverageGrid,
  currentEnrichJob,
  lastFailure,
  libraryLink,
  missingFilter,
  percent,
  providerBadge,
  type Failure,
  type Provider,
} from "./model";
import styles from "./EnrichmentPage.module.css";

/** The providers as people name them. */
export const PROVIDER_NAMES: Record<string, string> = {
  musicbrainz: "MusicBrainz",
  deezer: "Deezer",
  reccobeats: "ReccoBeats",
  lastfm: "Last.fm",
  acousticbrainz: "AcousticBrainz",
  llm: "LLM",
  manual: "Your own values",
};

const nameOf = (id: string) => PROVIDER_NAMES[id] ?? id;

export function EnrichmentPage() {
  const providers = useProviders();
  const coverage = useCoverage();
  const run = useRunEnrich();
  const check = useCheckServices();
  const shell = useShell();
  const jobs = useRecentJobs().data?.items ?? [];
  const job = currentEnrichJob(jobs);
  const running = job !== null && isActive(job);
  const runnable = (providers.data ?? []).filter((provider) => provider.type !== "manual");
  const ready = runnable.filter((provider) => provider.enabled);
  const empty = coverage.data?.tracks === 0;
  const order = useMemo(() => (providers.data ?? []).map((provider) => provider.id), [providers.data]);

  const commands = useMemo<Command[]>(
    () =>
      ready.length > 0 && !running && !empty
        ? [
            {
              id: "enrichment:run-all",
              title: "Enrich the library with every provider",
              group: "Enrichment",
              keywords: ["run all", "providers"],
              run: () => {
                run.mutate(null);
              },
            },
          ]
        : [],
    [ready.length, running, empty, run],
  );
  useCommands(commands);

  return (
    <>
      <PageHeader
        title="Enrichment"
        lead="What MusicBrainz, Deezer, ReccoBeats, Last.fm, AcousticBrainz and an LLM know about your tracks, and how much of the library they cover."
        actions={
          <Button
            variant="primary"
            onClick={() => {
              run.mutate(null);
            }}
            busy={run.isPending}
            disabled={running || ready.length === 0 || empty}
          >
            Run all providers
          </Button>
        }
      />
      <div className={styles.stack}>
        {run.error !== null ? <ErrorNotice error={run.error} /> : null}
        {empty ? (
          <Notice tone="info" title="The library is empty">
            <p>
              Fetch your liked songs or playlists on <Link to="/sources">Sources</Link> first; the providers enrich the
              tracks you fetched.
            </p>
          </Notice>
        ) : null}
        {job !== null ? (
          <Section
            title={running ? "Enriching now" : "Last enrichment"}
            id="enrich-job"
            actions={
              <Button
                size="sm"
                onClick={() => {
                  shell.openJobs([job.id]);
                }}
              >
                Open jobs
              </Button>
            }
          >
            <div className={styles.jobHead} role="status">
              <Badge tone={STATUS_TONE[job.status]}>{STATUS_WORDS[job.status]}</Badge>
              {job.progress?.total ? (
                <span className={styles.muted}>
                  {job.progress.done.toLocaleString()} of {job.progress.total.toLocaleString()} lookups
                </span>
              ) : null}
              {job.error ? <span className={styles.error}>{job.error.message}</span> : null}
            </div>
            {job.progress?.note && running ? <p className={styles.note}>{job.progress.note.text}</p> : null}
            <JobParts parts={job.progress?.parts ?? []} label="Progress per provider" names={PROVIDER_NAMES} />
          </Section>
        ) : null}

        <Section
          title="Providers"
          id="providers"
          description="Providers that call different services run at the same time, each within its service's limits. Whether each service answers is checked at most once a minute."
          actions={
            <Button
              size="sm"
              onClick={() => {
                check.mutate();
              }}
              busy={check.isPending}
            >
              Check services again
            </Button>
          }
        >
          {providers.isPending ? <Loading label="Reading the providers…" /> : null}
          {providers.error !== null ? <ErrorNotice error={providers.error} /> : null}
          {check.error !== null ? <ErrorNotice error={check.error} /> : null}
          <ul className={styles.providers} aria-label="Providers">
            {(providers.data ?? []).map((provider) => (
              <ProviderCard
                key={provider.id}
                provider={provider}
                failure={lastFailure(jobs, provider.id)}
                busy={running || run.isPending}
                empty={empty}
                onRun={() => {
                  run.mutate([provider.id]);
                }}
              />
            ))}
          </ul>
        </Section>

        <Section
          title="Coverage"
          id="coverage"
          description="The share of your library's tracks each provider gave a value for each field. Select a share to see, in the Library, the tracks that lack the field."
        >
          {coverage.isPending ? <Loading label="Reading the coverage…" /> : null}
          {coverage.error !== null ? <ErrorNotice error={coverage.error} /> : null}
          {coverage.data !== undefined && coverage.data.fields.length === 0 ? (
            <p className={styles.muted}>No enriched values yet: run the providers to see what they cover.</p>
          ) : null}
          {coverage.data !== undefined && coverage.data.fields.length > 0 ? (
            <CoverageTable grid={coverageGrid(coverage.data, order)} />
          ) : null}
        </Section>
      </div>
    </>
  );
}

function ProviderCard({
  provider,
  failure,
  busy,
  empty,
  onRun,
}: {
  provider: Provider;
  failure: Failure | null;
  busy: boolean;
  empty: boolean;
  onRun: () => void;
}) {
  const name = nameOf(provider.id);
  const manual = provider.type === "manual";
  const badge = providerBadge(provider, failure !== null);
  const service = provider.service ?? null;
  return (
    <li className={styles.provider} aria-label={name}>
      <div className={styles.providerHead}>
        <h3 className={styles.providerName}>{name}</h3>
        <Badge tone={badge.tone}>{badge.words}</Badge>
      </div>
      <p className={styles.description}>{provider.description}</p>
      {!provider.enabled && provider.reason_if_disabled ? (
        <p className={styles.reason}>
          <strong>Why not:</strong> {provider.reason_if_disabled}
        </p>
      ) : null}
      {service !== null && service.state !== "up" ? (
        <p className={styles.reason}>
          <strong>{service.state === "down" ? "Its service is down:" : "Its service is busy:"}</strong> {service.detail}{" "}
          (checked{" "}
          <time dateTime={service.checked_at} title={fullDate(service.checked_at)}>
            {relativeTime(service.checked_at)}
          </time>
          ).{" "}
          {service.state === "down"
            ? "A run now would fail for it; check again later."
            : "A run waits for it as it asks, then goes on."}
        </p>
      ) : null}
      {failure !== null ? (
        <p className={styles.reason}>
          <strong>Its last run failed:</strong> {failure.message}. Its service may be down or refusing us; run it again
          later.
        </p>
      ) : null}
      <p className={styles.fieldsLabel}>Gives</p>
      <ul className={styles.fields} aria-label={`Fields from ${name}`}>
        {provider.fields.map((field) => (
          <li key={field.name} title={field.description}>
            <code>{field.name}</code>
          </li>
        ))}
      </ul>
      <div className={styles.providerFoot}>
        <span className={styles.muted}>
          {provider.rate_limit !== null
            ? `${provider.rate_limit} request${provider.rate_limit === 1 ? "" : "s"} a second`
            : "No rate limit"}
        </span>
        {manual ? (
          <span className={styles.muted}>Edited in the Library</span>
        ) : (
          <Button size="sm" onClick={onRun} disabled={!provider.enabled || busy || empty} aria-label={`Run ${name}`}>
            Run
          </Button>
        )}
      </div>
    </li>
  );
}

function CoverageTable({ grid }: { grid: ReturnType<typeof coverageGrid> }) {
  return (
    <div className={styles.tableWrap}>
      <table className={styles.grid}>
        <caption className="visually-hidden">
          Coverage of {grid.tracks.toLocaleString()} tracks, field by provider
        </caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Any provider</th>
            {grid.providers.map((id) => (
              <th scope="col" key={id}>
                {nameOf(id)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {grid.rows.map((row) => {
            const to = libraryLink(missingFilter(row.field));
            const without = `show the ${row.missing.toLocaleString()} tracks without ${row.field}`;
            return (
              <tr key={row.field}>
                <th scope="row">
                  <code>{row.field}</code>
                </th>
                <td>
                  <Link
                    to={to}
                    className={styles.cell}
                    style={{ "--share": row.any.share } as React.CSSProperties}
                    aria-label={`${percent(row.any.share)} of tracks have ${row.field}: ${without}`}
                  >
                    {percent(row.any.share)}
                  </Link>
                </td>
                {grid.providers.map((id) => {
                  const cell = row.cells[id];
                  return (
                    <td key={id}>
                      {cell === undefined ? (
                        <span className={styles.none} aria-label={`${nameOf(id)} gives no ${row.field}`}>
                          —
                        </span>
                      ) : (
                        <Link
                          to={to}
                          className={styles.cell}
                          style={{ "--share": cell.share } as React.CSSProperties}
                          aria-label={`${percent(cell.share)} of tracks have ${row.field} from ${nameOf(id)}: ${without}`}
                        >
                          {percent(cell.share)}
                        </Link>
                      )}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
