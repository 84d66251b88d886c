"""Where a socket's token comes from, first match wins (PROTOCOL.md section 1)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs


def token_from(environ: dict[str, Any], auth: Any) -> str | None:
    """``auth.token``, then ``?token=``, then ``Authorization: Bearer``."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"]:
        return str(auth["token"])
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if query.get("token") and query["token"][0]:
        return str(query["token"][0])
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return str(value).strip()
    return None


def client_address(environ: dict[str, Any]) -> str:
    scope = environ.get("asgi.scope") or {}
    client = scope.get("client") if isinstance(scope, dict) else None
    if client:
        return str(client[0])
    return str(environ.get("REMOTE_ADDR", ""))
