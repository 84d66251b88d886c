"""What a socket's CONNECT asks for: its token, first match wins (PROTOCOL.md section 1), and
whether it wants connection-state recovery (docs/PROTOCOL.md, "Connection-state recovery")."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from server.chat.connections.recovery import Recovery
from server.edge.http import bearer_token


def token_from(environ: dict[str, Any], auth: Any) -> str | None:
    """``auth.token``, then ``?token=``, then ``Authorization: Bearer``."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"]:
        return str(auth["token"])
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if query.get("token") and query["token"][0]:
        return str(query["token"][0])
    return bearer_token(environ.get("HTTP_AUTHORIZATION"))


def recovery_from(auth: Any) -> Recovery | None:
    """``auth.recover: true`` (a first connection) or ``auth.pid`` (the JS client reconnecting,
    with ``auth.offset``) make a recovery socket; anything else is a plain one (None)."""
    if not isinstance(auth, dict):
        return None
    if "pid" in auth:
        return Recovery(auth["pid"], auth.get("offset"))
    if auth.get("recover") is True:
        return Recovery()
    return None


def client_address(environ: dict[str, Any]) -> str:
    """The peer of an Engine.IO request (its ASGI scope's client; python-engineio's REMOTE_ADDR
    without one): the Admin UI's login limiter keys on it. HTTP routes read theirs with
    ``server.edge.http.client_address``."""
    scope = environ.get("asgi.scope") or {}
    client = scope.get("client") if isinstance(scope, dict) else None
    if client:
        return str(client[0])
    return str(environ.get("REMOTE_ADDR", ""))
