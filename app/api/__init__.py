"""HTTP API (FastAPI): thin routers over the pipeline and data layers."""

from app.api.app import create_app

__all__ = ["create_app"]
