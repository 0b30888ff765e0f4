"""Health and store checks: what `/pipeline/health`, `status` and the `verify` step report."""

from __future__ import annotations

from collections.abc import Sized
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from app import __version__
from app.core.errors import StoreError
from app.core.fs import list_quarantined
from app.data import Stores
from app.pipeline.jobs.steps import StepContext
from app.pipeline.library_gaps import GapCache, LibraryGaps, find_gaps


class StoreHealth(BaseModel):
    name: str
    file: str
    exists: bool
    size_bytes: int
    modified_at: datetime | None
    schema_version: int = Field(description="The version this release writes.")
    file_schema_version: int | None = Field(
        description="The version the file says it is (null: absent, or the seed's bare shape)."
    )
    problem: str | None = Field(
        description="Why the file cannot be used as it is (e.g. written by a newer release); "
        "the server keeps running, and what needs the file answers 503 naming it."
    )


class QuarantinedFileInfo(BaseModel):
    file: str
    original_name: str
    quarantined_at: datetime
    size_bytes: int


class HealthReport(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="degraded while a file is quarantined or fetched sources lost tracks."
    )
    version: str
    cache_dir: str
    stores: list[StoreHealth]
    quarantined: list[QuarantinedFileInfo]
    library: LibraryGaps | None = Field(
        description=(
            "Fetched sources whose tracks tracks.json lacks, and what to run (null when "
            "sources.json or tracks.json cannot be read: see stores)."
        )
    )
    jobs: dict[str, int]
    steps: list[str]


def quarantined_files(directory: Path) -> list[QuarantinedFileInfo]:
    return [
        QuarantinedFileInfo(
            file=str(item.path),
            original_name=item.original_name,
            quarantined_at=item.quarantined_at,
            size_bytes=item.size_bytes,
        )
        for item in list_quarantined(directory)
    ]


def library_gaps(stores: Stores, gaps: GapCache | None = None) -> LibraryGaps | None:
    """The library's gaps (from `gaps`, kept while the files are unchanged, else read now);
    None when a file cannot be read (too new: the store checks say so)."""
    try:
        return gaps.current() if gaps is not None else find_gaps(stores)
    except StoreError:
        return None


def health_report(
    stores: Stores, *, jobs: dict[str, int], steps: list[str], gaps: GapCache | None = None
) -> HealthReport:
    """Cheap health summary: store files by `stat` and first bytes, and the library's gaps
    from `gaps` (`Services.gaps`, read again only when tracks.json or sources.json changed).
    Degraded while quarantined files exist, a store file cannot be used (written by a newer
    release) or fetched sources lost tracks."""
    quarantined = quarantined_files(stores.directory)
    statuses = stores.statuses()
    problems = any(status.problem for status in statuses)
    library = library_gaps(stores, gaps)
    incomplete = library is not None and not library.complete
    return HealthReport(
        status="degraded" if quarantined or problems or incomplete else "ok",
        version=__version__,
        cache_dir=str(stores.directory),
        stores=[
            StoreHealth(
                name=status.name,
                file=str(status.file),
                exists=status.exists,
                size_bytes=status.size_bytes,
                modified_at=status.modified_at,
                schema_version=status.schema_version,
                file_schema_version=status.file_schema_version,
                problem=status.problem,
            )
            for status in statuses
        ],
        quarantined=quarantined,
        library=library,
        jobs=jobs,
        steps=steps,
    )


class StoreCheck(BaseModel):
    name: str
    ok: bool
    records: int
    detail: str | None = None


class VerifyReport(BaseModel):
    ok: bool = Field(description="Every store parses, none is quarantined, the library is whole.")
    stores: list[StoreCheck]
    quarantined: list[QuarantinedFileInfo]
    library: LibraryGaps | None = Field(
        description=(
            "Fetched sources whose tracks tracks.json lacks, and what to run (null when "
            "sources.json or tracks.json cannot be read: see stores)."
        )
    )


def verify_stores(stores: Stores, ctx: StepContext | None = None) -> VerifyReport:
    """Parse every store (moving corrupt files aside) and count its records; then check
    that every fetched source's tracks are in tracks.json."""
    checks: list[StoreCheck] = []
    all_stores = stores.all()
    for index, store in enumerate(all_stores):
        if ctx is not None:
            ctx.check_cancelled()
        try:
            value = store.load()
        except StoreError as exc:
            checks.append(StoreCheck(name=store.name, ok=False, records=0, detail=exc.detail))
        else:
            records = len(value) if isinstance(value, Sized) else int(value is not None)
            checks.append(StoreCheck(name=store.name, ok=True, records=records))
        if ctx is not None:
            ctx.progress(index + 1, len(all_stores), f"checked {store.filename}")
    quarantined = quarantined_files(stores.directory)
    library = library_gaps(stores)
    ok = (
        all(check.ok for check in checks)
        and not quarantined
        and library is not None
        and library.complete
    )
    return VerifyReport(ok=ok, stores=checks, quarantined=quarantined, library=library)


def verify_step(ctx: StepContext) -> VerifyReport:
    """Check that every store file parses; corrupt files are moved aside and listed."""
    return verify_stores(ctx.services.stores, ctx)
