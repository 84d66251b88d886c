"""Close the connection of an Engine.IO packet that cannot be decoded (PROTOCOL.md 5a).

python-engineio 4.15 logs a traceback and answers 200 for a polling body
holding a packet it cannot parse, lets the same packet escape its WebSocket
loop, and ignores (WebSocket) or half-handles (polling) an unknown packet
type. It offers no hook, so this ASGI wrapper checks each packet's framing
before engine.io sees it: a packet is decodable when it is a type digit
0-6 followed by anything; in a polling POST only the types a client sends
there (CLOSE, PONG, MESSAGE, UPGRADE): engine.io answers an OPEN, PING or
NOOP there by closing the session and waiting, forever, for its queue to
drain, so the POST never gets an answer. Anything else is counted and closes
that connection only: a polling POST is answered 400 and its session closed,
a WebSocket ends. The rest of the Socket.IO layer inside a message is
checked by ``server.edge.engine.server``.

Parley's protocol has no binary payloads, so binary is undecodable here, the
one place that sees a packet before engine.io reads the next one: a binary
WebSocket frame, a ``b`` (base64) polling packet, and a Socket.IO
BINARY_EVENT or BINARY_ACK (``45``/``46``). python-socketio would keep the
attachments a binary packet announces (up to 10**10 of them) in memory until
they all arrived; refused here, nothing is ever buffered. The conformance
app (``server.edge.engine.conformance``), whose test suites send binary, passes
``binary=True``: then binary frames, valid base64 packets and binary
Socket.IO packets go through.

engine.io reads a polling body only up to its ``Content-Length`` (none: it
reads nothing and answers 200). This guard reads the body itself, up to the
byte limit, so it hands engine.io the whole body in one message with its
exact length: a chunked POST's packets are handled like any other's.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from server.edge.asgi_body import Receive, Send, read_body, replay, with_length

Scope = dict[str, Any]
Message = dict[str, Any]
ASGI = Callable[[Scope, Any, Any], Awaitable[None]]
SEPARATOR = "\x1e"
TYPES = frozenset("0123456")
POLLING_TYPES = frozenset("1345")
BINARY_SOCKETIO = frozenset({"45", "46"})  # an Engine.IO MESSAGE holding a BINARY_EVENT or BINARY_ACK


def decodable(packet: str | None, types: frozenset[str] = TYPES) -> bool:
    """Whether a packet is one Parley takes: text, one of ``types``, no binary Socket.IO packet."""
    return packet is not None and packet[:1] in types and packet[:2] not in BINARY_SOCKETIO


def decodable_with_binary(packet: str | bytes | None, types: frozenset[str] = TYPES) -> bool:
    """Whether a packet is one engine.io can decode, binary included (the conformance app)."""
    if isinstance(packet, bytes):
        return True  # a binary WebSocket frame is a MESSAGE holding those bytes
    if packet is not None and packet[:1] == "b":  # a base64 packet in a polling body
        try:
            base64.b64decode(packet[1:], validate=True)
        except ValueError:
            return False
        return True
    return packet is not None and packet[:1] in types


class PacketGuard:
    def __init__(
        self,
        app: ASGI,
        max_bytes: int,
        close: Callable[[str], Awaitable[None]],
        on_undecodable: Callable[[], None],
        path: str,
        binary: bool = False,
    ) -> None:
        self.app = app
        self.check: Callable[..., bool] = decodable_with_binary if binary else decodable
        self.max_bytes = max_bytes
        self.close = close
        self.on_undecodable = on_undecodable
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
            frame = message.get("text")
            if frame is None and self.check is decodable_with_binary:
                frame = message.get("bytes")
            if message["type"] == "websocket.receive" and not self.check(frame):
                self.on_undecodable()
                return {"type": "websocket.disconnect", "code": 1002}  # engine.io ends the socket
            return message

        return checked

    async def _post(self, scope: Scope, receive: Receive, send: Send, sid: str) -> None:
        body = await read_body(receive, self.max_bytes)
        if body is not None and _decodable_payload(body, self.check):
            await self.app(with_length(scope, len(body)), replay(body, receive), _lowercase_ok(send))
            return
        await self.close(sid)
        if body is None:  # a body without a declared length, over the limit (BodyLimit refuses the rest)
            await _answer(send, 413, b"body over the transport limit")
            return
        self.on_undecodable()
        await _answer(send, 400, b"undecodable packet")


def _lowercase_ok(send: Send) -> Callable[[Message], Awaitable[None]]:
    """``send``, with engine.io's ``OK`` answer to a POST written ``ok`` (same length), as the reference
    server answers and engine.io-protocol's test suite checks; clients read neither."""

    async def sent(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body") == b"OK":
            message = {**message, "body": b"ok"}
        await send(message)

    return sent


def _decodable_payload(body: bytes, check: Callable[..., bool]) -> bool:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return False
    return not text or all(check(packet, POLLING_TYPES) for packet in text.split(SEPARATOR))


async def _answer(send: Send, status: int, text: bytes) -> None:
    headers = [(b"content-type", b"text/plain"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})


def _sid(scope: Scope) -> str:
    query: bytes = scope.get("query_string", b"")
    return parse_qs(query.decode()).get("sid", [""])[0]
