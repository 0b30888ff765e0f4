import { isRouteErrorResponse, useRouteError } from "react-router";
import styles from "./RouteError.module.css";

/** What shows when a screen fails to load or crashes: words, and a way back. */
export function RouteError() {
  const error = useRouteError();
  const chunk =
    error instanceof Error && /dynamically imported module|Importing a module script failed/i.test(error.message);
  return (
    <main className={styles.page}>
      <h1>{chunk ? "This screen could not be loaded" : "Something went wrong on this screen"}</h1>
      <p>
        {chunk
          ? "The app was probably rebuilt or the server restarted since this page was opened."
          : isRouteErrorResponse(error)
            ? `${error.status} ${error.statusText}`
            : "The app hit an unexpected error."}
      </p>
      <p>
        <a href={window.location.pathname}>Reload the page</a> or go back to <a href="/account">Account</a>.
      </p>
    </main>
  );
}
