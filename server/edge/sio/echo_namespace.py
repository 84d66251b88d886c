"""The echo namespace ``/echo``: same authentication, ``echo`` acks its payload.

The ack is the payload itself (no envelope) or the upstream's answer; a
failure is an error envelope ``{"ok": false, "error": ...}`` and the socket
stays usable. The transcript is stored when the socket disconnects. A socket
is one of the user's ``PARLEY_MAX_CONNECTIONS_PER_USER`` (with the chat
namespace and the gateways): past it the CONNECT is refused ``rate_limited``.
"""

from __future__ import annotations

import logging
from typing import Any

import socketio

from server.chat.echo import EchoSession
from server.chat.errors import ChatError, ErrorCode
from server.chat.ratelimit import TokenBucket
from server.chat.service import Chat
from server.edge import wire
from server.edge.realtime.connection import Connection
from server.edge.realtime.registry import Registry
from server.edge.sio.sink import SocketIOWriter
from server.edge.sio.tokens import token_from
from server.metrics import Metrics

log = logging.getLogger("parley.sio.echo")
NAMESPACE = "/echo"


class EchoNamespace:
    def __init__(
        self, sio: Any, chat: Chat, registry: Registry, metrics: Metrics, burst: int, rate: float
    ) -> None:
        self.sio = sio
        self.chat = chat
        self.registry = registry
        self.writer = SocketIOWriter(sio, registry, NAMESPACE)  # only closes (a logout): no hub events
        self.metrics = metrics
        self.burst = burst
        self.rate = rate
        self._sessions: dict[str, tuple[EchoSession, TokenBucket]] = {}

    def register(self) -> None:
        self.sio.on("connect", self.connect, namespace=NAMESPACE)
        self.sio.on("disconnect", self.disconnect, namespace=NAMESPACE)
        self.sio.on("echo", self.echo, namespace=NAMESPACE)
        self.sio.on("*", self.unknown, namespace=NAMESPACE)

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            actor = await self.chat.users.authenticate(token_from(environ, auth))
            session = self.chat.echo.open(actor)  # rate_limited: the user's sockets are all open
        except ChatError as exc:
            raise socketio.exceptions.ConnectionRefusedError(exc.code.value, wire.error_body(exc)) from None
        bucket = TokenBucket(self.burst, self.rate)
        self._sessions[sid] = (session, bucket)
        connection = Connection(sid, actor, self.writer, bucket, follows_memberships=False)
        self.registry.add(connection, catch_up=False)  # one of the user's sockets; a logout closes it
        await self.sio.enter_room(sid, f"user:{actor.id}", namespace=NAMESPACE)
        self.metrics.sockets.labels(NAMESPACE).inc()

    async def echo(self, sid: str, *args: Any) -> Any:
        entry = self._sessions.get(sid)
        outcome = "ok"
        try:
            if entry is None:
                raise ChatError(ErrorCode.UNAUTHORIZED, "this socket is not authenticated")
            session, bucket = entry
            if not bucket.take():
                raise ChatError(ErrorCode.RATE_LIMITED, "too many events; slow down")
            # A one-item tuple: python-socketio would send an empty ack for a bare None.
            return (await session.echo(args[0] if args else None),)
        except ChatError as exc:
            outcome = exc.code.value
            return wire.ack_error(exc)
        finally:
            self.metrics.events.labels("echo", outcome).inc()

    async def unknown(self, event: str, _sid: str, *_args: Any) -> dict[str, Any]:
        return wire.ack_error(ChatError(ErrorCode.INVALID, f"unknown event {event[:64]!r}"))

    async def disconnect(self, sid: str, *_reason: Any) -> None:
        entry = self._sessions.pop(sid, None)
        if entry is None:
            return
        connection = self.registry.get(sid)
        if connection is not None:
            self.registry.remove(connection)
        self.metrics.sockets.labels(NAMESPACE).dec()
        try:
            await self.chat.echo.close(entry[0])
        except Exception:
            log.exception("storing an echo transcript failed", extra={"sid": sid})
