"""The application factory. Collaborators are injected; tests pass their own."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from app import __version__
from app.api import pipeline
from app.api.errors import install_error_handlers
from app.api.middleware import LocalRequestGuard
from app.core.config import Settings
from app.pipeline.context import Services
from app.pipeline.jobs_runner import JobManager
from app.pipeline.registry import default_registry
from app.pipeline.steps import StepRegistry

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    registry: StepRegistry | None = None,
) -> FastAPI:
    """Build the API for `settings`; the job runner starts and stops with the app."""
    services = services or Services.from_settings(settings)
    jobs = JobManager(services, registry or default_registry())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        interrupted = jobs.start()
        log.info(
            "serving with cache dir %s (%d interrupted job(s) found)",
            settings.cache_dir,
            len(interrupted),
        )
        try:
            yield
        finally:
            jobs.shutdown()

    app = FastAPI(
        title="spotify-auto-playlists",
        version=__version__,
        summary="Fetch, enrich, group by rules, preview and sync Spotify playlists, locally.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.jobs = jobs
    install_error_handlers(app)
    app.add_middleware(LocalRequestGuard, allowed_hosts=settings.accepted_hosts())
    app.include_router(pipeline.router)

    @app.get("/", tags=["meta"], summary="Where to start")
    def root() -> dict[str, Any]:
        return {
            "name": "spotify-auto-playlists",
            "version": __version__,
            "docs": "/docs",
            "health": "/pipeline/health",
        }

    return app
