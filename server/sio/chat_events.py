"""The chat namespace ``/``: connect, disconnect and every client event.

Each event is one line: its payload model and the service call. Aliases of
the original JSON protocol map onto the same calls.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio

from server import wire
from server.chat import schemas as s
from server.chat.errors import ChatError, ErrorCode
from server.chat.ratelimit import TokenBucket
from server.chat.service import Chat
from server.chat.users import Actor
from server.metrics import Metrics
from server.sio.connections import Connection, Connections
from server.sio.envelope import Call, Envelope
from server.sio.sink import topic_room, user_room
from server.sio.tokens import client_address, token_from

log = logging.getLogger("parley.sio")
NAMESPACE = "/"


class ChatNamespace:
    def __init__(
        self, sio: Any, chat: Chat, connections: Connections, metrics: Metrics, burst: int, rate: float
    ) -> None:
        self.sio = sio
        self.chat = chat
        self.connections = connections
        self.metrics = metrics
        self.burst = burst
        self.rate = rate
        self.envelope = Envelope(connections, metrics)
        self._tasks: set[asyncio.Task[None]] = set()

    def register(self) -> None:
        c = self.chat
        routes: dict[str, tuple[type[s.In], Call]] = {
            "topic:create": (s.TopicCreateIn, lambda a, d: c.topics.create(a, d.name, d.private)),
            "topic:subscribe": (s.TopicRefIn, lambda a, d: c.topics.subscribe(a, d.topic)),
            "topic:unsubscribe": (s.TopicRefIn, lambda a, d: c.topics.unsubscribe(a, d.topic)),
            "topic:invite": (s.InviteIn, lambda a, d: c.topics.invite(a, d.topic, d.username)),
            "topic:list": (s.EmptyIn, lambda a, _d: c.topics.list(a)),
            "topic:members": (s.TopicRefIn, lambda a, d: c.topics.members(a, d.topic)),
            "message:send": (s.SendIn, lambda a, d: c.messages.send(a, d.target, d.body, d.client_id)),
            "message:edit": (s.EditIn, lambda a, d: c.messages.edit(a, d.id, d.body)),
            "message:delete": (s.DeleteIn, lambda a, d: c.messages.delete(a, d.id)),
            "history": (s.HistoryIn, lambda a, d: c.messages.history(a, d.target, d.before_seq, d.limit)),
            "typing": (s.TypingIn, lambda a, d: c.signals.typing(a, d.target, d.typing)),
            "read": (s.CursorIn, lambda a, d: c.signals.read(a, d.target, d.seq)),
            "delivered": (s.CursorIn, lambda a, d: c.delivery.acknowledge(a, d.target, d.seq)),
            # The original JSON protocol's names.
            "subscribe": (s.TopicRefIn, lambda a, d: c.topics.subscribe(a, d.topic)),
            "suscribe": (s.TopicRefIn, lambda a, d: c.topics.subscribe(a, d.topic)),
            "create": (s.TopicCreateIn, lambda a, d: c.topics.create(a, d.name, d.private)),
            "invite": (s.InviteIn, lambda a, d: c.topics.invite(a, d.topic, d.username)),
            "message": (
                s.LegacyMessageIn,
                lambda a, d: c.messages.send_legacy(a, d.topic_name, d.content, d.client_id),
            ),
        }
        for event, (model, call) in routes.items():
            self.sio.on(event, self.envelope.handler(event, model, call), namespace=NAMESPACE)
        self.sio.on("*", self.unknown, namespace=NAMESPACE)
        self.sio.on("connect", self.connect, namespace=NAMESPACE)
        self.sio.on("disconnect", self.disconnect, namespace=NAMESPACE)

    async def drain(self) -> None:
        """Shutdown: wait for welcome tasks (session + backlog) still running."""
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def unknown(self, event: str, _sid: str, *_args: Any) -> dict[str, Any]:
        self.metrics.events.labels("unknown", "invalid").inc()
        return wire.ack_error(ChatError(ErrorCode.INVALID, f"unknown event {event[:64]!r}"))

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            actor = await self.chat.users.authenticate(token_from(environ, auth))
        except ChatError as exc:
            raise socketio.exceptions.ConnectionRefusedError(exc.code.value, wire.error_body(exc)) from None
        connection = Connection(sid, actor, client_address(environ), TokenBucket(self.burst, self.rate))
        self.connections.add(connection)
        await self.sio.enter_room(sid, user_room(actor.id), namespace=NAMESPACE)
        async with self.chat.db.read() as repos:
            memberships = await repos.memberships.of_user(actor.id)
        for topic, _ in memberships:
            if topic.kind != "direct":
                await self.sio.enter_room(sid, topic_room(topic.id or 0), namespace=NAMESPACE)
        self.metrics.sockets.labels(NAMESPACE).inc()
        await self.chat.presence.socket_opened(actor.id, actor.username)
        log.info("connect", extra={"user": actor.username, "sid": sid})
        task = asyncio.ensure_future(self._welcome(sid, actor))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _welcome(self, sid: str, actor: Actor) -> None:
        """After the CONNECT packet: ``session``, then the backlog."""
        try:
            await self.sio.emit(
                "session",
                {"user": {"username": actor.username}, "server_time": wire.now_iso()},
                to=sid,
                namespace=NAMESPACE,
            )
            for message in await self.chat.delivery.backlog(actor.id):
                await self.sio.emit("message", message.model_dump(mode="json"), to=sid, namespace=NAMESPACE)
        except Exception:
            log.exception("welcome failed", extra={"sid": sid})

    async def disconnect(self, sid: str, *_reason: Any) -> None:
        connection = self.connections.remove(sid)
        if connection is None:
            return
        self.metrics.sockets.labels(NAMESPACE).dec()
        actor = connection.actor
        log.info("disconnect", extra={"user": actor.username, "sid": sid})
        try:
            if await self.chat.presence.socket_closed(actor.id, actor.username):
                await self.chat.signals.stopped(actor)
            await self.chat.delivery.flush()
        except Exception:
            log.exception("disconnect clean-up failed", extra={"sid": sid})
