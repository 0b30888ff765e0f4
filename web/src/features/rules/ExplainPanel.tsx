// "Why is this track (not) here?": the outcome (in, or the step that dropped it), then each
// condition of the rule set with the track's value, the provider that said it, and pass/fail.
import { ErrorNotice } from "../../components/ErrorNotice";
import { Loading } from "../../components/Page";
import type { Schemas } from "../../api/client";
import { useExplain, type RuleBody } from "./api";
import { outcomeText, valueText } from "./model";
import styles from "./Rules.module.css";

type Group = Schemas["ExplainedGroup"];
type Condition = Schemas["ExplainedCondition"];

export function ExplainPanel({
  trackId,
  trackName = null,
  rule,
}: {
  trackId: string | null;
  trackName?: string | null;
  rule: RuleBody;
}) {
  const explained = useExplain(trackId, rule);
  if (trackId === null) {
    return <p className={styles.muted}>Select a track in the table (in the playlist or not) to see why.</p>;
  }
  if (explained.isError) return <ErrorNotice error={explained.error} />;
  const answer = explained.data;
  if (answer === undefined) return <Loading label="Explaining…" />;
  const out = !answer.included;
  return (
    <div className={styles.explain} aria-live="polite">
      <p className={out ? styles.outcomeOut : styles.outcomeIn} data-testid="explain-outcome">
        <strong>{outcomeText(answer.outcome)}</strong>
        {answer.position !== null ? ` · position ${answer.position + 1}` : ""}
      </p>
      <p className={styles.muted}>
        {trackName !== null ? <strong>{trackName}</strong> : "This track"} (<code>{answer.track_id}</code>):{" "}
        {answer.candidate ? "a candidate" : "not a candidate"},{" "}
        {answer.matched_rules ? "passes the rules" : "fails the rules"}.
      </p>
      <GroupView group={answer.rules} top />
    </div>
  );
}

function GroupView({ group, top = false }: { group: Group; top?: boolean }) {
  const word = group.operator === "and" ? "all of" : "any of";
  return (
    <div className={top ? styles.groupTop : styles.group}>
      <p className={styles.groupHead}>
        <Mark passed={group.passed} /> {group.negate ? `not ${word}` : word}
      </p>
      {group.conditions.length === 0 ? <p className={styles.muted}>No conditions: every candidate passes.</p> : null}
      <ul className={styles.conditions}>
        {group.conditions.map((child, index) => (
          <li key={index}>
            {"conditions" in child ? <GroupView group={child} /> : <ConditionView condition={child} />}
          </li>
        ))}
      </ul>
    </div>
  );
}

function ConditionView({ condition }: { condition: Condition }) {
  const value = condition.value === undefined ? "" : valueText(condition.value);
  return (
    <div className={styles.condition}>
      <Mark passed={condition.passed} />
      <span>
        <code>
          {condition.field} {condition.operator.replaceAll("_", " ")} {value}
        </code>
        <span className={styles.actual}>
          {" — this track: "}
          <strong>{valueText(condition.actual)}</strong>
          {condition.provider !== null ? ` (from ${condition.provider})` : ""}
        </span>
      </span>
    </div>
  );
}

function Mark({ passed }: { passed: boolean }) {
  return (
    <span className={passed ? styles.pass : styles.fail}>
      <span aria-hidden="true">{passed ? "✓" : "✗"}</span>
      <span className="visually-hidden">{passed ? "passes: " : "fails: "}</span>
    </span>
  );
}
