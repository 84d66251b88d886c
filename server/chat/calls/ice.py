"""The ICE servers a join hands out (PROTOCOL.md section 18), with TURN REST API credentials.

coturn's ``use-auth-secret`` accepts a username ``<unix expiry>:<anything>`` whose password is
base64(HMAC-SHA1(static-auth-secret, username)) until that expiry: no account per user in coturn,
nothing shared with it at run time but the secret. The name after the colon is the Parley user's,
so coturn's log says whose relay it was.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

TURN_SCHEMES = ("turn:", "turns:")


def turn_credential(secret: str, username: str) -> str:
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def ice_servers(
    urls: list[str], secret: str | None, ttl: int, username: str, now: float | None = None
) -> list[dict[str, Any]]:
    """One RTCIceServer per URL; ``turn:``/``turns:`` ones carry credentials when a secret is set."""
    expiry = int(now if now is not None else time.time()) + ttl
    turn_user = f"{expiry}:{username}"
    credential = turn_credential(secret, turn_user) if secret else None
    servers: list[dict[str, Any]] = []
    for url in urls:
        if credential is not None and url.startswith(TURN_SCHEMES):
            servers.append({"urls": url, "username": turn_user, "credential": credential})
        else:
            servers.append({"urls": url})
    return servers
