"""The outgoing HTTP clients share one verifying TLS context (server/adapters/tls.py)."""

from __future__ import annotations

import ssl

from server.adapters.preview_http import HttpPageSource
from server.adapters.tls import verifying_context
from server.adapters.webhook_http import AddressGuard, HttpPoster


def test_the_shared_context_verifies_certificates_and_host_names():
    context = verifying_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded


async def test_the_clients_read_the_ca_bundle_once():
    clients = [HttpPoster(AddressGuard([])).client, HttpPoster(AddressGuard([])).client]
    clients.append(HttpPageSource(AddressGuard([])).client)
    try:
        contexts = {id(c._transport._pool._ssl_context) for c in clients}
        assert contexts == {id(verifying_context())}
    finally:
        for client in clients:
            await client.aclose()
