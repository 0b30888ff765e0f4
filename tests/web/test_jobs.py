"""The jobs drawer in Chromium against a real demo server: it follows the job event stream
live (one EventSource, no polling), shows each enrich job's providers, cancels, runs again,
announces what ended, and fits 390 px. Screenshots land in .artifacts/screenshots/."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, Request, expect

from tests.helpers.browser import (
    DEMO_ENV,
    Watched,
    horizontal_overflow,
    serious_violations,
    serve_demo,
    snap,
    watch,
)
from tests.helpers.demo_in_process import demo_in_process
from tests.helpers.paths import REPO

pytestmark = pytest.mark.slow

# Enough tracks that an enrich job runs for seconds, so the drawer can cancel it running.
BIG_LIBRARY = "3000"


@pytest.fixture
def big_server(web: None, tmp_path: Path) -> Iterator[str]:
    with serve_demo(tmp_path, SAP_DEMO_TRACKS=BIG_LIBRARY) as base:
        yield base


@dataclass
class Visit:
    """A watched page and the API requests it made ("GET /pipeline/jobs")."""

    page: Page
    watched: Watched
    requests: list[str] = field(default_factory=list)


def open_page(browser: Browser, base: str, width: int = 1280) -> Visit:
    context = browser.new_context(
        viewport={"width": width, "height": 860}, color_scheme="light", reduced_motion="reduce"
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    visit = Visit(page, watch(page, base))

    def on_request(request: Request) -> None:
        if request.resource_type in {"fetch", "xhr", "eventsource"}:
            visit.requests.append(f"{request.method} {urlsplit(request.url).path}")

    page.on("request", on_request)
    return visit


def connect(page: Page, base: str) -> None:
    page.goto(base + "/account")
    page.get_by_role("link", name="Connect the demo account").first.click()
    expect(page.get_by_role("status").filter(has_text="Connected as")).to_be_visible()


def live_drawer(browser: Browser, base: str) -> tuple[Visit, Locator]:
    """A page connected to the demo account with the jobs drawer open and its stream live."""
    visit = open_page(browser, base)
    connect(visit.page, base)
    visit.page.get_by_role("button", name="Jobs", exact=True).first.click()
    drawer = visit.page.get_by_role("dialog", name="Jobs")
    expect(drawer.get_by_text("Live", exact=True)).to_be_visible()
    return visit, drawer


def test_the_drawer_follows_a_fetch_live_then_cancels_and_reruns_an_enrich_job(
    browser: Browser, big_server: str
) -> None:
    base = big_server
    visit = open_page(browser, base)
    page, requests = visit.page, visit.requests
    connect(page, base)  # the login is a page load of its own: count from its end
    requests.clear()
    page.get_by_role("navigation", name="Screens").get_by_role("link", name="Sources").click()
    page.get_by_label("Liked songs", exact=True).check()
    page.get_by_role("button", name="Fetch 1 source").click()
    page.get_by_role("button", name="Open jobs").first.click()
    drawer = page.get_by_role("dialog", name="Jobs")
    expect(drawer.get_by_text("Live", exact=True)).to_be_visible()
    fetch = drawer.get_by_role("listitem", name="Fetch: Liked songs")
    # The fetch ends in the history, pushed by the stream: the page never asks for the list.
    expect(
        drawer.get_by_role("list", name="Job history").get_by_role(
            "listitem", name="Fetch: Liked songs"
        )
    ).to_be_visible()
    expect(fetch).to_contain_text("Done")
    expect(page.get_by_test_id("job-announcements")).to_have_text("Fetch of Liked songs: done")
    snap(page, "jobs-drawer-fetched-light")

    # An enrich job started elsewhere (the API) appears at once, with a bar per provider.
    started = httpx.post(base + "/pipeline/enrich", json={}, headers={"Origin": base}, timeout=10)
    assert started.status_code == 202, started.text
    job_id = started.json()["jobs"][0]["id"]
    running = drawer.get_by_role("list", name="Running jobs")
    enrich = running.get_by_role("listitem", name="Enrichment: Enrich the library")
    expect(enrich).to_be_visible()
    providers = enrich.get_by_role("list", name="Providers of Enrich the library")
    expect(providers.get_by_role("progressbar")).to_have_count(6)
    expect(providers).to_contain_text("deezer")

    # Cancelled as soon as it shows (a 3,000-track enrichment runs for seconds even in the
    # unpaced demo; the live progress, badge, axe and pictures are checked on its rerun).
    enrich.get_by_role("button", name="Cancel Enrich the library").click()
    cancelled = drawer.get_by_role("list", name="Job history").get_by_role(
        "listitem", name="Enrichment: Enrich the library"
    )
    # Each provider stops at its next batch's boundary: seconds, not the job's end.
    expect(cancelled).to_contain_text("Cancelled", timeout=60_000)
    assert httpx.get(f"{base}/pipeline/jobs/{job_id}").json()["status"] == "cancelled"
    expect(page.get_by_test_id("job-announcements")).to_have_text(
        "Enrichment of Enrich the library: cancelled"
    )
    expect(page.get_by_role("button", name="Jobs", exact=True).first).to_be_visible()

    # Run again: a new job, running live, then done.
    cancelled.get_by_role("button", name="Run again: Enrich the library").click()
    again = running.get_by_role("listitem", name="Enrichment: Enrich the library")
    expect(again).to_be_visible()
    jobs = httpx.get(f"{base}/pipeline/jobs", params={"step": "enrich"}).json()["items"]
    assert len(jobs) == 2 and jobs[0]["id"] != job_id
    rerun = jobs[0]["id"]
    # Progress moves live: the job's bar reads more than 0 of 3,000-odd before it ends.
    moved = again.get_by_text(re.compile(r"^[1-9][\d,]* of [\d,]+")).first
    expect(moved).to_be_visible(timeout=60_000)
    expect(
        page.get_by_role("button", name=re.compile(r"^Jobs\s*1\s*running$")).first
    ).to_be_visible()
    assert serious_violations(page) == []
    snap(page, "jobs-drawer-enriching-light")
    page.emulate_media(color_scheme="dark")
    assert serious_violations(page) == []
    snap(page, "jobs-drawer-enriching-dark")
    page.emulate_media(color_scheme="light")
    expect(page.get_by_test_id("job-announcements")).to_have_text(
        re.compile(r"Enrichment of Enrich the library: (done|partly done)"), timeout=120_000
    )
    assert httpx.get(f"{base}/pipeline/jobs/{rerun}").json()["status"] in {"done", "partial"}

    # The stream the page opened when it loaded carried all of it: no other was opened, and
    # the job list was never asked for by GET (no polling).
    assert "GET /pipeline/jobs/events" not in requests, requests
    assert "GET /pipeline/jobs" not in requests, requests
    assert not [line for line in requests if line.startswith("GET /pipeline/jobs/")], requests
    assert visit.watched.problems() == []
    page.context.close()


def test_the_drawer_reconnects_after_a_server_restart(browser: Browser, tmp_path: Path) -> None:
    with serve_demo(tmp_path) as base:
        visit, drawer = live_drawer(browser, base)
        page = visit.page
    # The server stopped: the drawer says so and keeps what it showed.
    expect(drawer.get_by_text("Reconnecting…")).to_be_visible()
    port = urlsplit(base).port
    assert port is not None
    with serve_demo(tmp_path, port=port) as again:
        assert again == base
        expect(drawer.get_by_text("Live", exact=True)).to_be_visible(timeout=30_000)
        # A job started on the new server is pushed to the page on the new stream.
        started = httpx.post(
            again + "/pipeline/enrich", json={}, headers={"Origin": again}, timeout=10
        )
        assert started.status_code == 202, started.text
        expect(
            drawer.get_by_role("listitem", name="Enrichment: Enrich the library")
        ).to_be_visible()
        # The browser logs the refused connections while the server was down; nothing else.
        assert [p for p in visit.watched.problems() if "ERR_CONNECTION_REFUSED" not in p] == []
    page.context.close()


def test_a_job_a_sap_command_runs_beside_the_server_appears_in_the_drawer(
    browser: Browser, tmp_path: Path
) -> None:
    with serve_demo(tmp_path) as base:
        visit, drawer = live_drawer(browser, base)
        # `sap verify` in a terminal over the server's data directory: its own process.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAP_")} | DEMO_ENV
        command = [str(REPO / ".venv" / "bin" / "sap"), "verify"]
        command += ["--cache-dir", str(tmp_path / "data")]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        # Pushed on the page's stream (no reload, no new snapshot asked for).
        expect(drawer.get_by_role("listitem", name=re.compile(r"^verify"))).to_be_visible()
        assert visit.watched.problems() == []
    visit.page.context.close()


def test_at_390_px_the_drawer_fits_and_counts_running_jobs(
    browser: Browser, big_server: str
) -> None:
    base = big_server
    visit = open_page(browser, base, width=390)
    page = visit.page
    connect(page, base)
    fetched = httpx.post(
        base + "/pipeline/tracks/fetch-sources",
        json={"sources": [{"source_type": "liked"}]},
        headers={"Origin": base},
        timeout=10,
    )
    assert fetched.status_code in {200, 202}, fetched.text
    page.get_by_role("button", name=re.compile(r"^Jobs")).first.click()
    drawer = page.get_by_role("dialog", name="Jobs")
    expect(
        drawer.get_by_role("list", name="Job history").get_by_role("listitem").first
    ).to_be_visible(timeout=60_000)
    # An enrich job running: its providers' bars fit too.
    started = httpx.post(base + "/pipeline/enrich", json={}, headers={"Origin": base}, timeout=10)
    assert started.status_code == 202, started.text
    expect(drawer.get_by_role("list", name="Providers of Enrich the library")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Jobs\s*1\s*running$"))).to_be_visible()
    assert horizontal_overflow(page) == 0
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert serious_violations(page) == [], scheme
        snap(page, f"jobs-drawer-390-{scheme}", full=False)
    assert visit.watched.problems() == []
    page.context.close()


def test_the_drawer_says_in_words_when_a_service_asks_us_to_slow_down_and_counts_down(
    browser: Browser, tmp_path: Path
) -> None:
    """The ReccoBeats emulator allows one request per 6 s and answers the next with 429 and
    Retry-After: the running job's row says so in words, and its countdown goes down."""
    with demo_in_process(tmp_path) as demo:
        base = demo.base
        recco = demo.providers.reccobeats.config
        recco.rate_limit, recco.rate_window = 1, 6.0
        visit = open_page(browser, base)
        page = visit.page
        connect(page, base)
        http = httpx.Client(base_url=base, headers={"Origin": base}, timeout=30)
        [fetch] = http.post(
            "/pipeline/tracks/fetch-sources", json={"sources": [{"source_type": "liked"}]}
        ).json()["jobs"]
        expect(page.get_by_test_id("job-announcements")).to_have_text("Fetch of Liked songs: done")
        page.get_by_role("button", name="Jobs", exact=True).first.click()
        drawer = page.get_by_role("dialog", name="Jobs")
        started = http.post("/pipeline/enrich", json={"providers": ["reccobeats"]})
        assert started.status_code == 202, started.text
        job = drawer.get_by_role("list", name="Running jobs").get_by_role(
            "listitem", name=re.compile(r"^Enrichment: ")
        )
        note = job.get_by_role("status").filter(has_text="asked us to slow down")
        # A no-break space (\xa0) between the number and its unit: "4 s" never wraps apart.
        expect(note).to_have_text(
            re.compile(r"^ReccoBeats asked us to slow down; resuming in [1-6]\xa0s$"),
            timeout=30_000,
        )
        seconds = int(re.findall(r"in (\d)\xa0s", note.inner_text())[0])
        snap(page, "jobs-drawer-throttled-light")
        assert serious_violations(page) == []
        if seconds > 1:  # the countdown goes down while the service's wait runs
            lower = f"[1-{seconds - 1}]\xa0s|now" if seconds > 2 else "1\xa0s|now"
            expect(note).to_have_text(re.compile(rf"resuming in ({lower})$|resuming now$"))
        job.get_by_role("button", name=re.compile(r"^Cancel ")).click()
        expect(
            drawer.get_by_role("list", name="Job history").get_by_role(
                "listitem", name=re.compile(r"^Enrichment: ")
            )
        ).to_contain_text("Cancelled", timeout=30_000)
        assert http.get(f"/pipeline/jobs/{fetch['id']}").json()["status"] == "done"
        problems = visit.watched.problems()
        page.context.close()
        assert problems == []
