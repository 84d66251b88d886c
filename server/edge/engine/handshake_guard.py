"""Refuse a malformed Engine.IO request as the reference server does, before engine.io sees it.

python-engineio 4.15 takes a request without ``transport`` for a polling one
(200 and a session), answers a method other than GET, POST and OPTIONS with
405, and refuses a second WebSocket for an already-upgraded session with an
HTTP error. The reference server (Node ``engine.io``, whose behaviour the
``socketio/engine.io-protocol`` test suite checks) answers 400 with a JSON
body ``{"code": C, "message": M}`` for a missing or unknown transport
(code 0), an unknown session (1), a handshake that is not a GET (2), a method other
than GET, POST or OPTIONS (3), an unsupported ``EIO`` (5); and it accepts the duplicate WebSocket, then closes
it. The gate in front of engine.io (``gate.EngineGate``) does that with what is here.

A refused WebSocket gets the 400 when the server supports ASGI's
``websocket.http.response`` extension (uvicorn does), otherwise a close
before the handshake (uvicorn answers 403).
"""

from __future__ import annotations

from typing import Any

import orjson
from engineio.async_server import AsyncServer

from server.edge.asgi_body import Receive, Send

Scope = dict[str, Any]
UNKNOWN_TRANSPORT = 0
UNKNOWN_SID = 1
BAD_HANDSHAKE_METHOD = 2
BAD_REQUEST = 3
UNSUPPORTED_PROTOCOL_VERSION = 5
MESSAGES = {
    UNKNOWN_TRANSPORT: "Transport unknown",
    UNKNOWN_SID: "Session ID unknown",
    BAD_HANDSHAKE_METHOD: "Bad handshake method",
    BAD_REQUEST: "Bad request",
    UNSUPPORTED_PROTOCOL_VERSION: "Unsupported protocol version",
}
METHODS = frozenset({"GET", "POST", "OPTIONS"})


def refusal(
    scope: Scope, query: dict[str, list[str]], sid: str, transports: frozenset[str], eio: AsyncServer
) -> int | None:
    """The reference server's error code for this request, or None to serve it."""
    if scope["type"] == "http" and scope["method"] == "OPTIONS":
        return None  # a CORS preflight: engine.io answers it
    if query.get("transport", [""])[0] not in transports:
        return UNKNOWN_TRANSPORT
    if scope["type"] == "http" and scope["method"] not in METHODS:
        return BAD_HANDSHAKE_METHOD if not sid else BAD_REQUEST
    if sid:
        return None if sid in eio.sockets else UNKNOWN_SID
    if scope["type"] == "http" and scope["method"] != "GET":
        return BAD_HANDSHAKE_METHOD
    if query.get("EIO") != ["4"]:
        return UNSUPPORTED_PROTOCOL_VERSION
    return None


def second_websocket(scope: Scope, sid: str, eio: AsyncServer) -> bool:
    """Whether this is a WebSocket for a session already upgraded (``accept_and_close`` answers it)."""
    return scope["type"] == "websocket" and bool(sid) and getattr(eio.sockets.get(sid), "upgraded", False)


async def refuse(scope: Scope, send: Send, code: int) -> None:
    body = orjson.dumps({"code": code, "message": MESSAGES[code]})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    elif "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": 400, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})


async def accept_and_close(receive: Receive, send: Send) -> None:
    """The reference server's answer to a second WebSocket for an upgraded session."""
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": 1000})
