import { Link } from "react-router";
import { describeError } from "../api/errors";
import { ButtonLink } from "./Button";
import { Notice } from "./Notice";
import { RichText } from "./RichText";
import buttonStyles from "./Button.module.css";

/** An error from the API (or anything thrown), in words, with what to do. */
export function ErrorNotice({ error, live = true }: { error: unknown; live?: boolean }) {
  const words = describeError(error);
  const action = words.action;
  let actions = undefined;
  if (action?.href !== undefined) {
    actions = (
      <ButtonLink href={action.href} size="sm" variant="primary">
        {action.label}
      </ButtonLink>
    );
  } else if (action?.to !== undefined) {
    actions = (
      <Link to={action.to} className={[buttonStyles.button, buttonStyles.secondary, buttonStyles.small].join(" ")}>
        {action.label}
      </Link>
    );
  }
  return (
    <Notice tone="danger" title={words.title} actions={actions} live={live}>
      {words.detail !== null ? <p>{words.detail}</p> : null}
      {words.hint !== null ? (
        <p>
          <RichText text={words.hint} />
        </p>
      ) : null}
    </Notice>
  );
}
