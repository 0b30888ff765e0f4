import { Link } from "react-router";
import type { Schemas } from "../../api/client";
import { Badge } from "../../components/Badge";
import { Button, ButtonLink } from "../../components/Button";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Notice } from "../../components/Notice";
import { Section } from "../../components/Page";
import { day, fullDate, relativeTime } from "../../lib/time";
import { LOGIN_PATH } from "./api";
import styles from "./AccountPage.module.css";
import buttonStyles from "../../components/Button.module.css";

export type AuthStatus = Schemas["AuthStatus"];

const SOON_DAYS = 14; // warn this long before Spotify ends the login

/** The connection: who, until when, and the buttons to connect or disconnect. */
export function ConnectionCard({
  status,
  loginLifetimeDays,
  onDisconnect,
  disconnecting,
  disconnectError,
  now = new Date(),
}: {
  status: AuthStatus;
  loginLifetimeDays: number | null;
  onDisconnect: () => void;
  disconnecting: boolean;
  disconnectError: unknown;
  now?: Date;
}) {
  const demo = status.demo_mode;
  const connectLabel = demo ? "Connect the demo account" : "Connect Spotify";
  const who = status.user_name ?? status.user_id;
  if (status.connected) {
    const refreshEnds = status.refresh_expires_at ?? null;
    const daysLeft = refreshEnds !== null ? (new Date(refreshEnds).getTime() - now.getTime()) / 86_400_000 : null;
    return (
      <Section
        title="Connection"
        id="connection"
        actions={
          <Badge tone="success">
            <span aria-hidden="true">●</span> Connected
          </Badge>
        }
      >
        <p className={styles.who}>
          Signed in as <strong>{who}</strong>
          {status.user_id !== null && status.user_id !== undefined && status.user_name ? (
            <>
              {" "}
              <span className={styles.muted}>({status.user_id})</span>
            </>
          ) : null}
          {demo ? <span className={styles.muted}> · the demo's emulated account</span> : null}
        </p>
        <dl className={styles.facts}>
          {status.access_expires_at ? (
            <div>
              <dt>Access</dt>
              <dd>
                Renewed automatically; the current token lasts until{" "}
                <time dateTime={status.access_expires_at} title={fullDate(status.access_expires_at)}>
                  {new Date(status.access_expires_at).toLocaleTimeString(undefined, { timeStyle: "short" })}
                </time>{" "}
                ({relativeTime(status.access_expires_at, now)}).
              </dd>
            </div>
          ) : null}
          {refreshEnds !== null ? (
            <div>
              <dt>Login</dt>
              <dd>
                Valid until{" "}
                <time dateTime={refreshEnds} title={fullDate(refreshEnds)}>
                  {day(refreshEnds)}
                </time>{" "}
                ({relativeTime(refreshEnds, now)}). Spotify ends every login {loginLifetimeDays ?? 183} days after you
                agree; the app then asks you to connect again, and keeps all your data.
              </dd>
            </div>
          ) : null}
        </dl>
        {daysLeft !== null && daysLeft < SOON_DAYS ? (
          <Notice
            tone="warning"
            title={`Your Spotify login ends in ${Math.max(0, Math.ceil(daysLeft))} days`}
            actions={
              <ButtonLink href={LOGIN_PATH} size="sm" variant="primary">
                Connect again now
              </ButtonLink>
            }
          >
            <p>
              Connecting again now starts a new {loginLifetimeDays ?? 183}-day login, so unattended syncs do not stop.
            </p>
          </Notice>
        ) : null}
        {disconnectError !== null ? <ErrorNotice error={disconnectError} /> : null}
        <div className={styles.actions}>
          <Link to="/sources" className={[buttonStyles.button, buttonStyles.primary].join(" ")}>
            Choose sources
          </Link>
          <Button variant="danger" onClick={onDisconnect} busy={disconnecting}>
            Disconnect
          </Button>
        </div>
        <p className={styles.note}>
          Disconnecting forgets the stored token on this machine; fetched tracks, rules and backups stay.
        </p>
      </Section>
    );
  }
  return (
    <Section
      title="Connection"
      id="connection"
      actions={
        <Badge tone={status.login_required && who ? "warning" : "neutral"}>
          {status.login_required && who ? "Login expired" : "Not connected"}
        </Badge>
      }
    >
      {status.login_required && who ? (
        <Notice tone="warning" title={`Spotify needs you to connect again${who ? `, ${who}` : ""}`}>
          <p>
            {status.reason ?? "The login ended."} Connecting again takes one click on Spotify's page; your data is kept.
          </p>
        </Notice>
      ) : (
        <p className={styles.lead}>
          {demo
            ? "Connect the built-in demo account to try everything. The emulated Spotify agrees at once; with your own account, Spotify first asks you to agree to the permissions listed below."
            : "Connect your Spotify account: Spotify asks you to agree to the permissions listed below, then sends you back here."}
        </p>
      )}
      <div className={styles.actions}>
        <ButtonLink href={LOGIN_PATH} variant="primary">
          {status.login_required && who ? "Connect again" : connectLabel}
        </ButtonLink>
      </div>
    </Section>
  );
}
