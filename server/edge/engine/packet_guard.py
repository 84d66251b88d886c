"""Close the connection of an Engine.IO packet that cannot be decoded (PROTOCOL.md 5a).

python-engineio 4.15 logs a traceback and answers 200 for a polling body
holding a packet it cannot parse, lets the same packet escape its WebSocket
loop, and ignores (WebSocket) or half-handles (polling) an unknown packet
type. It offers no hook, so the one ASGI wrapper in front of engine.io
(``gate.EngineGate``) checks each packet's framing with what is here
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
reads nothing and answers 200). ``checked_post`` reads the body itself, up to the
byte limit, so it hands engine.io the whole body in one message with its
exact length: a chunked POST's packets are handled like any other's.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

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


async def checked_post(
    app: ASGI,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    max_bytes: int,
    check: Callable[..., bool],
    refuse: Callable[[], Awaitable[None]],
    on_undecodable: Callable[[], None],
) -> None:
    """Hand a polling POST to engine.io whole, or refuse it: ``refuse`` closes its session first."""
    body = await read_body(receive, max_bytes)
    if body is not None and _decodable_payload(body, check):
        await app(with_length(scope, len(body)), replay(body, receive), _lowercase_ok(send))
        return
    await refuse()
    if body is None:  # a body without a declared length, over the limit (the gate refused declared ones)
        await _answer(send, 413, b"body over the transport limit")
        return
    on_undecodable()
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
