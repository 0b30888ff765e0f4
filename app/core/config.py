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

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

APP_NAME = "spotify-auto-playlists"

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
