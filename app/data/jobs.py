"""jobs.json: every pipeline job, oldest first, with a bounded history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import TypeAdapter

from app.core.errors import NotFoundError
from app.core.models import PipelineJob
from app.data.store import JsonStore


def _v0_to_v1(data: Any) -> Any:
    # The seed kept either a list of jobs or a mapping id -> job.
    if isinstance(data, dict):
        return [
            {"id": key, **value} if isinstance(value, dict) else value
            for key, value in data.items()
        ]
    return data


class JobStore(JsonStore[list[PipelineJob]]):
    filename = "jobs.json"
    schema_version = 1
    migrations: ClassVar = {0: _v0_to_v1}
    adapter: ClassVar = TypeAdapter(list[PipelineJob])

    def empty(self) -> list[PipelineJob]:
        return []

    def load_jobs(self) -> list[PipelineJob]:
        """Every job, oldest first (seed name)."""
        return self.load()

    def get(self, job_id: str) -> PipelineJob:
        for job in self.load():
            if job.id == job_id:
                return job
        raise NotFoundError(f"no job with id {job_id!r}", code="job_not_found")

    def add(self, job: PipelineJob, *, keep_finished: int) -> None:
        """Append a job and prune the oldest finished ones beyond `keep_finished`."""
        with self.update() as jobs:
            jobs.append(job)
            finished = [item for item in jobs if item.status.finished]
            excess = len(finished) - keep_finished
            if excess > 0:
                drop = {item.id for item in finished[:excess]}
                jobs[:] = [item for item in jobs if item.id not in drop]

    def modify(self, job_id: str, change: Callable[[PipelineJob], None]) -> PipelineJob:
        """Apply `change` to one job under the store lock and return the saved job."""
        with self.update() as jobs:
            for job in jobs:
                if job.id == job_id:
                    change(job)
                    return job
            raise NotFoundError(f"no job with id {job_id!r}", code="job_not_found")
