"""The web app in a real browser: Debian's Chromium driven by Playwright, against a real
`sap serve` process in demo mode.

    with serve_demo(tmp_path) as base:             # a `sap serve` on a free port
        page = open_page(browser, base + "/")      # watches errors and CSP violations
        assert serious_violations(page) == []      # axe-core, injected into the page
        snap(page, "account-light")                # .artifacts/screenshots/account-light.png

Playwright never downloads a browser here (no network): it launches /usr/bin/chromium with the
flags this machine needs (a fresh user-data-dir comes with each launch). axe-core is the npm
package the web app's lock file pins, evaluated in the page through the DevTools protocol, which
the page's Content-Security-Policy does not apply to.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright

from tests.helpers.paths import REPO
from tests.helpers.sap_process import sap_context, start_sap

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / ".artifacts" / "screenshots"
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
DEMO_ENV = {"SAP_DEMO_TRACKS": "150", "SAP_DEMO_PLAYLISTS": "8", "SAP_LOG_LEVEL": "WARNING"}
# What axe must not find on any screen.
BLOCKING_IMPACTS = {"serious", "critical"}

_WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def build_web() -> None:
    """The web app built from its current sources (`make web` does nothing when it is)."""
    subprocess.run(["make", "-s", "web"], cwd=REPO, check=True)


def launch(playwright: Playwright) -> Browser:
    assert CHROMIUM.exists(), "install Chromium: apt-get install -y chromium (make test does)"
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_demo(folder: Path, port: int | None = None, **env: str) -> Iterator[str]:
    """A real `sap serve` in demo mode on a free port (or `port`: a restart), over its own data
    directory; yields its base URL once it answers, and stops it (SIGINT, as Ctrl-C) at the
    end."""
    port = port if port is not None else free_port()
    log = folder / "serve.log"
    process = start_sap(
        sap_context(),
        ["serve", "--port", str(port), "--cache-dir", str(folder / "data")],
        {**DEMO_ENV, **env},
        str(folder),
        str(log),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/pipeline/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.is_alive(), log.read_text()
            assert time.monotonic() < deadline, "sap serve did not start: " + log.read_text()
            time.sleep(0.05)
        yield base
    finally:
        if process.pid is not None and process.is_alive():
            os.kill(process.pid, signal.SIGINT)
        process.join(30)
        if process.is_alive():
            process.kill()
            process.join()


@dataclass
class Watched:
    """What went wrong in a page while a test used it."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Tolerate the problems matching `pattern` (a test says why)."""
        self.allowed.append(re.compile(pattern))

    def csp_violations(self) -> list[str]:
        violations: list[str] = self.page.evaluate("window.__cspViolations || []")
        return violations

    def problems(self) -> list[str]:
        found = [
            *(f"console: {line}" for line in self.console_errors),
            *(f"page error: {line}" for line in self.page_errors),
            *(f"request to another host: {url}" for url in self.foreign_requests),
            *(f"CSP: {line}" for line in self.csp_violations()),
        ]
        return [line for line in found if not any(p.search(line) for p in self.allowed)]


def watch(page: Page, base: str) -> Watched:
    """Record console errors, uncaught errors, CSP violations and requests leaving `base`."""
    watched = Watched(page)
    page.add_init_script(_WATCH)

    def on_console(message: ConsoleMessage) -> None:
        # The browser logs every 4xx answer; the API's refusals are part of what tests drive
        # (and show in words), so only 5xx answers and real errors count here.
        refused = re.match(r"Failed to load resource: .* status of 4\d\d", message.text)
        if message.type == "error" and refused is None:
            watched.console_errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.page_errors.append(str(error)))

    def on_request(request: Any) -> None:
        url: str = request.url
        if not url.startswith((base, "data:", "blob:", "about:")):
            watched.foreign_requests.append(url)

    page.on("request", on_request)
    return watched


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await window.axe.run(document, { resultTypes: ["violations"] });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 5).map((n) => [
                    n.target.join(" "),
                    ...n.any.map((check) => check.message),
                ].join(": ")),
            }));
        }"""
    )
    return [
        f"{item['impact']} {item['id']}: {item['help']} at {item['targets']}"
        for item in found
        if item["impact"] in BLOCKING_IMPACTS
    ]


def snap(page: Page, name: str, *, full: bool = True) -> Path:
    """A screenshot in .artifacts/screenshots/: the whole page laid out in a viewport as tall as
    it (so sticky bars sit where they belong), or the viewport alone."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    assert size is not None
    if full:
        height = int(page.evaluate("document.documentElement.scrollHeight"))
        page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its viewport (0: none)."""
    overflow: int = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return overflow
