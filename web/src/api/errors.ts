// API errors in words. The server answers every error as {error: code, detail: message}
// (app/api/errors.py); the app maps the codes it knows to a title and what to do, shows the
// server's sentence as the detail, and never shows raw JSON.

export interface ErrorAction {
  label: string;
  /** An app route (client-side navigation). */
  to?: string;
  /** A server URL the browser navigates to (e.g. the Spotify login). */
  href?: string;
}

export interface ErrorWords {
  title: string;
  detail: string | null;
  hint: string | null;
  action: ErrorAction | null;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string | null;
  readonly extra: Record<string, unknown>;

  constructor(status: number, code: string, detail: string | null, extra: Record<string, unknown> = {}) {
    super(detail ?? code);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.extra = extra;
  }

  /** From an error answer's body (whatever it holds: only strings are kept). */
  static fromBody(status: number, body: unknown): ApiError {
    if (typeof body === "object" && body !== null) {
      const { error, detail, ...extra } = body as Record<string, unknown>;
      if (typeof error === "string") {
        return new ApiError(status, error, typeof detail === "string" ? detail : null, extra);
      }
    }
    return new ApiError(status, `http_${status}`, null);
  }

  /** The request never got an answer (server stopped, connection refused). */
  static network(failure: unknown): ApiError {
    const error = new ApiError(0, "network_error", null);
    error.cause = failure;
    return error;
  }
}

function extraString(error: ApiError, key: string): string | null {
  const value = error.extra[key];
  return typeof value === "string" ? value : null;
}

type Words = Omit<ErrorWords, "detail"> & { detail?: string | null };

const CONNECT: ErrorAction = { label: "Go to Account", to: "/account" };

