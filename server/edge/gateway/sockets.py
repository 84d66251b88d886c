"""Gateway sockets and their hub sink: domain events reach plain-WebSocket clients.

Every gateway WebSocket (of any dialect) is a ``GatewaySocket``: who it is,
the topics whose topic-wide events it follows, how its dialect renders an
event (or ignores it), and a bounded outgoing queue with one writer task. The
``GatewaySink`` is a sink of the same hub as Socket.IO: per event it finds the
sockets of the audience (by user, by topic), renders once per dialect and
queues the frame; it never awaits a client, so one slow reader delays no one.

Order on one connection (PROTOCOL.md section 4): a new socket is *catching
up* (``held`` is a list) from the moment it is registered until its welcome
(the backlog, or a channel's history) is written; events meanwhile are held
and queued after the welcome, a held message the welcome already covered
dropped. The writer renders the welcome as it writes it, so a backlog of
thousands of messages is never a queue of thousands of frames.

A client that stops reading fills its queue: past ``limit`` bytes (or
``MAX_HELD`` events held while its welcome is written) it is cut (close 1013)
and catches up from the backlog when it reconnects. Logout
(``SessionsRevoked``) closes every gateway socket of the user (4401).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from server.chat import events as ev
from server.chat.ratelimit import TokenBucket
from server.chat.schemas import MessageOut
from server.chat.users import Actor
from server.edge.gateway.wire import REVOKED, SLOW_CONSUMER

log = logging.getLogger("parley.gateway")
GOODBYE_WAIT = 1.0  # seconds a close frame may wait for a client that does not read
MAX_HELD = 10_000


@dataclass(frozen=True)
class Push:
    """One frame to send; ``delivered``: a message that counts as delivered once written."""

    text: str
    delivered: MessageOut | None = None


class Renderer(Protocol):
    """A dialect's shapes: a live event and a welcome message as frames (None: not for this dialect)."""

    def render(self, event: ev.Event) -> Push | None: ...

    def render_message(self, message: MessageOut) -> Push | None: ...


class Connection(Protocol):
    """What a socket needs of its WebSocket (Starlette's ``WebSocket`` has these)."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


Written = Callable[[Actor, MessageOut], Any]
"""Called (awaited) after a ``delivered`` push is written: the topics dialect acknowledges it."""


class GatewaySocket:
    def __init__(
        self,
        connection: Connection,
        actor: Actor,
        dialect: Renderer,
        bucket: TokenBucket,
        limit: int,
        follows: Iterable[int] = (),
        follows_memberships: bool = True,
        on_cut: Callable[[], Any] | None = None,
    ) -> None:
        self.connection = connection
        self.actor = actor
        self.dialect = dialect
        self.bucket = bucket
        self.limit = limit
        self.follows = set(follows)
        self.follows_memberships = follows_memberships  # join/leave topics as the user does elsewhere
        self.held: list[ev.Event] | None = []  # catching up until ``welcome``
        self.closing: tuple[int, str] | None = None
        self._on_cut = on_cut
        self.ended = asyncio.Event()  # set by ``close``: the server wants this socket gone
        self._queue: deque[Push] = deque()
        self._bytes = 0
        self._wake = asyncio.Event()
        self._welcome: deque[MessageOut] | None = None

    # Queueing ------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Queue a frame of this socket's own (a reply)."""
        self.push(Push(text))

    def push(self, item: Push) -> None:
        if self.closing is not None:
            return
        self._bytes += len(item.text)
        if self._bytes > self.limit:
            self._cut()
            return
        self._queue.append(item)
        self._wake.set()

    def close(self, code: int, reason: str, drain: bool = True) -> None:
        """End the socket: after what is queued (``drain``) or at once, then a close frame."""
        if self.closing is not None:
            return
        self.closing = (code, reason)
        if not drain:
            self._queue.clear()
            self._bytes = 0
        self._wake.set()
        self.ended.set()

    def welcome(self, messages: Iterable[MessageOut]) -> None:
        """Give the writer the welcome: it writes it after what is queued, then what was held."""
        self._welcome = deque(messages)
        self._wake.set()

    def hold(self, event: ev.Event) -> None:
        """Keep a live event until the welcome is written (a socket that cannot keep up is cut)."""
        assert self.held is not None
        self.held.append(event)
        if len(self.held) > MAX_HELD:
            self._cut()

    def _cut(self) -> None:
        self.close(SLOW_CONSUMER, "slow_consumer", drain=False)
        if self._on_cut is not None:
            self._on_cut()

    def _release(self, sent: dict[str, int]) -> None:
        """The catch-up ends: queue what was held (but what the welcome covered). No await inside."""
        held, self.held = self.held or [], None
        for event in held:
            if isinstance(event, ev.MessageCreated) and event.message.seq <= sent.get(event.message.topic, 0):
                continue
            push = self.dialect.render(event)
            if push is not None:
                self.push(push)

    # Writing -------------------------------------------------------------------

    async def write(self, written: Written | None = None) -> None:
        """The writer task: queued frames, the welcome once given, held events; on ``close``, the
        close frame; then return."""
        while True:
            while self._queue:
                item = self._queue.popleft()
                self._bytes -= len(item.text)
                if not await self._send(item, written):
                    return
            if self._welcome is not None and self.closing is None:
                sent: dict[str, int] = {}
                while self._welcome and self.closing is None:
                    message = self._welcome.popleft()
                    rendered = self.dialect.render_message(message)
                    if rendered is not None and not await self._send(rendered, written):
                        return
                    sent[message.topic] = message.seq
                self._welcome = None
                if self.closing is None:
                    self._release(sent)
                continue
            if self.closing is not None:
                code, reason = self.closing
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.connection.close(code, reason), GOODBYE_WAIT)
                return
            self._wake.clear()
            await self._wake.wait()

    async def _send(self, item: Push, written: Written | None) -> bool:
        """Write one frame; False when the client is gone (uvicorn raises on a closed connection)."""
        try:
            await self.connection.send_text(item.text)
        except Exception:
            return False
        if item.delivered is not None and written is not None:
            try:
                await written(self.actor, item.delivered)
            except Exception:  # e.g. no longer a member: nothing to acknowledge
                log.debug("acknowledging a written message failed", exc_info=True)
        return True


