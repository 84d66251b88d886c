"""Refuse an Engine.IO polling POST that declares more than the transport limit.

engine.io itself answers such a request with 400 after routing it; PROTOCOL.md
asks for ``413`` without reading the body, and for the offending connection
(only it) to be closed. This ASGI wrapper sits in front of the Socket.IO app.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import orjson

from server.edge.asgi_body import Receive, Send, content_length

Scope = dict[str, Any]
ASGI = Callable[[Scope, Any, Any], Awaitable[None]]


class BodyLimit:
    """``refusal`` is the 413's JSON body: the chat app's composition renders it from the error
    map (the engine knows no wire shape of the chat's); without one (the conformance app) the
    answer is plain text, as engine.io's own refusals (``packet_guard.py``)."""

    def __init__(
        self,
        app: ASGI,
        max_bytes: int,
        close: Callable[[str], Awaitable[None]],
        path: str,
        refusal: dict[str, Any] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.close = close
        self.path = path
        self.refusal = orjson.dumps(refusal) if refusal is not None else b"body over the transport limit"
        self.content_type = b"application/json" if refusal is not None else b"text/plain"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith(self.path):
            declared = content_length(scope)
            if declared is not None and declared > self.max_bytes:
                await self._refuse(scope, send)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        sid = parse_qs(scope.get("query_string", b"").decode()).get("sid", [""])[0]
        if sid:
            await self.close(sid)
        body = self.refusal
        headers = [(b"content-type", self.content_type), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
