// Screen 9, Starters: rule sets built from your own library (top genres, your decade, fast,
// recent, liked but in no playlist, a mood), each with what it holds now, opening prefilled
// in the editor. One whose data is missing says which enrichment to run.
import { Link } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading, PageHeader } from "../../components/Page";
import { useStarters } from "./api";
import { minutesText, newRuleLink } from "./model";
import styles from "./Rules.module.css";

export function StartersPage() {
  const starters = useStarters();
  const data = starters.data;
  return (
    <>
      <PageHeader
        title="Start from your library"
        lead="Rule sets made from what your library holds. Open one in the editor, change what you like, save it."
        actions={
          <Link to="/rules" className={styles.linkButton}>
            All rule sets
          </Link>
        }
      />
      {starters.isPending ? <Loading label="Looking at your library…" /> : null}
      {starters.isError ? <ErrorNotice error={starters.error} /> : null}
      {data !== undefined && data.tracks === 0 ? (
        <p className={styles.muted}>
          The library is empty: fetch your sources on <Link to="/sources">Sources</Link> first.
        </p>
      ) : null}
      {data !== undefined && data.tracks > 0 ? (
        <ul className={styles.starters} aria-label="Starters">
          {data.starters.map((starter) => (
            <li key={starter.key} className={styles.card} aria-labelledby={`starter-${starter.key}`}>
              <h2 id={`starter-${starter.key}`} className={styles.cardTitle}>
                {starter.title}
              </h2>
              <p className={styles.detail}>{starter.why}</p>
              <pre className={styles.ruleText}>{starter.text}</pre>
              {starter.needs.length > 0 ? (
                <ul className={styles.warnings} aria-label={`${starter.title} needs`}>
                  {starter.needs.map((need) => (
                    <li key={need}>
                      <Link to={need.startsWith("fetch") ? "/sources" : "/enrichment"}>
                        {need.charAt(0).toUpperCase() + need.slice(1)}
                      </Link>
                    </li>
                  ))}
                </ul>
              ) : null}
              <p className={styles.bigCount} data-testid={`starter-count-${starter.key}`}>
                <strong>{starter.count.toLocaleString("en")}</strong> tracks · {minutesText(starter.minutes)}
              </p>
              <Link
                to={newRuleLink(starter.text)}
                className={[styles.linkButton, styles.primaryLink].join(" ")}
                aria-label={`Open in the editor: ${starter.title}`}
              >
                Open in the editor
              </Link>
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
