"""The echo namespace ``/echo``: same authentication, ``echo`` acks its payload.

The ack is the payload itself (no envelope) or the upstream's answer; a
failure is an error envelope ``{"ok": false, "error": ...}`` (an unexpected
one ``internal`` with a logged reference, as on the chat namespace: the one
dispatch pipeline answers both) and the socket stays usable. The transcript
is stored when the socket disconnects. A socket is one of the user's
``PARLEY_MAX_CONNECTIONS_PER_USER`` (with the chat namespace and the
gateways): past it the CONNECT is refused ``rate_limited``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from server.chat.echo.service import EchoSession
from server.chat.kernel.actors import Actor
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.ratelimit import TokenBucket
from server.chat.service import Chat
from server.edge.realtime.connection import Connection
from server.edge.realtime.dispatch import Active, dispatch
from server.edge.realtime.registry import Registry
from server.edge.sio.sink import SocketIOWriter
from server.edge.sio.tokens import client_address, token_from
from server.edge.sio.wire import ack_error, refusal, unknown_event
from server.metrics import Metrics
from server.refusals import RATE_LIMIT, USER_BOUND

log = logging.getLogger("parley.sio.echo")
NAMESPACE = "/echo"


class EchoPeer:
    """An ``/echo`` socket: its conversation with the echo channel and its rate bucket."""

    __slots__ = ("bucket", "session")

    def __init__(self, session: EchoSession, bucket: TokenBucket) -> None:
        self.session = session
        self.bucket = bucket

    @property
    def actor(self) -> Actor:
        return self.session.actor


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
        self._sessions: dict[str, EchoPeer] = {}
        self.too_many = "too many events; slow down"  # the codec's (``server.edge.realtime.dispatch``)
        self.active: Active | None = None  # an /echo socket holds no presence: no one's activity
        self.counts: dict[str, Any] = {}  # outcome -> its counter (``labels()`` locks on every call)

    def register(self) -> None:
        self.sio.on("connect", self.connect, namespace=NAMESPACE)
        self.sio.on("disconnect", self.disconnect, namespace=NAMESPACE)
        self.sio.on("echo", self.echo, namespace=NAMESPACE)
        if self.chat.echo.upstream is None:  # the answer is the payload: nothing is awaited
            self.sio.answer_inline(NAMESPACE, "echo")
        self.sio.on("*", self.unknown, namespace=NAMESPACE)

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            actor = await self.chat.users.authenticate(token_from(environ, auth))
            session = await self.chat.echo.open(actor)  # rate_limited: the user's sockets are all open
        except ChatError as exc:
            if exc.code is ErrorCode.RATE_LIMITED:  # the user holds all the sockets it may
                self.metrics.refused(USER_BOUND, client_address(environ))
            raise refusal(exc) from None
        bucket = TokenBucket(self.burst, self.rate)
        self._sessions[sid] = EchoPeer(session, bucket)
        connection = Connection(sid, actor, self.writer, bucket, follows_memberships=False)
        self.registry.add(connection, catch_up=False)  # one of the user's sockets; a logout closes it
        await self.sio.enter_room(sid, f"user:{actor.id}", namespace=NAMESPACE)
        self.metrics.sockets.labels(NAMESPACE).inc()

    async def echo(self, sid: str, *args: Any) -> Any:
        return await dispatch(self, sid, args)

    async def unknown(self, event: str, _sid: str, *_args: Any) -> dict[str, Any]:
        return unknown_event(event)

    # The codec of ``echo`` --------------------------------------------------------------------

    def admit(self, sid: str) -> EchoPeer:
        peer = self._sessions.get(sid)
        if peer is None:
            raise ChatError(ErrorCode.UNAUTHORIZED, "this socket is not authenticated")
        return peer

    def parse(self, args: tuple[Any, ...]) -> tuple[str, Any]:
        return "echo", args[0] if args else None

    def invoke(self, peer: EchoPeer, _action: str | None, payload: Any) -> Awaitable[Any]:
        return peer.session.echo(payload)

    def ok(self, _sid: str, _action: str | None, answer: Any) -> Any:
        return (answer,)  # a one-item tuple: python-socketio would send an empty ack for a bare None

    def err(self, _sid: str, _action: str | None, error: ChatError) -> Any:
        return ack_error(error)

    def label(self, _action: str | None) -> str:
        return "echo"

    def record(self, _action: str | None, outcome: str, _elapsed: float) -> None:
        count = self.counts.get(outcome)
        if count is None:
            count = self.counts[outcome] = self.metrics.events.labels("echo", outcome)
        count.inc()

    def limited(self, sid: str) -> None:
        self.metrics.refused(RATE_LIMIT, client_address(self.sio.get_environ(sid, NAMESPACE) or {}))

    async def disconnect(self, sid: str, *_reason: Any) -> None:
        entry = self._sessions.pop(sid, None)
        if entry is None:
            return
        connection = self.registry.get(sid)
        if connection is not None:
            self.registry.remove(connection)
        self.metrics.sockets.labels(NAMESPACE).dec()
        try:
            await self.chat.echo.close(entry.session)
        except Exception:
            log.exception("storing an echo transcript failed", extra={"sid": sid})
