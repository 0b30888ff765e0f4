"""`Annotated` dependency aliases: routes receive collaborators, never build them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.pipeline.jobs.runner import JobManager
from app.pipeline.services import Services
from app.pipeline.sync.unattended import PeriodicSync


def _jobs(request: Request) -> JobManager:
    manager: JobManager = request.app.state.jobs
    return manager


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _periodic(request: Request) -> PeriodicSync | None:
    periodic: PeriodicSync | None = getattr(request.app.state, "periodic", None)
    return periodic


JobsDep = Annotated[JobManager, Depends(_jobs)]
ServicesDep = Annotated[Services, Depends(_services)]
PeriodicDep = Annotated[PeriodicSync | None, Depends(_periodic)]
