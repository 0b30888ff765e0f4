import { useEffect, useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { describeCode } from "../../api/errors";
import { useCommands, type Command } from "../../app/commands";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Notice } from "../../components/Notice";
import { Loading, PageHeader } from "../../components/Page";
import { RichText } from "../../components/RichText";
import { useAuthStatus, useLogout, useSetupGuide } from "./api";
import { ConnectionCard } from "./ConnectionCard";
import { SetupGuide } from "./SetupGuide";
import styles from "./AccountPage.module.css";

type Outcome = { kind: "done" } | { kind: "error"; code: string } | { kind: "disconnected" } | null;

function outcomeOf(params: URLSearchParams): Outcome {
  const code = params.get("login_error");
  if (code !== null) return { kind: "error", code };
  return params.get("login") === "done" ? { kind: "done" } : null;
}

/** Account: the demo or your own Spotify account, its connection, and how to set one up. */
export function AccountPage() {
  const status = useAuthStatus();
  const guide = useSetupGuide();
  const logout = useLogout();
  const [params, setParams] = useSearchParams();
  // The login callback sends the browser back here with ?login=done or ?login_error=CODE (a
  // page load): say what happened once, and take it out of the address (a reload must not say
  // it again).
  const [outcome, setOutcome] = useState<Outcome>(() => outcomeOf(params));
  useEffect(() => {
    if (params.has("login") || params.has("login_error")) setParams({}, { replace: true });
  }, [params, setParams]);

  const commands = useMemo<Command[]>(
    () => [
      {
        id: "account:setup",
        title: "Show the setup guide for your own account",
        group: "Account",
        keywords: ["client id", "redirect", "scopes"],
        run: () => {
          document.getElementById("setup")?.scrollIntoView();
          document.getElementById("setup-title")?.focus();
        },
      },
      ...(guide.data !== undefined
        ? [
            {
              id: "account:copy-redirect",
              title: "Copy the redirect URI",
              group: "Account",
              run: () => void navigator.clipboard.writeText(guide.data.redirect_uri),
            },
          ]
        : []),
    ],
    [guide.data],
  );
  useCommands(commands);

  const who = status.data?.user_name ?? status.data?.user_id ?? null;
  const failure = outcome?.kind === "error" ? describeCode(outcome.code) : null;
  return (
    <>
      <PageHeader
        title="Account"
        lead={
          status.data?.demo_mode === true
            ? "You are trying the app on a built-in demo account. Connect it below, or set up your own."
            : "Your Spotify connection, and what the app may do with it."
        }
      />
      <div className={styles.stack}>
        {outcome?.kind === "done" && status.data?.connected === true ? (
          <Notice tone="success" title={`Connected${who !== null ? ` as ${who}` : ""}`} live>
            <p>Next, choose what to fetch on the Sources screen.</p>
          </Notice>
        ) : null}
        {outcome?.kind === "disconnected" ? (
          <Notice tone="info" title="Disconnected" live>
            <p>The token is forgotten on this machine. Your library, rules and backups are kept.</p>
          </Notice>
        ) : null}
        {failure !== null ? (
          <Notice tone="danger" title={failure.title} live>
            {failure.detail !== null ? <p>{failure.detail}</p> : null}
            {failure.hint !== null ? (
              <p>
                <RichText text={failure.hint} />
              </p>
            ) : null}
          </Notice>
        ) : null}
        {status.isPending ? <Loading label="Checking the connection…" /> : null}
        {status.error !== null ? <ErrorNotice error={status.error} /> : null}
        {status.data !== undefined ? (
          <ConnectionCard
            status={status.data}
            loginLifetimeDays={guide.data?.login_lifetime_days ?? null}
            onDisconnect={() => {
              logout.mutate(undefined, {
                onSuccess: () => {
                  setOutcome({ kind: "disconnected" });
                },
              });
            }}
            disconnecting={logout.isPending}
            disconnectError={logout.error}
          />
        ) : null}
        {guide.error !== null ? <ErrorNotice error={guide.error} /> : null}
        {guide.data !== undefined ? <SetupGuide guide={guide.data} /> : null}
      </div>
    </>
  );
}