/** What each known code means for the person using the app, and what to do about it. */
function known(error: ApiError): Words | null {
  switch (error.code) {
    case "network_error":
      return {
        title: "The server is not answering",
        detail: "The app could not reach spotify-auto-playlists at this address.",
        hint: "Is the server still running? Start it again with `make run` (or `sap serve`), then retry.",
        action: null,
      };
    case "login_required":
    case "unauthorized":
    case "spotify_auth_error":
      return {
        title: "Spotify is not connected",
        hint: "Connect your Spotify account (or the demo account) on the Account screen, then try again.",
        action: extraString(error, "auth_url") ? { label: "Connect Spotify", href: "/auth/login" } : CONNECT,
      };
    case "login_denied":
      return {
        title: "Spotify access was not granted",
        detail: "The consent page was declined or closed before agreeing.",
        hint: "Connect again when you are ready; nothing was stored.",
        action: { label: "Connect Spotify", href: "/auth/login" },
      };
    case "invalid_state":
      return {
        title: "This login link expired or was already used",
        detail: "A login must be finished within 10 minutes, and each link works once.",
        hint: "Start the login again.",
        action: { label: "Connect Spotify", href: "/auth/login" },
      };
    case "login_failed":
      return {
        title: "The login did not complete",
        hint: "Try connecting again; if it keeps failing, check the server's log.",
        action: { label: "Connect Spotify", href: "/auth/login" },
      };
    case "host_not_allowed":
      return {
        title: "This address is not allowed",
        hint: "Open the app at http://127.0.0.1 with the server's port, or add this host name to SAP_ALLOWED_HOSTS and restart the server.",
        action: null,
      };
    case "cross_origin_refused":
      return {
        title: "Refused: the request came from another site",
        hint: "Open the app from the server's own address (http://127.0.0.1:PORT/).",
        action: null,
      };
    case "unsupported_media_type":
      return {
        title: "The server refused the request's format",
        hint: "Reload the page; if it happens again, the app and the server are out of step: rebuild with `make run`.",
        action: null,
      };
    case "request_too_large":
    case "csv_too_large":
      return {
        title: "The file is too large",
        hint: "The server takes files up to SAP_CSV_MAX_BYTES (32 MiB unless changed). Split the export, or raise the setting and restart the server.",
        action: null,
      };
    case "rate_limited":
    case "rate_limit_exceeded": {
      const wait = typeof error.extra.retry_after === "number" ? Math.ceil(error.extra.retry_after) : null;
      return {
        title: "Spotify asks us to slow down",
        hint: wait !== null ? `Try again in about ${wait} seconds.` : "Try again in a minute.",
        action: null,
      };
    }
    case "spotify_unavailable":
    case "upstream_error":
    case "spotify_bad_response":
      return {
        title: "Spotify is not answering properly",
        hint: "It is usually a short outage: try again in a minute.",
        action: null,
      };
    case "spotify_forbidden":
    case "playlist_unreadable":
      return {
        title: "Spotify does not let this app read that playlist",
        hint: "Since 2026 a personal app can read only playlists you own or collaborate on. Ask the owner to make you a collaborator, or copy it into a playlist of your own.",
        action: null,
      };
    case "playlist_not_found":
    case "source_not_found":
    case "spotify_not_found":
      return {
        title: "That playlist is gone",
        hint: "It may have been deleted or unfollowed on Spotify. Reload the list.",
        action: null,
      };
    case "job_queue_full":
      return {
        title: "Too many jobs are waiting",
        hint: "Let some finish (open Jobs to watch them), then try again.",
        action: null,
      };
    case "shutting_down":
      return { title: "The server is stopping", hint: "Start it again, then retry.", action: null };
    case "store_locked":
      return {
        title: "A data file is busy",
        hint: "Another command (the CLI?) is writing it. Try again in a moment.",
        action: null,
      };
    case "store_too_new":
      return {
        title: "A data file comes from a newer release",
        hint: "Upgrade spotify-auto-playlists, or restore a backup made with this release. Nothing was changed.",
        action: null,
      };
    case "store_unavailable":
    case "store_corrupt":
      return {
        title: "A data file cannot be used",
        hint: "See docs/operations.md, “Recovering a quarantined file”; `sap status` names the file.",
        action: null,
      };
    case "csv_invalid":
    case "csv_empty":
    case "csv_encoding":
    case "csv_unreadable":
    case "csv_not_a_file":
      return {
        title: "This file is not an Exportify export the app can read",
        hint: "Export your playlists with Exportify and upload the .csv files it makes.",
        action: null,
      };
    case "csv_path_not_allowed":
    case "csv_path_invalid":
    case "csv_not_found":
      return {
        title: "The server cannot read that CSV file",
        hint: "Upload the file here instead (drop it on the import area).",
        action: null,
      };
    case "validation_error":
      return {
        title: "The server did not accept the request",
        hint: "Check what you entered; if it looks right, reload the page.",
        action: null,
      };
    case "internal_error":
      return {
        title: "Something went wrong on the server",
        detail: "The server hit an unexpected error.",
        hint: "The details are in the server's log (the terminal running it). Try again; if it repeats, report it with that log.",
        action: null,
      };
    default:
      return null;
  }
}

function byStatus(status: number): string {
  if (status === 404) return "Not found";
  if (status === 409) return "That cannot be done right now";
  if (status >= 500) return "The server could not do that";
  if (status >= 400) return "The request was refused";
  return "Something went wrong";
}

/** Any thrown value, in words. */
export function describeError(failure: unknown): ErrorWords {
  if (!(failure instanceof ApiError)) {
    const message = failure instanceof Error ? failure.message : null;
    return { title: "Something went wrong in the app", detail: message, hint: "Reload the page.", action: null };
  }
  const words = known(failure);
  if (words !== null) {
    return { ...words, detail: words.detail !== undefined ? (failure.detail ?? words.detail) : failure.detail };
  }
  return { title: byStatus(failure.status), detail: failure.detail, hint: null, action: null };
}

/** Words for a stable code alone (the login callback puts only the code in the URL). */
export function describeCode(code: string): ErrorWords {
  return describeError(new ApiError(400, code, null));
}