class GatewaySink:
    """The hub sink of every gateway socket of this process."""

    def __init__(self) -> None:
        self._by_user: dict[int, set[GatewaySocket]] = {}
        self._by_topic: dict[int, set[GatewaySocket]] = {}

    def add(self, socket: GatewaySocket) -> None:
        self._by_user.setdefault(socket.actor.id, set()).add(socket)
        for topic_id in socket.follows:
            self._by_topic.setdefault(topic_id, set()).add(socket)

    def remove(self, socket: GatewaySocket) -> None:
        _discard(self._by_user, socket.actor.id, socket)
        for topic_id in socket.follows:
            _discard(self._by_topic, topic_id, socket)

    def follow(self, socket: GatewaySocket, topic_id: int) -> None:
        socket.follows.add(topic_id)
        self._by_topic.setdefault(topic_id, set()).add(socket)

    def unfollow(self, socket: GatewaySocket, topic_id: int) -> None:
        socket.follows.discard(topic_id)
        _discard(self._by_topic, topic_id, socket)

    def __len__(self) -> int:
        return sum(len(sockets) for sockets in self._by_user.values())

    async def deliver(self, event: ev.Event) -> None:
        if isinstance(event, ev.MembershipChanged):
            for socket in list(self._by_user.get(event.user_id, ())):
                if socket.follows_memberships:
                    (self.follow if event.joined else self.unfollow)(socket, event.topic_id)
            return
        if isinstance(event, ev.SessionsRevoked):
            for socket in list(self._by_user.get(event.user_id, ())):
                socket.close(REVOKED, "token_revoked", drain=False)
            return
        audience = getattr(event, "audience", None)
        if audience is None:
            return
        rendered: dict[int, Push | None] = {}
        for socket in self._audience(audience):
            if socket.held is not None:
                socket.hold(event)
                continue
            key = id(socket.dialect)
            if key not in rendered:
                rendered[key] = socket.dialect.render(event)
            push = rendered[key]
            if push is not None:
                socket.push(push)

    def _audience(self, audience: ev.Audience) -> list[GatewaySocket]:
        if isinstance(audience, ev.ToTopic):
            sockets = self._by_topic.get(audience.topic_id, ())
            return [s for s in sockets if s.actor.id != audience.exclude_user]
        if isinstance(audience, ev.ToUser):
            return list(self._by_user.get(audience.user_id, ()))
        if isinstance(audience, ev.ToEveryone):
            return [s for user, ss in self._by_user.items() if user != audience.exclude_user for s in ss]
        return [s for user_id in audience.user_ids for s in self._by_user.get(user_id, ())]


def _discard(index: dict[int, set[GatewaySocket]], key: int, socket: GatewaySocket) -> None:
    sockets = index.get(key)
    if sockets is not None:
        sockets.discard(socket)
        if not sockets:
            del index[key]
