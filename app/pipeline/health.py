"""Health and store checks: what `/pipeline/health`, `status` and the `verify` step report."""

from __future__ import annotations

from collections.abc import Sized
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from app import __version__
from app.core.errors import StoreError
from app.core.fs import list_quarantined
from app.data import Stores
from app.pipeline.jobs.steps import StepContext


class StoreHealth(BaseModel):
    name: str
    file: str
    exists: bool
    size_bytes: int
    modified_at: datetime | None
    schema_version: int


class QuarantinedFileInfo(BaseModel):
    file: str
    original_name: str
    quarantined_at: datetime
    size_bytes: int


class HealthReport(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    cache_dir: str
    stores: list[StoreHealth]
    quarantined: list[QuarantinedFileInfo]
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


def health_report(stores: Stores, *, jobs: dict[str, int], steps: list[str]) -> HealthReport:
    """Cheap health summary (stat only, no parsing): degraded while quarantined files exist."""
    quarantined = quarantined_files(stores.directory)
    return HealthReport(
        status="degraded" if quarantined else "ok",
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
            )
            for status in stores.statuses()
        ],
        quarantined=quarantined,
        jobs=jobs,
        steps=steps,
    )


class StoreCheck(BaseModel):
    name: str
    ok: bool
    records: int
    detail: str | None = None


class VerifyReport(BaseModel):
    ok: bool
    stores: list[StoreCheck]
    quarantined: list[QuarantinedFileInfo]


def verify_stores(stores: Stores, ctx: StepContext | None = None) -> VerifyReport:
    """Parse every store (moving corrupt files aside) and count its records."""
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
    ok = all(check.ok for check in checks) and not quarantined
    return VerifyReport(ok=ok, stores=checks, quarantined=quarantined)


def verify_step(ctx: StepContext) -> VerifyReport:
    """Check that every store file parses; corrupt files are moved aside and listed."""
    return verify_stores(ctx.services.stores, ctx)
