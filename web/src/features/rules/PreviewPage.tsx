// /rules/:id/preview: a saved rule set's preview (RulePreview over its stored JSON).
import { useMemo } from "react";
import { Link, useParams } from "react-router";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading, PageHeader } from "../../components/Page";
import { ruleBody, useRuleSet } from "./api";
import { editLink } from "./model";
import { RulePreview } from "./RulePreview";
import styles from "./Rules.module.css";

export function PreviewPage() {
  const { id = "" } = useParams();
  const rule = useRuleSet(id);
  const body = useMemo(() => (rule.data !== undefined ? ruleBody(rule.data) : null), [rule.data]);
  return (
    <>
      <PageHeader
        title={rule.data !== undefined ? `Preview: ${rule.data.name}` : "Preview"}
        lead="The playlist this rule set would make from your library now, and why each track is in or out."
        actions={
          <>
            <Link to="/rules" className={styles.linkButton}>
              All rule sets
            </Link>
            {rule.data !== undefined ? (
              <Link to={editLink(rule.data.id)} className={styles.linkButton}>
                Edit
              </Link>
            ) : null}
          </>
        }
      />
      {rule.isPending ? <Loading label="Reading the rule set…" /> : null}
      {rule.isError ? <ErrorNotice error={rule.error} /> : null}
      {rule.data !== undefined && body !== null ? (
        <>
          <pre className={styles.ruleText} aria-label="Its rules">
            {rule.data.text}
          </pre>
          <RulePreview rule={body} />
        </>
      ) : null}
    </>
  );
}
