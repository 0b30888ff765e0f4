"""A one-shot local HTTP listener for the OAuth redirect, used by `spotify-auto-playlists login`.

The browser is sent to Spotify's consent page; Spotify redirects it to the registered loopback
redirect URI, where this listener takes the `code` and `state`, answers a short page, and stops.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from app.core.errors import AppError, ConflictError


@dataclass
class CallbackResult:
    code: str | None = None
    state: str | None = None
    error: str | None = None


class CallbackListener:
    """Listens on the redirect URI's host and port until one callback arrives."""

    def __init__(self, redirect_uri: str) -> None:
        parts = urlsplit(redirect_uri)
        self.path = parts.path or "/"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.result = CallbackResult()
        self._done = threading.Event()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != listener.path:
                    self.send_error(404)
                    return
                query = parse_qs(url.query)
                listener.result = CallbackResult(
                    code=query.get("code", [None])[0],
                    state=query.get("state", [None])[0],
                    error=query.get("error", [None])[0],
                )
                body = b"<!doctype html><p>Login received. You can close this window.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                listener._done.set()

            def log_message(self, format: str, *args: object) -> None:
                return  # keep the terminal quiet

        try:
            self._server = HTTPServer((self.host, self.port), Handler)
        except OSError as exc:
            raise ConflictError(
                f"cannot listen on {self.host}:{self.port} for the login callback ({exc.strerror});"
                f" if the server is running, log in at http://{self.host}:{self.port}/auth/login",
                code="callback_port_busy",
            ) from None
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CallbackListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> CallbackResult:
        if not self._done.wait(timeout):
            raise AppError(
                f"no login callback within {timeout:.0f}s; run `login` again", code="login_timeout"
            )
        return self.result
