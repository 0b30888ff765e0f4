"""What a person needs to connect their own Spotify account: the guide behind `sap setup`
and `GET /auth/setup`.

    guide = setup_guide(settings)          # the settings as given, before demo mode's twin
    guide.redirect_uri                     # "http://127.0.0.1:8888/auth/callback"
    guide.command                          # "SAP_SPOTIFY_CLIENT_ID=YOUR_CLIENT_ID make run"

The client id is read from the environment (or `.env`) when the server starts, never from a
request: a page must not be able to point the server at another Spotify app. So the guide ends
in the exact command (and `.env` lines) to start the server with your own client id.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.core.config import Settings
from app.spotify.auth.pkce import SCOPE_REASONS
from app.spotify.auth.tokens import REFRESH_TOKEN_LIFETIME

DASHBOARD_URL = "https://developer.spotify.com/dashboard"
CLIENT_ID_PLACEHOLDER = "YOUR_CLIENT_ID"
DEFAULT_PORT = Settings.model_fields["port"].default


class ScopeUse(BaseModel):
    scope: str
    why: str


class SetupGuide(BaseModel):
    """How to connect a real Spotify account to this server."""

    demo_mode: bool = Field(description="The server runs on the built-in emulated account.")
    demo_reason: str | None = Field(
        description="Why demo mode is on: no client id configured, or SAP_DEMO set."
    )
    client_id_configured: bool = Field(description="SAP_SPOTIFY_CLIENT_ID is set.")
    dashboard_url: str = Field(description="Where to create your Spotify app.")
    redirect_uri: str = Field(
        description="The redirect URI to register in your app, character for character."
    )
    scopes: list[ScopeUse] = Field(description="Every permission the login asks for, and why.")
    client_id_placeholder: str = Field(
        description="The placeholder in `env_lines` and `command` to replace by your client id."
    )
    env_lines: list[str] = Field(description="The lines to put in `.env` (or the environment).")
    command: str = Field(description="One command that starts the server with them.")
    login_lifetime_days: int = Field(
        description="Spotify ends a login this many days after consent; then log in again."
    )


def setup_guide(settings: Settings) -> SetupGuide:
    """The guide for `settings` as the user gave them (not demo mode's effective twin)."""
    port = settings.port
    redirect_uri = settings.spotify_redirect_uri  # follows the port unless set
    env_lines = [f"SAP_SPOTIFY_CLIENT_ID={CLIENT_ID_PLACEHOLDER}"]
    if redirect_uri != f"http://127.0.0.1:{port}/auth/callback":
        env_lines.append(f"SAP_SPOTIFY_REDIRECT_URI={redirect_uri}")
    run = "make run" if port == DEFAULT_PORT else f"make run PORT={port}"
    demo_reason = None
    if settings.demo_mode:
        demo_reason = (
            "SAP_DEMO is set (unset it to use your client id)"
            if settings.spotify_client_id
            else "no SAP_SPOTIFY_CLIENT_ID is set"
        )
    return SetupGuide(
        demo_mode=settings.demo_mode,
        demo_reason=demo_reason,
        client_id_configured=bool(settings.spotify_client_id),
        dashboard_url=DASHBOARD_URL,
        redirect_uri=redirect_uri,
        scopes=[ScopeUse(scope=scope, why=why) for scope, why in SCOPE_REASONS.items()],
        client_id_placeholder=CLIENT_ID_PLACEHOLDER,
        env_lines=env_lines,
        command=" ".join([*env_lines, run]),
        login_lifetime_days=REFRESH_TOKEN_LIFETIME.days,
    )
