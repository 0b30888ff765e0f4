"""Jobs and the processes that own them: owner liveness, and what follows when the owner is gone.

A job records its owner (pid and manager instance). A manager registers its instance here while
it runs, so a manager can tell a sibling's jobs (same pid, live instance) from a dead process's.
Jobs of a dead owner are marked interrupted at start (and maybe resumed); cancelling a job no live
owner runs cancels it at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Iterable

from app.core.errors import ConflictError
from app.core.models import JobError, JobOwner, JobStatus, PipelineJob, utc_now
from app.data.jobs import JobStore

# Managers alive in this process, so a manager can tell a sibling's jobs from a dead process's.
_live_instances: set[str] = set()
_live_guard = threading.Lock()


def register_instance(instance: str) -> None:
    with _live_guard:
        _live_instances.add(instance)


def unregister_instance(instance: str) -> None:
    with _live_guard:
        _live_instances.discard(instance)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def owner_alive(owner: JobOwner | None) -> bool:
    if owner is None:
        return False
    if owner.pid == os.getpid():
        with _live_guard:
            return owner.instance in _live_instances
    return _pid_alive(owner.pid)


def mark_interrupted(store: JobStore) -> list[str]:
    """Mark jobs whose owning process is gone as failed/interrupted; returns their ids."""
    interrupted: list[str] = []
    with store.update() as jobs:
        for job in jobs:
            if job.status.finished or owner_alive(job.owner):
                continue
            was = job.status.value
            now = utc_now()
            job.status = JobStatus.FAILED
            job.error = JobError(
                code="interrupted",
                message=f"the process running this job stopped while it was {was}; "
                "re-run it with POST /pipeline/jobs/{id}/rerun",
            )
            job.message = "interrupted"
            job.updated_at = job.finished_at = now
            interrupted.append(job.id)
    return interrupted


def resumable(jobs: Iterable[PipelineJob], resume: Collection[str]) -> list[PipelineJob]:
    """Interrupted jobs of a step in `resume` that were not resumed yet."""
    return [
        job
        for job in jobs
        if job.step in resume
        and job.status is JobStatus.FAILED
        and job.error is not None
        and job.error.code == "interrupted"
        and not job.metadata.get("resumed_as")
    ]


def mark_resumed(job: PipelineJob, *, new_id: str) -> None:
    job.metadata["resumed_as"] = new_id
    job.message = f"interrupted; resumed as job {new_id}"


def request_cancel(job: PipelineJob) -> None:
    """Cancel a pending job (or one no live owner runs) at once, else record the request."""
    if job.status.finished:
        raise ConflictError(
            f"job {job.id} already finished ({job.status.value}); nothing to cancel",
            code="job_finished",
        )
    now = utc_now()
    job.cancel_requested = True
    job.updated_at = now
    if job.status is JobStatus.PENDING or not owner_alive(job.owner):
        job.status = JobStatus.CANCELLED
        job.finished_at = now
        job.message = "cancelled"
    else:
        job.message = "cancellation requested"
