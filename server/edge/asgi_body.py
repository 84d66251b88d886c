"""Reading an ASGI request body ourselves: its declared length, a bounded read, and a replay.

Shared by the HTTP body cap (``server.edge.body_cap``) and the Engine.IO guards
(``server.edge.engine.packet_guard``, ``body_limit``), which must not depend on the
chat's error shapes: nothing here knows what a refusal looks like.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def content_length(scope: Scope) -> int | None:
    """The declared ``Content-Length``, or None (absent or unreadable)."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def read_body(receive: Receive, max_bytes: int) -> bytes | None:
    """The request body, however it is framed; None once it passes ``max_bytes`` (the rest unread)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def with_length(scope: Scope, length: int) -> Scope:
    """``scope`` declaring the body it now has: its exact length, not chunked."""
    framing = (b"content-length", b"transfer-encoding")
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in framing]
    return {**scope, "headers": [*headers, (b"content-length", str(length).encode())]}


def replay(body: bytes, receive: Receive) -> Receive:
    """The body as one ASGI message, then whatever the server sends next (a disconnect)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed
