"""A job's status: its own module, free of pydantic, because the CLI's `jobs list --status`
option is typed with it and the CLI builds its options without loading the models."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    PARTIAL = "partial"  # part of the work was done and kept; `error` names what was not
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in {JobStatus.DONE, JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.CANCELLED}
