// A rule set's playlist before it is synced: its count and what each step removed, the fields
// no track has yet (with the enrichment to run), its tracks in the library's grid, its charts
// against the library's, and the explain panel for any track, in or out. `rule` is the rule
// set's JSON, saved or not (the editor embeds this with what is being typed).
import { useMemo, useState } from "react";
import { useCommands, type Command } from "../../app/commands";
import { Link } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading, Section } from "../../components/Page";
import { binLabel, chartTitle, type Distribution } from "../charts/model";
import { useCharts, useCount, type Distributions, type RuleBody } from "./api";
import { ExplainPanel } from "./ExplainPanel";
import { minutesText } from "./model";
import { TrackTable } from "./TrackTable";
import styles from "./Rules.module.css";

type Scope = "playlist" | "library";

export function RulePreview({ rule }: { rule: RuleBody }) {
  const count = useCount(rule);
  const [scope, setScope] = useState<Scope>("playlist");
  const [picked, setPicked] = useState<{ id: string; name: string | null } | null>(null);
  const figures = count.data;
  const commands: Command[] = useMemo(
    () => [
      {
        id: "preview.playlist",
        title: "Preview: show the playlist's tracks",
        group: "Preview",
        run: () => {
          setScope("playlist");
        },
      },
      {
        id: "preview.library",
        title: "Preview: show the whole library (explain a track that is out)",
        group: "Preview",
        run: () => {
          setScope("library");
        },
      },
    ],
    [],
  );
  useCommands(commands);
  return (
    <div className={styles.preview}>
      {count.isError ? <ErrorNotice error={count.error} /> : null}
      {figures === undefined && !count.isError ? <Loading label="Counting…" /> : null}
      {figures !== undefined ? (
        <Section title="The playlist" id="preview-summary">
          <p className={styles.bigCount} role="status">
            <strong data-testid="preview-count">{figures.track_count.toLocaleString("en")}</strong> tracks ·{" "}
            {minutesText(figures.minutes)}
          </p>
          <dl className={styles.stages} aria-label="What each step did">
            <div>
              <dt>From its sources</dt>
              <dd>{figures.candidates.toLocaleString("en")}</dd>
            </div>
            <div>
              <dt>Failing the rules</dt>
              <dd>−{figures.removed.rules.toLocaleString("en")}</dd>
            </div>
            <div>
              <dt>Banned</dt>
              <dd>−{figures.removed.excluded}</dd>
            </div>
            <div>
              <dt>Duplicates</dt>
              <dd>−{figures.removed.deduped}</dd>
            </div>
            <div>
              <dt>Over the limit</dt>
              <dd>−{figures.removed.over_limit}</dd>
            </div>
            <div>
              <dt>Over the artist cap</dt>
              <dd>−{figures.removed.artist_cap}</dd>
            </div>
            <div>
              <dt>Pinned</dt>
              <dd>+{figures.removed.pins}</dd>
            </div>
          </dl>
          {(figures.warnings ?? []).length > 0 ? (
            <ul className={styles.warnings} aria-label="Warnings">
              {(figures.warnings ?? []).map((warning) => (
                <li key={warning.field}>
                  No track has <code>{warning.field}</code> yet, so nothing matches through it:{" "}
                  <Link to="/enrichment">
                    run enrichment for {warning.field}
                    {warning.providers.length > 0 ? ` (${warning.providers.join(", ")})` : ""}
                  </Link>
                  .
                </li>
              ))}
            </ul>
          ) : null}
        </Section>
      ) : null}

      <div className={styles.previewColumns}>
        <Section
          title={scope === "playlist" ? "Its tracks" : "The whole library"}
          id="preview-tracks"
          actions={
            <div role="group" aria-label="Show" className={styles.segmented}>
              <button
                type="button"
                aria-pressed={scope === "playlist"}
                onClick={() => {
                  setScope("playlist");
                }}
              >
                The playlist
              </button>
              <button
                type="button"
                aria-pressed={scope === "library"}
                onClick={() => {
                  setScope("library");
                }}
              >
                Whole library
              </button>
            </div>
          }
        >
          <TrackTable
            rule={scope === "playlist" ? rule : null}
            label={scope === "playlist" ? "The playlist's tracks" : "Library tracks"}
            picked={picked?.id ?? null}
            onPick={(id, name) => {
              setPicked({ id, name });
            }}
          />
        </Section>
        <div className={styles.sticky}>
          <Section title="Why is this track (not) here?" id="preview-explain">
            <ExplainPanel trackId={picked?.id ?? null} trackName={picked?.name ?? null} rule={rule} />
          </Section>
        </div>
      </div>

      <PreviewCharts rule={rule} />
    </div>
  );
}

