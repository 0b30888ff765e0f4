"""Browser tests: the built web app in Debian's Chromium, against real `sap serve` processes in
demo mode (tests/helpers/browser.py). `make test` installs Chromium when it is missing (as
root) and builds the app first; the `web` fixture builds it too when its sources changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.helpers.browser import Watched, build_web, launch, serve_demo, watch

# Assertions wait as long as page actions do (15 s, below): the CI machine has two cores shared
# by pytest, the server and Chromium, and 5 s (Playwright's default) was seen run out there.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def web() -> None:
    build_web()


@pytest.fixture(scope="session")
def browser(web: None) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def server(web: None, tmp_path: Path) -> Iterator[str]:
    """A fresh demo server (its own data directory): its base URL."""
    with serve_demo(tmp_path) as base:
        yield base


@pytest.fixture
def watched(browser: Browser, server: str) -> Iterator[Watched]:
    """A page in a fresh browser context (no stored theme, 1280x860, light), watched for console
    errors, uncaught errors, CSP violations and requests to other hosts: none may happen.
    Reduced motion, so a colour transition never stands between a theme switch and what axe
    measures or a screenshot shows."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 860}, color_scheme="light", reduced_motion="reduce"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    seen = watch(page, server)
    yield seen
    problems = seen.problems()
    context.close()
    assert problems == []


@pytest.fixture
def page(watched: Watched) -> Page:
    return watched.page
