"""The one `Settings` object, read from `SAP_*` environment variables and an optional `.env`.

Settings are built in the entry points (CLI, server factory, scripts) and passed down; nothing
builds them at import time. Example::

    SAP_CACHE_DIR=/tmp/sap SAP_JOB_WORKERS=4 spotify-auto-playlists serve

Every field here is documented in docs/operations.md (a test checks that).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

APP_NAME = "spotify-auto-playlists"

DEMO_DIR_NAME = "demo"
DEMO_EMULATOR_PREFIX = "/emulator/spotify"
DEMO_EMULATORS_PREFIX = "/emulator"  # every emulator, at the `emulate` server's paths
DEMO_CONTACT = "demo@spotify-auto-playlists.invalid"
DEMO_LASTFM_KEY = "demo-lastfm-key"
DEMO_LLM_MODEL = "emulated-llm"

LOOPBACK_HOST_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def default_cache_dir() -> Path:
    """The per-user data directory (e.g. ~/.local/share/spotify-auto-playlists), never the repo."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def data_directory(value: str | Path) -> Path:
    """A data directory as given (``~`` expanded, made absolute); `ValueError` naming why
    it cannot be one: empty, or ``~user`` of a user this machine does not know."""
    text = str(value)
    if not text.strip():
        raise ValueError("the data directory is empty; give a path, or leave it out")
    try:
        return Path(text).expanduser().resolve()
    except RuntimeError as exc:  # pathlib: "Could not determine home directory."
        user = text.split("/", 1)[0]
        raise ValueError(f"cannot expand {user!r} in {text!r}: {exc}") from None


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
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Web origins (scheme://host:port) besides the server's own that may change state, "
            "e.g. a front-end development server (comma separated in the environment)."
        ),
    )
    max_request_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        description="Largest request body the API accepts, in bytes (413 beyond).",
    )
    csv_import_dir: Path | None = Field(
        default=None,
        description=(
            "A folder whose CSV files the HTTP API may read by path (fetch-sources with "
            "source_type csv); unset, the API takes CSV files only as uploads. The CLI "
            "(`sap fetch --csv FILE`) reads any file you name."
        ),
    )
    csv_max_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        description="Largest CSV file read or uploaded, in bytes.",
    )
    job_workers: int = Field(
        default=2, ge=1, le=32, description="How many background jobs may run at the same time."
    )
    job_queue_limit: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Jobs that may wait for a worker at once; more are refused with 503.",
    )
    step_wait: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="Seconds `POST /pipeline/{step}` (v1) waits for its job before answering "
        "202 with the job still running.",
    )
    cli_library_refresh: Literal["background", "wait"] = Field(
        default="background",
        description=(
            "After a CLI command changed the library: bring its snapshot up to date in a "
            "process of its own behind the command (background) or before the command exits "
            "(wait)."
        ),
    )
    job_history_limit: int = Field(
        default=500,
        ge=10,
        description="Finished jobs kept in jobs.json; older ones are pruned.",
    )
    events_keepalive: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="Seconds between `: keep-alive` comments on a quiet job event stream "
        "(`GET /pipeline/jobs/events`), which keep proxies from closing it and let the server "
        "notice a client that left.",
    )
    log_level: str = Field(default="INFO", description="Logging level (DEBUG, INFO, WARNING…).")
    web_dist: Path | None = Field(
        default=None,
        description=(
            "Folder of the built web app the server serves at / (default: web/dist of this "
            "source tree, which `make run` builds)."
        ),
    )

    # --- Spotify ------------------------------------------------------------------------
    spotify_client_id: str | None = Field(
        default=None,
        description="Client id of your Spotify app; without one the server runs in demo mode.",
    )
    spotify_redirect_uri: str = Field(
        default="http://127.0.0.1:8888/auth/callback",
        description=(
            "Redirect URI registered for your app (loopback IP literal, not localhost); "
            "unset, it follows the port: http://127.0.0.1:<SAP_PORT>/auth/callback."
        ),
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
        description=(
            "Client-side cap on requests per second to Spotify, all jobs together (0 = no cap)."
        ),
    )
    spotify_max_retry_after: float = Field(
        default=120.0,
        ge=0,
        description="Longest Retry-After (s) we wait out on a 429; longer waits fail the job.",
    )
    spotify_max_attempts: int = Field(
        default=6, ge=1, le=20, description="Attempts per request on 5xx and network errors."
    )
    spotify_max_throttled_attempts: int | None = Field(
        default=None,
        ge=1,
        le=50,
        description=(
            "Attempts per request while Spotify answers 429, counted apart from those on "
            "errors (unset: as many as SAP_SPOTIFY_MAX_ATTEMPTS)."
        ),
    )
    spotify_timeout: float = Field(default=30.0, gt=0, description="Per-request timeout (s).")
    demo: bool = Field(
        default=False, description="Force demo mode (emulated Spotify) even with a client id."
    )
    demo_seed: int = Field(default=0, description="Seed of the demo library.")
    demo_tracks: int = Field(default=2000, ge=1, le=200_000, description="Demo liked songs.")
    demo_playlists: int = Field(default=20, ge=0, le=500, description="Demo playlists.")

    # --- enrichment providers -------------------------------------------------------------
    contact: str | None = Field(
        default=None,
        description=(
            "E-mail address or URL put in the User-Agent of provider requests; MusicBrainz "
            "asks every client to identify itself and stays disabled without it."
        ),
    )
    musicbrainz_url: str = Field(
        default="https://musicbrainz.org/ws/2", description="Base URL of MusicBrainz WS/2."
    )
    musicbrainz_batch_size: int = Field(
        default=50, ge=1, le=100, description="ISRCs per MusicBrainz search request."
    )
    musicbrainz_name_batch_size: int = Field(
        default=20,
        ge=1,
        le=100,
        description=(
            "Tracks without an ISRC per MusicBrainz search request (their titles and artists "
            "OR'ed in one query; 1 searches them one by one)."
        ),
    )
    listenbrainz_url: str = Field(
        default="https://api.listenbrainz.org/1",
        description=(
            "Base URL of the ListenBrainz API, used for batched genres and tags of MusicBrainz "
            "recordings; empty to use (much slower) per-recording MusicBrainz lookups instead."
        ),
    )
    deezer_url: str = Field(default="https://api.deezer.com", description="Base URL of Deezer.")
    reccobeats_url: str = Field(
        default="https://api.reccobeats.com/v1", description="Base URL of ReccoBeats."
    )
    lastfm_url: str = Field(
        default="https://ws.audioscrobbler.com/2.0", description="Base URL of the Last.fm API."
    )
    lastfm_api_key: str | None = Field(
        default=None, description="Last.fm API key (free); the provider is disabled without it."
    )
    acousticbrainz_dump_dir: Path | None = Field(
        default=None,
        description="Directory of an AcousticBrainz high-level dump (JSON files named by MBID).",
    )
    acousticbrainz_url: str | None = Field(
        default=None,
        description="Base URL of a mirror of the old AcousticBrainz API (instead of a dump).",
    )
    llm_base_url: str = Field(
        default="http://127.0.0.1:11434/v1",
        description=(
            "Base URL of an OpenAI-compatible API (chat completions); the default is a local "
            "Ollama server."
        ),
    )
    llm_model: str | None = Field(
        default=None, description="Model the LLM provider asks; the provider is off without it."
    )
    llm_api_key: str | None = Field(
        default=None, description="Bearer key for the LLM API (local servers need none)."
    )
    llm_batch_size: int = Field(default=20, ge=1, le=100, description="Tracks per LLM request.")
    llm_max_tracks_per_run: int = Field(
        default=500, ge=0, description="Most tracks one LLM enrichment run sends (0 = no cap)."
    )
    enrich_not_found_retry_days: float = Field(
        default=30.0,
        ge=0,
        description="Days before a track a provider did not know is asked about again.",
    )
    enrichment_precedence: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Which provider wins when several give the same scalar key, most trusted first "
            "(comma separated in the environment, e.g. deezer,llm); providers not named follow "
            "in their default order, which empty keeps (the provider registry's ranks: "
            "docs/providers.md). Lists such as genres are merged; manual values always win."
        ),
    )
    provider_max_attempts: int = Field(
        default=5,
        ge=1,
        le=20,
        description="Attempts per provider request on 5xx and network errors.",
    )
    provider_max_throttled_attempts: int | None = Field(
        default=None,
        ge=1,
        le=50,
        description=(
            "Attempts per provider request while the service asks us to slow down, counted "
            "apart from those on errors (unset: as many as SAP_PROVIDER_MAX_ATTEMPTS)."
        ),
    )
    provider_max_retry_after: float = Field(
        default=120.0,
        ge=0,
        description="Longest wait (s) a provider may ask for before the run gives up.",
    )
    provider_timeout: float = Field(
        default=30.0, gt=0, description="Per-request timeout (s) for provider requests."
    )
    llm_timeout: float = Field(
        default=120.0, gt=0, description="Per-request timeout (s) for LLM requests."
    )

    # --- sync -------------------------------------------------------------------------------
    sync_max_remove_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description=(
            "Largest share of a playlist's tracks one apply may remove without --force "
            "(0.5 = half)."
        ),
    )
    sync_every: float | None = Field(
        default=None,
        gt=0,
        description=(
            "Let the server run the unattended sync (with apply) this often: seconds, or "
            "a duration like 30m, 6h, 1d (`serve --sync-every`); off by default."
        ),
    )
    backup_retention: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Backups kept per playlist (the oldest go first).",
    )

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _expand_cache_dir(cls, value: Any) -> Any:
        return data_directory(value) if isinstance(value, str | Path) else value

    @field_validator("csv_import_dir", mode="after")
    @classmethod
    def _resolve_import_dir(cls, value: Path | None) -> Path | None:
        # Resolved once, so that "inside the folder" compares real paths (symlinks followed).
        if value is None:
            return None
        try:
            return value.expanduser().resolve()
        except RuntimeError as exc:  # "~nobody/x": no such user
            raise ValueError(str(exc)) from None

    @field_validator("allowed_hosts", "allowed_origins", "enrichment_precedence", mode="before")
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

    @model_validator(mode="after")
    def _redirect_follows_the_port(self) -> Settings:
        # A server on another port must be called back on that port, not on the default's.
        if "spotify_redirect_uri" not in self.model_fields_set and self.port != 8888:
            self.spotify_redirect_uri = f"http://127.0.0.1:{self.port}/auth/callback"
        return self

    @field_validator(
        "spotify_api_url",
        "spotify_accounts_url",
        "musicbrainz_url",
        "listenbrainz_url",
        "deezer_url",
        "reccobeats_url",
        "lastfm_url",
        "acousticbrainz_url",
        "llm_base_url",
        mode="after",
    )
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value is not None else None

    @field_validator(
        "spotify_client_id",
        "lastfm_api_key",
        "llm_model",
        "llm_api_key",
        "contact",
        "acousticbrainz_url",
        "acousticbrainz_dump_dir",
        "csv_import_dir",
        "web_dist",
        "spotify_max_throttled_attempts",
        "provider_max_throttled_attempts",
        mode="before",
    )
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
        talks to the emulators the server mounts under `/emulator/…` (Spotify and every
        enrichment provider).
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
                # The provider emulators serve the same generated library's "truth".
                "contact": self.contact or DEMO_CONTACT,
                "musicbrainz_url": f"{base}{DEMO_EMULATORS_PREFIX}/musicbrainz/ws/2",
                "listenbrainz_url": f"{base}{DEMO_EMULATORS_PREFIX}/listenbrainz/1",
                "deezer_url": f"{base}{DEMO_EMULATORS_PREFIX}/deezer",
                "reccobeats_url": f"{base}{DEMO_EMULATORS_PREFIX}/reccobeats/v1",
                "lastfm_url": f"{base}{DEMO_EMULATORS_PREFIX}/lastfm/2.0",
                "lastfm_api_key": DEMO_LASTFM_KEY,
                "llm_base_url": f"{base}{DEMO_EMULATORS_PREFIX}/llm/v1",
                "llm_model": DEMO_LLM_MODEL,
                "llm_api_key": None,
                "acousticbrainz_url": f"{base}{DEMO_EMULATORS_PREFIX}/acousticbrainz",
                "acousticbrainz_dump_dir": None,
            }
        )

    @field_validator("sync_every", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().lower()
            if not text:
                return None
            units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
            unit = units.get(text[-1])
            try:
                return float(text[:-1]) * unit if unit else float(text)
            except ValueError:
                raise ValueError(f"{value!r} is not a duration like 90s, 30m, 6h or 1d") from None
        return value

    @field_validator("log_level", mode="after")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    def secret_values(self) -> list[str]:
        """The configured secrets (API keys), which logs mask wherever they appear."""
        return [value for value in (self.lastfm_api_key, self.llm_api_key) if value]

    def accepted_hosts(self) -> frozenset[str]:
        """Host header names the API accepts: loopback names, the bind address, and extras."""
        names = set(LOOPBACK_HOST_NAMES)
        names.update(host.lower() for host in self.allowed_hosts)
        if self.host not in {"0.0.0.0", "::"}:  # noqa: S104 - comparing, not binding
            names.add(self.host.lower())
        return frozenset(names)
