"""Refuse an Engine.IO polling POST that declares more than the transport limit.

engine.io itself answers such a request with 400 after routing it; PROTOCOL.md
asks for ``413`` without reading the body, and for the offending connection
(only it) to be closed. The gate in front of engine.io (``gate.EngineGate``)
asks ``over_limit`` of every POST and answers with ``Refusal.send``.
"""

from __future__ import annotations

from typing import Any

import orjson

from server.edge.asgi_body import Send, content_length

Scope = dict[str, Any]


def over_limit(scope: Scope, max_bytes: int) -> bool:
    """Whether a request declares a body of more than ``max_bytes`` (one without a length does not)."""
    declared = content_length(scope)
    return declared is not None and declared > max_bytes


class Refusal:
    """The 413 answer. ``body`` is its JSON: the chat app's composition renders it from the error
    map (the engine knows no wire shape of the chat's); without one (the conformance app) the
    answer is plain text, as engine.io's own refusals (``packet_guard.py``)."""

    __slots__ = ("body", "content_type")

    def __init__(self, body: dict[str, Any] | None = None) -> None:
        self.body = orjson.dumps(body) if body is not None else b"body over the transport limit"
        self.content_type = b"application/json" if body is not None else b"text/plain"

    async def send(self, send: Send) -> None:
        headers = [(b"content-type", self.content_type), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})
