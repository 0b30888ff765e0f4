"""TLS for every outgoing HTTP client: Spotify here, and the enrichment providers."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verified TLS context every client of this process shares.

    httpx builds a fresh one for each client it creates, and loading the CA bundle costs
    about 20 ms of CPU each time: a fetch or an enrichment run opens several clients, and
    that time used to sit on the critical path before the first request could go out. A
    context is safe to share between connections and threads.
    """
    return httpx.create_ssl_context()
