// Screen 5, Charts: how the library's values spread — year, tempo, energy, duration, top genres
// and tags. Plain HTML bars (no chart library: docs/dependencies.md), each a link that opens
// the Library on its tracks with the filter the server wrote for it.
import { Link } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading, PageHeader, Section } from "../../components/Page";
import { libraryLink } from "../enrichment/model";
import { useDistributions } from "./api";
import { binLabel, chartTitle, scaled, type Distribution } from "./model";
import styles from "./ChartsPage.module.css";

export function ChartsPage() {
  const distributions = useDistributions();
  const data = distributions.data;
  return (
    <>
      <PageHeader
        title="Charts"
        lead="How your library spreads by year, tempo, energy, duration, genres and tags. Select a bar to see its tracks in the Library."
      />
      {distributions.isPending ? <Loading label="Reading the library…" /> : null}
      {distributions.error !== null ? <ErrorNotice error={distributions.error} /> : null}
      {data !== undefined && data.tracks === 0 ? (
        <p className={styles.muted}>
          The library is empty: fetch sources on <Link to="/sources">Sources</Link>, then enrich them.
        </p>
      ) : null}
      {data !== undefined && data.tracks > 0 ? (
        <div className={styles.grid}>
          {data.fields.map((field) => (
            <Chart key={field.field} distribution={field} tracks={data.tracks} />
          ))}
        </div>
      ) : null}
    </>
  );
}

function Chart({ distribution, tracks }: { distribution: Distribution; tracks: number }) {
  const title = chartTitle(distribution.field);
  const missing =
    distribution.missing > 0
      ? `${distribution.missing.toLocaleString()} of ${tracks.toLocaleString()} tracks ${distribution.missing === 1 ? "has" : "have"} no value`
      : `Every track has a value`;
  return (
    <Section title={title} id={`chart-${distribution.field}`} description={missing}>
      {distribution.present === 0 ? (
        <p className={styles.muted}>No values yet{distribution.field !== "year" ? ": enrich the library" : ""}.</p>
      ) : distribution.kind === "histogram" ? (
        <Histogram distribution={distribution} title={title} />
      ) : (
        <TopValues distribution={distribution} title={title} />
      )}
    </Section>
  );
}

function Histogram({ distribution, title }: { distribution: Distribution; title: string }) {
  const bins = distribution.bins ?? [];
  const heights = scaled(bins.map((bin) => bin.count));
  const first = bins[0];
  const last = bins[bins.length - 1];
  return (
    <figure className={styles.figure}>
      <ol className={styles.histogram} aria-label={title}>
        {bins.map((bin, index) => {
          const range = binLabel(distribution.field, bin.low, bin.high);
          return (
            <li key={bin.low} className={styles.column}>
              <Link
                to={libraryLink(bin.filter)}
                className={styles.columnBar}
                style={{ "--size": heights[index] ?? 0 } as React.CSSProperties}
                aria-label={`${range}: ${bin.count.toLocaleString()} track${bin.count === 1 ? "" : "s"}`}
                title={`${range}: ${bin.count.toLocaleString()} tracks`}
              />
            </li>
          );
        })}
      </ol>
      {first !== undefined && last !== undefined ? (
        <figcaption className={styles.axis} aria-hidden="true">
          <span>{binLabel(distribution.field, first.low, first.high).split("–")[0]}</span>
          <span>{binLabel(distribution.field, last.low, last.high).split("–")[1]}</span>
        </figcaption>
      ) : null}
    </figure>
  );
}

function TopValues({ distribution, title }: { distribution: Distribution; title: string }) {
  const top = distribution.top ?? [];
  const widths = scaled(top.map((value) => value.count));
  return (
    <ol className={styles.bars} aria-label={title}>
      {top.map((value, index) => (
        <li key={value.value}>
          <Link
            to={libraryLink(value.filter)}
            className={styles.bar}
            style={{ "--size": widths[index] ?? 0 } as React.CSSProperties}
          >
            <span className={styles.barLabel}>{value.value}</span>
            <span className="visually-hidden">: </span>
            <span className={styles.barCount}>
              {value.count.toLocaleString()}
              <span className="visually-hidden"> track{value.count === 1 ? "" : "s"}</span>
            </span>
          </Link>
        </li>
      ))}
    </ol>
  );
}
