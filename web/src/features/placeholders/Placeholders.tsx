// Screens another change builds (issue 15): each says so, and what does the job today. No data
// is shown here that the server did not give.
import type { ReactNode } from "react";
import { Link } from "react-router";
import { PageHeader, Section } from "../../components/Page";
import styles from "./Placeholders.module.css";

function ComingNext({ title, lead, today }: { title: string; lead: string; today: ReactNode }) {
  return (
    <>
      <PageHeader title={title} lead={lead} />
      <Section title="Coming in the next change">
        <p className={styles.text}>This screen is being built. Until it arrives:</p>
        <div className={styles.today}>{today}</div>
      </Section>
    </>
  );
}

export function LibraryPlaceholder() {
  return (
    <ComingNext
      title="Library"
      lead="Every fetched track in one table: sort, filter with the rules language, tag in bulk."
      today={
        <p>
          <code>sap tracks --q TEXT</code> lists fetched tracks; <Link to="/sources">Sources</Link> fetches them.
        </p>
      }
    />
  );
}

export function SyncPlaceholder() {
  return (
    <ComingNext
      title="Sync"
      lead="See exactly what would change on Spotify, apply it, and undo it."
      today={
        <p>
          <code>sap plan</code>, <code>sap apply PLAN</code> and <code>sap restore BACKUP</code>.
        </p>
      }
    />
  );
}
