// Screen 5, Overlaps: for the enabled rule sets, a matrix of the tracks each pair of playlists
// shares (the diagonal: each playlist's size), the tracks in several playlists and the liked
// songs in none. Every number is a button: its tracks show below in the library's grid, through
// the filter the server wrote for them.
import { useState } from "react";
import { Link } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading, PageHeader, Section } from "../../components/Page";
import { useOverlaps } from "./api";
import { TrackTable } from "./TrackTable";
import styles from "./Rules.module.css";

interface Chosen {
  title: string;
  filter: string;
}

export function OverlapsPage() {
  const overlaps = useOverlaps();
  const [chosen, setChosen] = useState<Chosen | null>(null);
  const data = overlaps.data;
  const names = new Map((data?.rule_sets ?? []).map((rule) => [rule.rule_id, rule.rule_name]));

  function pick(title: string, filter: string | null | undefined) {
    if (filter === null || filter === undefined) return;
    setChosen({ title, filter });
    window.setTimeout(() => document.getElementById("overlap-tracks-title")?.focus(), 0);
  }

  return (
    <>
      <PageHeader
        title="Overlaps"
        lead="Which tracks land in several of your playlists, and which liked songs land in none. Select a number to see its tracks."
        actions={
          <Link to="/rules" className={styles.linkButton}>
            All rule sets
          </Link>
        }
      />
      {overlaps.isPending ? <Loading label="Comparing the playlists…" /> : null}
      {overlaps.isError ? <ErrorNotice error={overlaps.error} /> : null}
      {data !== undefined ? (
        <>
          {data.broken.length > 0 ? (
            <p className={styles.muted}>
              Left out because they are broken: {data.broken.map((item) => item.rule_name).join(", ")}.
            </p>
          ) : null}
          <div className={styles.summaryRow}>
            <button
              type="button"
              className={styles.tile}
              onClick={() => {
                pick("Tracks in two playlists or more", data.several.filter);
              }}
              disabled={data.several.count === 0 || data.several.filter == null}
            >
              <strong data-testid="overlap-several">{data.several.count.toLocaleString("en")}</strong>
              <span>tracks in two playlists or more</span>
            </button>
            <button
              type="button"
              className={styles.tile}
              onClick={() => {
                pick("Liked songs in no playlist", data.liked_nowhere.filter);
              }}
              disabled={data.liked_nowhere.count === 0 || data.liked_nowhere.filter == null}
            >
              <strong data-testid="overlap-nowhere">{data.liked_nowhere.count.toLocaleString("en")}</strong>
              <span>{`of ${data.liked_nowhere.liked.toLocaleString("en")} liked songs in no playlist`}</span>
            </button>
          </div>
          {data.rule_sets.length === 0 ? (
            <p className={styles.muted}>
              No enabled rule set yet: <Link to="/rules/starters">start one from your library</Link>.
            </p>
          ) : (
            <Section
              title="Shared tracks"
              id="overlap-matrix"
              description="Row and column: two rule sets; the cell: the tracks both playlists hold (the diagonal: each playlist's size)."
            >
              <div className={styles.matrixScroll}>
                <table className={styles.matrix} aria-label="Tracks each pair of playlists shares">
                  <thead>
                    <tr>
                      <td />
                      {data.rule_sets.map((rule) => (
                        <th key={rule.rule_id} scope="col">
                          {rule.rule_name}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {data.rule_sets.map((row, i) => (
                      <tr key={row.rule_id}>
                        <th scope="row">{row.rule_name}</th>
                        {data.rule_sets.map((column, j) => {
                          const value = data.matrix[i]?.[j] ?? 0;
                          const same = i === j;
                          const filter = same ? row.filter : `${row.filter} and ${column.filter}`;
                          const title = same
                            ? `${row.rule_name}: its ${value} tracks`
                            : `${row.rule_name} and ${column.rule_name}: ${value} shared tracks`;
                          return (
                            <td key={column.rule_id} className={same ? styles.diagonal : undefined}>
                              <button
                                type="button"
                                className={styles.cell}
                                data-testid={`cell-${row.rule_id}-${column.rule_id}`}
                                aria-label={title}
                                disabled={value === 0}
                                onClick={() => {
                                  pick(title, filter);
                                }}
                              >
                                {value.toLocaleString("en")}
                              </button>
                            </td>
                          );
                        })}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </Section>
          )}
          {data.pairs.length > 0 ? (
            <Section title="Most shared" id="overlap-pairs">
              <ul className={styles.pairsList}>
                {data.pairs.slice(0, 10).map((pair) => {
                  const [a = "", b = ""] = pair.rule_ids;
                  const title = `${names.get(a) ?? a} and ${names.get(b) ?? b}`;
                  return (
                    <li key={pair.rule_ids.join("|")}>
                      <button
                        type="button"
                        className={styles.textButton}
                        onClick={() => {
                          pick(`${title}: ${pair.tracks} shared tracks`, pair.filter);
                        }}
                      >
                        {title}
                      </button>{" "}
                      share {pair.tracks.toLocaleString("en")} tracks
                    </li>
                  );
                })}
              </ul>
            </Section>
          ) : null}
          {chosen !== null ? (
            <section className={styles.chosen} aria-labelledby="overlap-tracks-title">
              <h2 id="overlap-tracks-title" tabIndex={-1}>
                {chosen.title}
              </h2>
              <p className={styles.muted}>
                <Link to={`/library?filter=${encodeURIComponent(chosen.filter)}`}>Open in the Library</Link>
              </p>
              <TrackTable rule={null} filter={chosen.filter} label={chosen.title} />
            </section>
          ) : null}
        </>
      ) : null}
    </>
  );
}
