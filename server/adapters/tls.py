"""One verifying TLS context for Parley's outgoing HTTP clients (webhooks, pushes, previews, SSO).

Each ``httpx.AsyncClient`` would otherwise build its own and read the whole CA bundle into it: about
17 ms of CPU each, three clients at every start, on a restarted server's way to healthy. The context
is httpx's default (certifi's bundle, verified, hostnames checked), made with ``trust_env=False`` as
the clients are: no ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` from the environment, as with a context of
each client's own. Sharing it is safe: httpcore only sets the same ALPN list on it (HTTP/1.1) before
each handshake.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def verifying_context() -> ssl.SSLContext:
    """The shared context, made by the first client that asks."""
    return httpx.create_ssl_context(trust_env=False)
