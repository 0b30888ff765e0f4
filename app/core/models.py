"""Core domain models shared by every layer.

Parsing is lenient (unknown fields are ignored) because these models also read what external
services and older files give us; what we write is always the full, validated shape.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from app.core.job_status import JobStatus as JobStatus  # its home; imported from here too


def utc_now() -> datetime:
    """Timezone-aware current time; every timestamp we store is UTC."""
    return datetime.now(UTC)


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# --- tracks -------------------------------------------------------------------------------


class ArtistRef(_Model):
    id: str | None = None  # local files have artists without ids
    name: str


class AlbumRef(_Model):
    id: str | None = None
    name: str = ""
    release_date: str | None = None  # "1999", "1999-05" or "1999-05-17" per the precision
    release_date_precision: Literal["year", "month", "day"] | None = None

    @field_validator("release_date", mode="before")
    @classmethod
    def _blank_date(cls, value: Any) -> Any:
        # Spotify sends "" or "0000" for local files and some old releases.
        return None if value in ("", "0000") else value

    @field_validator("release_date_precision", mode="before")
    @classmethod
    def _unknown_precision(cls, value: Any) -> Any:
        return value if value in ("year", "month", "day") else None


class Track(_Model):
    """A track as we keep it. For local files `id` is the `spotify:local:…` URI."""

    id: str
    uri: str
    name: str
    artists: list[ArtistRef] = Field(default_factory=list)
    album: AlbumRef = Field(default_factory=AlbumRef)
    duration_ms: int = Field(default=0, ge=0)
    explicit: bool = False
    isrc: str | None = None
    is_local: bool = False
    added_at: datetime | None = None


class TrackSourceType(StrEnum):
    LIKED = "liked"
    PLAYLIST = "playlist"
    CSV = "csv"


class TrackSource(_Model):
    """Where tracks come from; `key` is the name rules use ("liked", "playlist:<id>", "csv:<n>")."""

    type: TrackSourceType
    id: str | None = None
    name: str | None = None
    snapshot_id: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def key(self) -> str:
        if self.type is TrackSourceType.LIKED:
            return "liked"
        return f"{self.type.value}:{self.id or self.name or ''}"


# --- enrichment and classification ----------------------------------------------------------


class TrackEnrichment(_Model):
    """What one provider said about one track, at one provider version."""

    source: str
    version: str = "1"
    timestamp: datetime = Field(default_factory=utc_now)
    categories: dict[str, Any] = Field(default_factory=dict)
    match_method: str | None = None  # e.g. "isrc", "spotify_id", "artist_title"
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    # True: the provider was asked and does not know the track. Cached like a result, so
    # re-runs skip it until `SAP_ENRICH_NOT_FOUND_RETRY_DAYS` have passed.
    not_found: bool = False

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        # The seed stored integer versions; keep them comparable as text.
        return str(value) if isinstance(value, int | float) else value


class Classification(_Model):
    """Labels a classifier gave a track (e.g. mood, genre, year); `manual` once corrected."""

    track_id: str
    classifier: str
    labels: dict[str, Any] = Field(default_factory=dict)
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    manual: bool = False
    updated_at: datetime = Field(default_factory=utc_now)


# --- jobs ---------------------------------------------------------------------------------


class JobError(_Model):
    code: str
    message: str


class JobPartState(StrEnum):
    """Where one part of a job stands (see `JobPart`)."""

    PENDING = "pending"  # not started: waiting for its turn, or for a part whose output it reads
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # `error` says why; the job's other parts go on
    CANCELLED = "cancelled"


class JobPart(_Model):
    """One of the things a job does side by side, with its own progress and outcome: an enrich
    job's providers (`id` is the provider's), which run at the same time."""

    id: str
    state: JobPartState = JobPartState.PENDING
    done: int = Field(default=0, ge=0)
    total: int | None = Field(default=None, ge=0, description="Unknown until the part starts.")
    message: str | None = None
    error: JobError | None = Field(default=None, description="Why the part failed.")


class JobNote(_Model):
    """A plain-words note beside a running job's progress, for people to read: a service
    asked us to slow down, and when the work resumes."""

    kind: Literal["throttled"] = "throttled"
    service: str = Field(description="The service, as people name it (Deezer, Spotify).")
    text: str = Field(
        description="What to show, e.g. `Deezer asked us to slow down; resuming in 4 s`."
    )
    seconds: float = Field(ge=0, description="How long the wait was when it began.")
    until: datetime = Field(description="When the work resumes; the note is stale after it.")


class JobProgress(_Model):
    done: int = Field(default=0, ge=0)
    total: int | None = Field(default=None, ge=0)
    parts: list[JobPart] = Field(
        default_factory=list,
        description="Per part of a job that does several things at once (an enrich job: one "
        "per provider, in run order); `done`/`total` above add them up. Empty for other jobs.",
    )
    note: JobNote | None = Field(
        default=None, description="A note on the running job (throttling), while it holds."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


class JobOwner(_Model):
    """The process running a job, so a restart can tell live jobs from interrupted ones."""

    pid: int
    instance: str


class PipelineJob(_Model):
    """One run of a pipeline step, persisted in jobs.json."""

    id: str
    step: str
    status: JobStatus = JobStatus.PENDING
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str | None = None
    progress: JobProgress = Field(default_factory=JobProgress)
    payload: Any = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    error: JobError | None = None
    cancel_requested: bool = False
    owner: JobOwner | None = None


# --- sync: managed playlists, plans, backups ---------------------------------------------------


class PendingWrite(_Model):
    """An apply under way: the plan, and a hash of each state its writes pass through (so a
    playlist left half-written by a dead process is recognised as this tool's own)."""

    plan_id: str
    states: list[str] = Field(default_factory=list)  # contents hashes (sync.guards.fingerprint)


class ManagedPlaylist(_Model):
    """A playlist this tool writes for a rule set, and what it wrote last."""

    rule_id: str
    playlist_id: str
    name: str | None = None
    created_by_us: bool = False
    last_snapshot_id: str | None = None
    last_uris: list[str | None] = Field(default_factory=list)  # in order, as left by the apply
    last_applied_at: datetime | None = None
    writing: PendingWrite | None = None  # set from before an apply's first write to its end


class BackupItem(_Model):
    uri: str | None  # None: an unavailable item
    added_at: datetime | None = None


class PlaylistBackup(_Model):
    """The exact contents of a playlist just before this tool changed it."""

    id: str
    playlist_id: str
    playlist_name: str | None = None
    rule_id: str | None = None
    taken_at: datetime = Field(default_factory=utc_now)
    snapshot_id: str | None = None
    reason: str = ""
    items: list[BackupItem] = Field(default_factory=list)
    names: dict[str, str] = Field(default_factory=dict)  # URI -> "title — artists", as planned
