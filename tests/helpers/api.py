"""Talking to the real app in process, as its own clients do.

The API changes state only for requests with a JSON content type (app/api/middleware.py), as
the web app and the CLI's HTTP calls send them; `api_client` does the same for tests, so a body-
less `client.post(url)` is a request this app would make.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

LOCAL = "http://127.0.0.1:8888"
JSON = {"content-type": "application/json"}


def api_client(app: FastAPI, base_url: str = LOCAL, **kwargs: Any) -> TestClient:
    """A TestClient for `app` whose requests say they carry JSON (use it with `with`)."""
    return TestClient(app, base_url=base_url, headers=JSON, **kwargs)