function PreviewCharts({ rule }: { rule: RuleBody }) {
  const mine = useCharts(rule, 8);
  const library = useCharts(null, 50);
  const byField = useMemo(
    () => new Map((library.data?.fields ?? []).map((field) => [field.field, field])),
    [library.data],
  );
  return (
    <Section
      title="Against the library"
      id="preview-charts"
      description="Each bar is a share of its own tracks: the playlist (solid) beside the whole library (outlined)."
    >
      {mine.isError ? <ErrorNotice error={mine.error} /> : null}
      {library.isError ? <ErrorNotice error={library.error} /> : null}
      {mine.data === undefined || library.data === undefined ? (
        mine.isError || library.isError ? null : (
          <Loading label="Drawing the charts…" />
        )
      ) : (
        <div className={styles.charts}>
          {mine.data.fields.map((field) => (
            <Compare
              key={field.field}
              mine={field}
              theirs={byField.get(field.field)}
              sizes={[mine.data, library.data]}
            />
          ))}
        </div>
      )}
    </Section>
  );
}

function share(count: number, total: number): number {
  return total > 0 ? count / total : 0;
}

function percent(value: number): string {
  return `${Math.round(value * 100)}%`;
}

function Compare({
  mine,
  theirs,
  sizes,
}: {
  mine: Distribution;
  theirs: Distribution | undefined;
  sizes: [Distributions, Distributions];
}) {
  const title = chartTitle(mine.field);
  const [playlist, library] = sizes;
  if (mine.present === 0) {
    return (
      <figure className={styles.chart}>
        <figcaption>{title}</figcaption>
        <p className={styles.muted}>
          No values
          {theirs !== undefined && theirs.present === 0 ? " in the library yet: enrich it" : " in this playlist"}.
        </p>
      </figure>
    );
  }
  if (mine.kind === "histogram") {
    const bins = mine.bins ?? [];
    const other = theirs?.bins ?? [];
    const shares = bins.map((bin) => share(bin.count, mine.present));
    const libraryShares = other.map((bin) => share(bin.count, theirs?.present ?? 0));
    const most = Math.max(0.0001, ...shares, ...libraryShares);
    return (
      <figure className={styles.chart}>
        <figcaption>{title}</figcaption>
        <ol className={styles.pairs} aria-label={`${title}: the playlist against the library`}>
          {bins.map((bin, index) => {
            const range = binLabel(mine.field, bin.low, bin.high);
            const libraryShare = libraryShares[index] ?? 0;
            return (
              <li
                key={bin.low}
                className={styles.pair}
                aria-label={`${range}: ${percent(shares[index] ?? 0)} of the playlist, ${percent(libraryShare)} of the library`}
                title={`${range}: ${bin.count} tracks (${percent(shares[index] ?? 0)}); library ${percent(libraryShare)}`}
              >
                <span
                  className={styles.barMine}
                  style={{ "--size": (shares[index] ?? 0) / most } as React.CSSProperties}
                />
                <span className={styles.barTheirs} style={{ "--size": libraryShare / most } as React.CSSProperties} />
              </li>
            );
          })}
        </ol>
        <p className={styles.axis} aria-hidden="true">
          <span>{bins[0] !== undefined ? binLabel(mine.field, bins[0].low, bins[0].high).split("–")[0] : ""}</span>
          <span>
            {bins.length > 0
              ? binLabel(mine.field, bins[bins.length - 1]?.low ?? 0, bins[bins.length - 1]?.high ?? 0).split("–")[1]
              : ""}
          </span>
        </p>
      </figure>
    );
  }
  const libraryCounts = new Map((theirs?.top ?? []).map((value) => [value.value, value.count]));
  return (
    <figure className={styles.chart}>
      <figcaption>{title}</figcaption>
      <table className={styles.topTable}>
        <thead>
          <tr>
            <th scope="col">Value</th>
            <th scope="col">Playlist</th>
            <th scope="col">Library</th>
          </tr>
        </thead>
        <tbody>
          {(mine.top ?? []).map((value) => {
            const inLibrary = libraryCounts.get(value.value);
            return (
              <tr key={value.value}>
                <th scope="row">{value.value}</th>
                <td>{percent(share(value.count, playlist.tracks))}</td>
                <td>{inLibrary !== undefined ? percent(share(inLibrary, library.tracks)) : "—"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </figure>
  );
}
