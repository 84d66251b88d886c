"""Close the connection of an Engine.IO packet that cannot be decoded (PROTOCOL.md 5a).

python-engineio 4.15 logs a traceback and answers 200 for a polling body
holding a packet it cannot parse, lets the same packet escape its WebSocket
loop, and ignores (WebSocket) or half-handles (polling) an unknown packet
type. It offers no hook, so this ASGI wrapper checks each packet's framing
before engine.io sees it: a packet is decodable when it is a type digit
0-6 followed by anything, or ``b`` and base64 (a binary message). Anything
else is counted and closes that connection only: a polling POST is answered
400 and its session closed, a WebSocket ends. The Socket.IO layer inside a
message is checked by ``server.sio.server``.
"""

from __future__ import annotations

import binascii
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

Scope = dict[str, Any]
Message = dict[str, Any]
ASGI = Callable[[Scope, Any, Any], Awaitable[None]]
SEPARATOR = "\x1e"
TYPES = frozenset("0123456")


def decodable(packet: str) -> bool:
    """Whether engine.io can decode one text packet into a known type."""
    if packet[:1] in TYPES:
        return True
    if packet[:1] != "b":
        return False
    try:
        binascii.a2b_base64(packet[1:].encode(), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        return False
    return True


class PacketGuard:
    def __init__(
        self,
        app: ASGI,
        max_bytes: int,
        close: Callable[[str], Awaitable[None]],
        on_undecodable: Callable[[], None],
        path: str,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.close = close
        self.on_undecodable = on_undecodable
        self.path = path

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if not scope.get("path", "").startswith(self.path):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.app(scope, self._checked_frames(receive), send)
        elif scope["type"] == "http" and scope["method"] == "POST" and (sid := _sid(scope)):
            await self._post(scope, receive, send, sid)
        else:
            await self.app(scope, receive, send)

    def _checked_frames(self, receive: Callable[[], Awaitable[Message]]) -> Callable[[], Awaitable[Message]]:
        async def checked() -> Message:
            message = await receive()
            text = message.get("text") if message["type"] == "websocket.receive" else None
            if text is not None and not decodable(text):
                self.on_undecodable()
                return {"type": "websocket.disconnect", "code": 1002}  # engine.io ends the socket
            return message

        return checked

    async def _post(self, scope: Scope, receive: Any, send: Any, sid: str) -> None:
        body, messages = await _read_body(receive, self.max_bytes)
        if body is not None and _decodable_payload(body):
            await self.app(scope, _replay(messages, receive), send)
            return
        await self.close(sid)
        if body is None:  # a body without a declared length, over the limit (BodyLimit refuses the rest)
            await _answer(send, 413, b"body over the transport limit")
            return
        self.on_undecodable()
        await _answer(send, 400, b"undecodable packet")


def _decodable_payload(body: bytes) -> bool:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return False
    return not text or all(decodable(packet) for packet in text.split(SEPARATOR))


async def _read_body(receive: Any, max_bytes: int) -> tuple[bytes | None, list[Message]]:
    """The request body (None past ``max_bytes``) and the ASGI messages read."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        size += len(message.get("body", b""))
        if size > max_bytes:
            return None, messages
        if message["type"] != "http.request" or not message.get("more_body", False):
            return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request"), messages


async def _answer(send: Any, status: int, text: bytes) -> None:
    headers = [(b"content-type", b"text/plain"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})


def _replay(messages: list[Message], receive: Any) -> Callable[[], Awaitable[Message]]:
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def _sid(scope: Scope) -> str:
    query: bytes = scope.get("query_string", b"")
    return parse_qs(query.decode()).get("sid", [""])[0]
