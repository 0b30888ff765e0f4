"""/auth: PKCE login against Spotify (or the demo emulator), callback, status, logout."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from app.api.deps import ServicesDep
from app.api.schemas import ERROR_RESPONSES, SERVER_ERROR_RESPONSES, SPOTIFY_ERROR_RESPONSES
from app.core.config import Settings
from app.core.errors import AppError, BadRequestError
from app.spotify.auth.login import complete_login
from app.spotify.auth.pkce import LoginSessions, authorize_url
from app.spotify.auth.setup import SetupGuide, setup_guide
from app.spotify.auth.tokens import AuthStatus, auth_status

router = APIRouter(
    prefix="/auth", tags=["auth"], responses={**ERROR_RESPONSES, **SERVER_ERROR_RESPONSES}
)


class LoginStart(BaseModel):
    auth_url: str = Field(description="Spotify's consent page for this login (PKCE).")


class LoginDone(BaseModel):
    connected: bool
    user_id: str
    user_name: str | None


def _sessions(request: Request) -> LoginSessions:
    sessions: LoginSessions = request.app.state.login_sessions
    return sessions


def login_url(request: Request) -> str:
    return str(request.url_for("login"))


@router.get(
    "/login",
    summary="Start the Spotify login (redirects to Spotify's consent page)",
    description="With `?redirect=false` answers `{auth_url}` as JSON instead of redirecting.",
    response_model=None,
    responses={
        200: {"model": LoginStart, "description": "With `?redirect=false`: where to log in."},
        307: {
            "description": "Redirect to Spotify's consent page (no body).",
            "headers": {
                "Location": {
                    "description": "Spotify's authorize URL, with this login's state.",
                    "schema": {"type": "string", "format": "uri"},
                }
            },
        },
    },
)
def login(
    request: Request, services: ServicesDep, redirect: Annotated[bool, Query()] = True
) -> Response:
    state, challenge = _sessions(request).start()
    url = authorize_url(
        services.spotify.settings,
        client_id=services.spotify.client_id,
        state=state,
        challenge=challenge,
    )
    if not redirect:
        return JSONResponse(LoginStart(auth_url=url).model_dump())
    return RedirectResponse(url, status_code=307)


def _page(title: str, text: str, status: int = 200) -> HTMLResponse:
    body = (
        f"<!doctype html><meta charset=utf-8><title>{escape(title)}</title>"
        f"<h1>{escape(title)}</h1><p>{escape(text)}</p>"
    )
    return HTMLResponse(body, status_code=status)


ACCOUNT_PAGE = "/account"  # the web app's screen that started the login


@router.get(
    "/callback",
    summary="Where Spotify sends the browser back after consent",
    description=(
        "JSON when the request accepts `application/json`. A browser navigating here (it "
        "accepts `text/html`) is sent back to the web app's account screen with 303: "
        "`/account?login=done`, or `/account?login_error=CODE` when the login failed (the "
        "screen says what happened and what to do). Other clients get a small HTML page."
    ),
    response_model=None,
    responses={
        200: {
            "model": LoginDone,
            "description": "Logged in.",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
        303: {
            "description": "A browser is sent back to the web app's account screen.",
            "headers": {
                "Location": {
                    "description": "`/account?login=done` or `/account?login_error=CODE`.",
                    "schema": {"type": "string"},
                }
            },
        },
        **SPOTIFY_ERROR_RESPONSES,
    },
)
async def callback(
    request: Request,
    services: ServicesDep,
    state: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[str | None, Query(max_length=2000)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    accept = request.headers.get("accept", "")
    browser = "text/html" in accept and "application/json" not in accept
    try:
        verifier = _sessions(request).finish(state)
        if error is not None or not code:
            raise BadRequestError(
                f"Spotify did not grant access ({error or 'no code'}); start again at /auth/login",
                code="login_denied",
            )
        me = await complete_login(services.spotify, code, verifier)
    except AppError as failure:
        if not browser:
            raise
        # Only the stable code travels in the URL: the screen words it, nothing is reflected.
        return RedirectResponse(f"{ACCOUNT_PAGE}?login_error={failure.code}", status_code=303)
    if browser:
        return RedirectResponse(f"{ACCOUNT_PAGE}?login=done", status_code=303)
    if "application/json" in accept:
        done = LoginDone(connected=True, user_id=me.id, user_name=me.display_name)
        return JSONResponse(done.model_dump())
    return _page(
        "Connected to Spotify",
        f"Logged in as {me.display_name or me.id}. You can close this window.",
    )


@router.get("/status", summary="Connected? As whom, until when; auth_url when login is needed")
def status(request: Request, services: ServicesDep) -> AuthStatus:
    return auth_status(
        services.spotify.tokens, demo=services.spotify.demo, login_url=login_url(request)
    )


@router.get(
    "/setup",
    summary="How to connect your own Spotify account: redirect URI, scopes, the command",
    description=(
        "The client id is read from `SAP_SPOTIFY_CLIENT_ID` when the server starts (never "
        "from a request), so the guide ends in the command that starts the server with yours."
    ),
)
def setup(request: Request) -> SetupGuide:
    given: Settings = request.app.state.given_settings
    return setup_guide(given)


@router.post("/logout", summary="Forget the stored Spotify token")
def logout(request: Request, services: ServicesDep) -> AuthStatus:
    services.spotify.tokens.logout()
    return auth_status(
        services.spotify.tokens, demo=services.spotify.demo, login_url=login_url(request)
    )
