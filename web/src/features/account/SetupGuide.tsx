import { useId, useState } from "react";
import type { Schemas } from "../../api/client";
import { CopyField } from "../../components/CopyField";
import { Section } from "../../components/Page";
import styles from "./AccountPage.module.css";

export type Guide = Schemas["SetupGuide"];

/** A Spotify client id: 32 hexadecimal characters, as the developer dashboard shows it. */
export const CLIENT_ID = /^[0-9a-f]{32}$/i;

/** The guide's lines and command with `clientId` in place of the placeholder (when valid). */
export function withClientId(guide: Guide, clientId: string): { envLines: string; command: string } {
  const id = clientId.trim();
  const fill = (text: string) => (CLIENT_ID.test(id) ? text.replaceAll(guide.client_id_placeholder, id) : text);
  return { envLines: fill(guide.env_lines.join("\n")), command: fill(guide.command) };
}

/** How to use your own Spotify account: the app, the redirect URI, the client id, the scopes. */
export function SetupGuide({ guide }: { guide: Guide }) {
  const [clientId, setClientId] = useState("");
  const inputId = useId();
  const hintId = useId();
  const { envLines, command } = withClientId(guide, clientId);
  const typed = clientId.trim();
  const valid = CLIENT_ID.test(typed);
  const usingOwn = guide.client_id_configured && !guide.demo_mode;
  return (
    <Section
      id="setup"
      title={usingOwn ? "Your Spotify app" : "Use your own Spotify account"}
      tone={guide.demo_mode ? "highlight" : undefined}
      description={
        usingOwn
          ? "This server uses your app's client id (SAP_SPOTIFY_CLIENT_ID). What it is registered with:"
          : "Four steps, about five minutes. You need a Spotify account; the app's owner needs Premium while it is in development mode."
      }
    >
      <ol className={styles.steps}>
        {!usingOwn ? (
          <li>
            <h3>Create an app on Spotify's developer dashboard</h3>
            <p>
              Open{" "}
              <a href={guide.dashboard_url} target="_blank" rel="noreferrer">
                Spotify's developer dashboard
              </a>
              , choose <em>Create app</em>, and tick <em>Web API</em>. Development mode is fine for your own library.
            </p>
          </li>
        ) : null}
        <li>
          <h3>Register this redirect URI</h3>
          <p>
            In the app's settings, add it exactly as shown: Spotify compares it character for character, and refuses{" "}
            <code>localhost</code>.
          </p>
          <CopyField label="redirect URI" value={guide.redirect_uri} />
        </li>
        {!usingOwn ? (
          <li>
            <h3>Paste your client id</h3>
            <p>
              It is on the app's page. No client secret is needed: the login uses PKCE. The server reads the client id
              from its environment when it starts, never from this page, so the last step restarts it.
            </p>
            <label className={styles.label} htmlFor={inputId}>
              Client id
            </label>
            <input
              id={inputId}
              className={styles.input}
              value={clientId}
              onChange={(event) => {
                setClientId(event.target.value);
              }}
              spellCheck={false}
              autoComplete="off"
              placeholder="32 letters and digits"
              aria-describedby={hintId}
              aria-invalid={typed !== "" && !valid}
            />
            <p id={hintId} className={typed !== "" && !valid ? styles.invalid : styles.hint}>
              {typed === ""
                ? "The commands below fill it in for you."
                : valid
                  ? "Looks right: the commands below use it."
                  : "A client id is 32 characters, digits and the letters a to f, as the dashboard shows it."}
            </p>
          </li>
        ) : null}
        {!usingOwn ? (
          <li>
            <h3>Restart the server with it</h3>
            <p>
              Stop this server (<kbd>Ctrl</kbd> <kbd>C</kbd> in its terminal), then put these lines in a{" "}
              <code>.env</code> file at the top of the project, which every later start reads:
            </p>
            <CopyField label=".env lines" value={envLines} />
            <p>or start it once with them:</p>
            <CopyField label="start command" value={command} />
            <p>
              Then come back to this page and connect. Demo data stays in its own folder and never mixes with yours.
            </p>
          </li>
        ) : null}
      </ol>
      <h3 className={styles.scopesTitle}>What the app asks Spotify for, and why</h3>
      <table className={styles.scopes}>
        <caption className="visually-hidden">Permissions (scopes) the login asks for</caption>
        <thead>
          <tr>
            <th scope="col">Permission</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {guide.scopes.map((scope) => (
            <tr key={scope.scope}>
              <th scope="row">
                <code>{scope.scope}</code>
              </th>
              <td>{scope.why}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className={styles.note}>
        Nothing changes in your Spotify account until you apply a change you have previewed, and every apply can be
        undone. Spotify ends every login {guide.login_lifetime_days} days after you agree; the app then asks you to
        connect again.
      </p>
    </Section>
  );
}
