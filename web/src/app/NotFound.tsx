import { Link } from "react-router";
import { PageHeader, Section } from "../components/Page";

export function NotFound() {
  return (
    <>
      <PageHeader title="No such screen" lead="This address is not a screen of the app." />
      <Section title="Where to go">
        <p>
          Start at <Link to="/account">Account</Link>, or press <kbd>Ctrl</kbd> <kbd>K</kbd> for every action.
        </p>
      </Section>
    </>
  );
}
