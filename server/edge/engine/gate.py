"""The one ASGI wrapper in front of an Engine.IO endpoint: what engine.io must never see, refused.

Every request under ``path`` passes here once, and every other request goes straight on to
``app`` (``socketio.ASGIApp`` routes those to the rest of the server). In order:

1. a malformed Engine.IO request gets the reference server's 400 (``handshake_guard``), as does
   a POST for a session past its PONG deadline (ended here), and a second WebSocket for an
   upgraded session is accepted and closed;
2. a WebSocket gets its ``KillSwitch`` (``killswitch``): its frames checked as they arrive, and a
   way for the server to end it;
3. a polling POST that declares more than ``max_bytes`` is refused 413 unread and its session
   closed (``body_limit``); one with a session is read whole and handed on only if every packet
   in it is decodable (``packet_guard``).

As four nested wrappers (handshake guard, body limit, packet guard, kill switch), each would hold
a coroutine frame for the whole life of every WebSocket and the last two a call layer on every
received frame: one gate holds one frame and adds none per frame.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from urllib.parse import parse_qs

from engineio.async_server import AsyncServer

from server.edge.asgi_body import Receive, Send
from server.edge.engine.body_limit import Refusal, over_limit
from server.edge.engine.handshake_guard import accept_and_close, refusal, refuse, second_websocket
from server.edge.engine.killswitch import ASGI, FrameCheck, KillSwitch
from server.edge.engine.packet_guard import checked_post, decodable, decodable_with_binary

Scope = dict[str, Any]
Close = Callable[[str], Awaitable[None]]
"""Close one Engine.IO session now, given its id."""


class EngineGate:
    """``close`` ends the session of an undecodable POST (its waiting long-poll gets a CLOSE);
    ``close_oversized`` the session of a POST over the limit; ``refusal`` is the 413's JSON body
    (``body_limit.Refusal``); ``on_oversized`` is told the client address of each such POST (a
    refusal, counted by the app); ``binary`` admits binary packets (the conformance app)."""

    def __init__(
        self,
        app: ASGI,
        path: str,
        eio: AsyncServer,
        *,
        max_bytes: int,
        close: Close,
        on_undecodable: Callable[[], None],
        close_oversized: Close | None = None,
        refusal: dict[str, Any] | None = None,
        on_oversized: Callable[[str], None] | None = None,
        binary: bool = False,
    ) -> None:
        self.app = app
        self.path = path
        self.eio = eio
        self.transports = frozenset(eio.transports)
        self.max_bytes = max_bytes
        self.close = close
        self.close_oversized = close_oversized or close
        self.too_large = Refusal(refusal)
        self.on_oversized = on_oversized
        self.frames = FrameCheck(decodable_with_binary if binary else decodable, on_undecodable, binary)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or not scope.get("path", "").startswith(self.path):
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode())
        sid = query.get("sid", [""])[0]
        if sid and kind == "http" and scope["method"] == "POST":
            end_if_overdue = getattr(self.eio.sockets.get(sid), "end_if_overdue", None)
            if end_if_overdue is not None:  # Parley's sockets; a stock one checks in engine.io
                await end_if_overdue()  # then refused below as an unknown session
        code = refusal(scope, query, sid, self.transports, self.eio)
        if code is not None:
            await refuse(scope, send, code)
        elif kind == "websocket":
            # Inline, not a method: this frame waits for the handshake (for the connection's whole
            # life unless engine.io's session parks it, ``wsprotocol.park``), and a second suspended
            # coroutine per socket (about 250 B) would hold nothing more.
            if second_websocket(scope, sid, self.eio):
                await accept_and_close(receive, send)
                return
            switch = KillSwitch(receive, send, self.frames)
            del query  # parse_qs's dict: held by this frame for the connection's life otherwise
            await self.app(scope, switch.receive, switch.send)
            await switch.goodbye()
        elif scope["method"] == "POST":
            await self._post(scope, receive, send, sid)
        else:
            await self.app(scope, receive, send)

    async def _post(self, scope: Scope, receive: Receive, send: Send, sid: str) -> None:
        if over_limit(scope, self.max_bytes):
            if sid:
                await self.close_oversized(sid)
            if self.on_oversized is not None:
                client = scope.get("client")
                self.on_oversized(str(client[0]) if client else "")
            await self.too_large.send(send)
        elif sid:
            await checked_post(
                self.app,
                scope,
                receive,
                send,
                max_bytes=self.max_bytes,
                check=self.frames.check,
                refuse=partial(self.close, sid),
                on_undecodable=self.frames.on_undecodable,
            )
        else:
            await self.app(scope, receive, send)
