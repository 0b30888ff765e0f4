"""The one `Settings` object, read from `SAP_*` environment variables and an optional `.env`.

Settings are built in the entry points (CLI, server factory, scripts) and passed down; nothing
builds them at import time. Example::

    SAP_CACHE_DIR=/tmp/sap SAP_JOB_WORKERS=4 spotify-auto-playlists serve

Every field here is documented in docs/operations.md (a test checks that).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

APP_NAME = "spotify-auto-playlists"

DEMO_DIR_NAME = "demo"
DEMO_EMULATOR_PREFIX = "/emulator/spotify"

LOOPBACK_HOST_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def default_cache_dir() -> Path:
    """The per-user data directory (e.g. ~/.local/share/spotify-auto-playlists), never the repo."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def is_loopback_host(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Runtime configuration. Later issues add the Spotify and provider settings."""

    model_config = SettingsConfigDict(
        env_prefix="SAP_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    cache_dir: Path = Field(
        default_factory=default_cache_dir,
        description="Directory holding every JSON store (tracks, rules, jobs, tokens…).",
    )
    host: str = Field(default="127.0.0.1", description="Address the API server binds to.")
    port: int = Field(default=8888, ge=1, le=65535, description="Port the API server listens on.")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Extra Host header names the server accepts besides loopback names "
            "(comma separated in the environment)."
        ),
    )
    job_workers: int = Field(
        default=2, ge=1, le=32, description="How many background jobs may run at the same time."
    )
    job_history_limit: int = Field(
        default=500,
        ge=10,
        description="Finished jobs kept in jobs.json; older ones are pruned.",
    )
    log_level: str = Field(default="INFO", description="Logging level (DEBUG, INFO, WARNING…).")

    # --- Spotify ------------------------------------------------------------------------
    spotify_client_id: str | None = Field(
        default=None,
        description="Client id of your Spotify app; without one the server runs in demo mode.",
    )
    spotify_redirect_uri: str = Field(
        default="http://127.0.0.1:8888/auth/callback",
        description="Redirect URI registered for your app (loopback IP literal, not localhost).",
    )
    spotify_api_url: str = Field(
        default="https://api.spotify.com/v1", description="Base URL of the Spotify Web API."
    )
    spotify_accounts_url: str = Field(
        default="https://accounts.spotify.com",
        description="Base URL of Spotify's accounts service.",
    )
    spotify_concurrency: int = Field(
        default=8, ge=1, le=32, description="Parallel requests when fetching pages."
    )
    spotify_rate_limit: float = Field(
        default=50.0,
        ge=0,
        description="Client-side cap on requests per second to Spotify (0 = no cap).",
    )
    spotify_max_retry_after: float = Field(
        default=120.0,
        ge=0,
        description="Longest Retry-After (s) we wait out on a 429; longer waits fail the job.",
    )
    spotify_max_attempts: int = Field(
        default=6, ge=1, le=20, description="Attempts per request on 5xx, 429 and network errors."
    )
    spotify_timeout: float = Field(default=30.0, gt=0, description="Per-request timeout (s).")
    demo: bool = Field(
        default=False, description="Force demo mode (emulated Spotify) even with a client id."
    )
    demo_seed: int = Field(default=0, description="Seed of the demo library.")
    demo_tracks: int = Field(default=2000, ge=1, le=200_000, description="Demo liked songs.")
    demo_playlists: int = Field(default=20, ge=0, le=500, description="Demo playlists.")

    @field_validator("cache_dir", mode="after")
    @classmethod
    def _expand_cache_dir(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        # Accept "a.example, b.example" from the environment as well as JSON lists.
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("spotify_redirect_uri", mode="after")
    @classmethod
    def _check_redirect(cls, value: str) -> str:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
        if parts.scheme not in {"http", "https"} or not host:
            raise ValueError(f"{value!r} is not an http(s) URL")
        if host == "localhost" or host.endswith(".localhost"):
            raise ValueError(
                "Spotify rejects 'localhost' redirect URIs (since 2025-11-27); use the loopback "
                "address instead, e.g. http://127.0.0.1:8888/auth/callback, and register that "
                "exact URI in your app's dashboard"
            )
        if parts.scheme == "http" and not is_loopback_host(host):
            raise ValueError(
                "plain http redirect URIs are only allowed for loopback IP addresses "
                "(127.0.0.1 or [::1]); use https for anything else"
            )
        return value

    @field_validator("spotify_api_url", "spotify_accounts_url", mode="after")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("spotify_client_id", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def demo_mode(self) -> bool:
        """Demo mode: no client id configured, or asked for explicitly."""
        return self.demo or not self.spotify_client_id

    def effective(self) -> Settings:
        """These settings, or in demo mode their demo twin.

        The demo keeps its data in `<cache_dir>/demo` (never mixed with a real account's) and
        talks to the emulator the server mounts under `/emulator/spotify`.
        """
        if not self.demo_mode or self.cache_dir.name == DEMO_DIR_NAME:
            return self
        base = f"http://127.0.0.1:{self.port}"
        return self.model_copy(
            update={
                "cache_dir": self.cache_dir / DEMO_DIR_NAME,
                "spotify_api_url": f"{base}{DEMO_EMULATOR_PREFIX}/v1",
                "spotify_accounts_url": f"{base}{DEMO_EMULATOR_PREFIX}/accounts",
                "spotify_redirect_uri": f"{base}/auth/callback",
            }
        )

    @field_validator("log_level", mode="after")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    def accepted_hosts(self) -> frozenset[str]:
        """Host header names the API accepts: loopback names, the bind address, and extras."""
        names = set(LOOPBACK_HOST_NAMES)
        names.update(host.lower() for host in self.allowed_hosts)
        if self.host not in {"0.0.0.0", "::"}:  # noqa: S104 - comparing, not binding
            names.add(self.host.lower())
        return frozenset(names)
