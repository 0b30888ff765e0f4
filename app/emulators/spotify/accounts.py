"""The accounts service (`accounts.spotify.com`): `/authorize` and `/api/token`.

`/authorize` checks the request the way Spotify does. A bad `client_id` or `redirect_uri`
cannot be sent back to the app, so it gets Spotify's error *page*: status 400 and a small HTML
body such as ``INVALID_CLIENT: Invalid redirect URI``. Every other problem is redirected to the
app as ``?error=<code>&state=<state>``. On success the emulated user consents at once (or, with
`auto_consent=False`, on an Agree/Cancel page) and the browser is redirected with
``?code=...&state=...``.

Only the PKCE flow exists here (no client secrets): `code_challenge_method=S256` and a
`code_challenge` are required.

`/api/token` takes a form-encoded POST (`authorization_code` or `refresh_token` grant) and
answers JSON; errors are ``400 {"error": ..., "error_description": ...}``.
"""

from __future__ import annotations

import html
import re
import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from app.emulators.common.transport import json_response
from app.emulators.spotify.config import KNOWN_SCOPES, SpotifyEmulatorConfig
from app.emulators.spotify.oauth import OAuthError, TokenServer

_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def redirect_uri_allowed(uri: str, registered: tuple[str, ...] | None = None) -> bool:
    """Spotify's rules since 2025-11-27: https anywhere; plain http only for a loopback IP
    literal with a port (`http://127.0.0.1:8888/cb`, `http://[::1]:8888/cb`); never
    `localhost`. With `registered`, the URI must also be one of them, character for character.
    """
    if registered is not None and uri not in registered:
        return False
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    if parts.fragment or not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and parts.hostname in {"127.0.0.1", "::1"} and port is not None


def _with_query(uri: str, params: dict[str, str]) -> str:
    separator = "&" if urlsplit(uri).query else "?"
    return f"{uri}{separator}{urlencode(params)}"


def _error_page(message: str) -> HTMLResponse:
    text = html.escape(message)
    body = f"<!doctype html><title>Error</title><h1>Oops! Something went wrong</h1><p>{text}</p>"
    return HTMLResponse(body, status_code=400)


class AccountsService:
    """Routes of the accounts service over a `TokenServer`."""

    def __init__(self, tokens: TokenServer, config: SpotifyEmulatorConfig) -> None:
        self.tokens = tokens
        self.config = config
        self._pending: dict[str, dict[str, str]] = {}  # consent pages awaiting a decision

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/authorize", self.authorize, methods=["GET"]),
                Route("/authorize/decision", self.decide, methods=["POST"]),
                Route("/api/token", self.token, methods=["POST"]),
            ]
        )

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        if not self.tokens.client_allowed(params.get("client_id")):
            return _error_page("INVALID_CLIENT: Invalid client")
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri_allowed(redirect_uri, self.config.redirect_uris):
            return _error_page("INVALID_CLIENT: Invalid redirect URI")
        problem = self._request_problem(params)
        if problem is not None:
            return self._redirect(params, {"error": problem})
        if self.config.auto_consent:
            return self._redirect(params, {"code": self._code(params)})
        pending = secrets.token_urlsafe(16)
        self._pending[pending] = params
        return HTMLResponse(_consent_page(pending, params))

    async def decide(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        params = self._pending.pop(form.get("request", ""), None)
        if params is None:
            return _error_page("Invalid or already answered authorization request")
        if form.get("decision") != "accept":
            return self._redirect(params, {"error": "access_denied"}, status=303)
        return self._redirect(params, {"code": self._code(params)}, status=303)

    async def token(self, request: Request) -> Response:
        form: dict[str, str] = {}
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        grant_type = form.get("grant_type")
        try:
            if grant_type == "authorization_code":
                body = self.tokens.exchange_code(
                    form.get("code", ""),
                    form.get("redirect_uri", ""),
                    form.get("client_id", ""),
                    form.get("code_verifier", ""),
                )
            elif grant_type == "refresh_token":
                if not form.get("refresh_token"):
                    raise OAuthError("invalid_request", "refresh_token must be supplied")
                body = self.tokens.refresh(form["refresh_token"], form.get("client_id", ""))
            elif grant_type == "client_credentials":
                raise OAuthError("invalid_client", "Invalid client secret")
            elif not grant_type:
                raise OAuthError("unsupported_grant_type", "grant_type parameter is missing")
            else:
                raise OAuthError(
                    "unsupported_grant_type",
                    "grant_type must be client_credentials, authorization_code or refresh_token",
                )
        except OAuthError as error:
            payload = {"error": error.error, "error_description": error.description}
            return json_response(payload, 400, _NO_STORE)
        return json_response(body, 200, _NO_STORE)

    def _request_problem(self, params: dict[str, str]) -> str | None:
        """The OAuth error code for an authorisation request that can be redirected back."""
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        if params.get("code_challenge_method") != "S256":
            return "invalid_request"
        if not _CHALLENGE.fullmatch(params.get("code_challenge", "")):
            return "invalid_request"
        scopes = params.get("scope", "").split()
        if any(scope not in KNOWN_SCOPES for scope in scopes):
            return "invalid_scope"
        return None

    def _code(self, params: dict[str, str]) -> str:
        scopes = tuple(dict.fromkeys(params.get("scope", "").split()))
        return self.tokens.issue_code(
            params["client_id"], params["redirect_uri"], scopes, params["code_challenge"]
        )

    @staticmethod
    def _redirect(params: dict[str, str], result: dict[str, str], status: int = 302) -> Response:
        if "state" in params:
            result = {**result, "state": params["state"]}
        return RedirectResponse(_with_query(params["redirect_uri"], result), status_code=status)


def _consent_page(pending: str, params: dict[str, str]) -> str:
    scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params.get("scope", "").split())
    return (
        "<!doctype html><title>Spotify (emulated)</title>"
        f"<h1>Allow {html.escape(params['client_id'])} to access your account?</h1>"
        f"<ul>{scopes}</ul>"
        '<form method="post" action="authorize/decision">'
        f'<input type="hidden" name="request" value="{html.escape(pending)}">'
        '<button name="decision" value="accept">Agree</button> '
        '<button name="decision" value="cancel">Cancel</button></form>'
    )
