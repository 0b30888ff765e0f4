"""The one TLS context every outgoing client shares still verifies certificates."""

from __future__ import annotations

import ssl

from app.net.tls import tls_context


def test_the_shared_context_verifies_certificates_and_host_names() -> None:
    context = tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.cert_store_stats()["x509_ca"] > 0  # a CA bundle is loaded
    assert tls_context() is context  # built once per process
