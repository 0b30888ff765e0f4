"""Reading jobs: listing with filters and pagination, counts per status, waiting for a job."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import NamedTuple, Protocol

from app.core.models import JobStatus, PipelineJob


class JobReader(Protocol):
    def get(self, job_id: str) -> PipelineJob: ...


class JobListing(NamedTuple):
    """One page of jobs, newest first, and how many jobs match in all."""

    items: list[PipelineJob]
    total: int


def page_jobs(
    jobs: list[PipelineJob],
    *,
    step: str | None,
    status: JobStatus | None,
    limit: int,
    offset: int,
) -> JobListing:
    """Filter `jobs` by step and status, keep one page, with the total matching."""
    if step is not None:
        jobs = [job for job in jobs if job.step == step]
    if status is not None:
        jobs = [job for job in jobs if job.status is status]
    return JobListing(jobs[offset : offset + limit], len(jobs))


def count_by_status(jobs: Iterable[PipelineJob]) -> dict[str, int]:
    """How many jobs are in each status."""
    totals = {status.value: 0 for status in JobStatus}
    for job in jobs:
        totals[job.status.value] += 1
    return totals


def wait_for(
    manager: JobReader,
    job_id: str,
    *,
    timeout: float = 30.0,
    poll: float = 0.02,
    until: Callable[[PipelineJob], bool] | None = None,
) -> PipelineJob:
    """Poll until the job is finished (or `until` holds); raises TimeoutError otherwise."""
    check = until or (lambda job: job.status.finished)
    deadline = time.monotonic() + timeout
    while True:
        job = manager.get(job_id)
        if check(job):
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} still {job.status.value} after {timeout}s")
        time.sleep(poll)
