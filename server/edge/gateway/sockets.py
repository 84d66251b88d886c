"""Gateway sockets and their writer: domain events reach plain-WebSocket clients.

Every gateway WebSocket (of any dialect) is a ``GatewaySocket``: its realtime connection
(``server.edge.realtime``: who, the topics it follows, its catch-up), how its dialect renders
an event (or ignores it), and a bounded outgoing queue with one writer task. The
``GatewayWriter`` is the gateways' writer for the one hub sink: per event it renders once per
dialect and queues the frame on each socket the sink found; it never awaits a client, so one
slow reader delays no one.

Order on one connection (PROTOCOL.md section 4): the runtime holds the live events of a socket
still catching up; the socket's writer task writes its welcome (the backlog, or a channel's
history), rendering it as it writes it (a backlog of thousands of messages is never a queue of
thousands of frames), then queues what was held.

A client that stops reading fills its queue: past ``limit`` bytes (or ``max_held`` events held
while its welcome is written) it is cut (close 1013) and catches up from the backlog when it
reconnects. Logout (``SessionsRevoked``) closes every socket of the user (4401), and a socket
is closed when the token it opened with expires (4401 ``token_expired``,
``server.edge.realtime.expiry``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from server.chat.kernel import events as ev
from server.chat.kernel.actors import Actor
from server.chat.kernel.ratelimit import TokenBucket
from server.chat.kernel.schemas import MessageOut
from server.edge.realtime.connection import MAX_HELD, SLOW_CONSUMER, Close, Connection
from server.edge.realtime.registry import Registry

log = logging.getLogger("parley.gateway")
GOODBYE_WAIT = 1.0  # seconds a close frame may wait for a client that does not read
_keys = itertools.count(1)  # a gateway socket's registry key: "ws-<n>" (Socket.IO's are sids)


@dataclass(frozen=True)
class Push:
    """One frame to send; ``delivered``: a message that counts as delivered once written."""

    text: str
    delivered: MessageOut | None = None


class Renderer(Protocol):
    """A dialect's shapes: a live event and a welcome message as frames (None: not for this dialect)."""

    def render(self, event: ev.Event) -> Push | None: ...

    def render_message(self, message: MessageOut) -> Push | None: ...


class WebSocketLike(Protocol):
    """What a socket needs of its WebSocket (Starlette's ``WebSocket`` has these)."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


Written = Callable[[Actor, MessageOut], Any]
"""Called (awaited) after a ``delivered`` push is written: the topics dialect acknowledges it."""


class GatewaySocket:
    def __init__(
        self,
        ws: WebSocketLike,
        actor: Actor,
        dialect: Renderer,
        bucket: TokenBucket,
        limit: int,
        writer: GatewayWriter,
        follows: Iterable[int] = (),
        follows_memberships: bool = True,
        on_cut: Callable[[], Any] | None = None,
        max_held: int = MAX_HELD,
        expires_at: datetime | None = None,
    ) -> None:
        self.ws = ws
        self.actor = actor
        self.dialect = dialect
        self.bucket = bucket
        self.limit = limit
        self.registry = writer.registry
        self.connection = Connection(
            f"ws-{next(_keys)}",
            actor,
            writer,
            bucket,
            follows,
            follows_memberships=follows_memberships,  # join/leave topics as the user does elsewhere
            max_held=max_held,
            peer=self,
            expires_at=expires_at,  # its token's: it is closed then (the registry's ``Expiry``)
        )
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
            self.cut()
            return
        self._queue.append(item)
        self._wake.set()

    def close(self, code: int, reason: str, drain: bool = True) -> None:
        """End the socket: after what is queued (``drain``) or at once, then a close frame."""
        if self.closing is not None:
            return
        self.connection.close(Close(code, reason))
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

    def cut(self) -> None:
        """Close as a slow consumer, dropping what is queued."""
        self.close(SLOW_CONSUMER.code, SLOW_CONSUMER.reason, drain=False)
        if self._on_cut is not None:
            self._on_cut()

    def _release(self) -> None:
        """The catch-up ends: queue what was held (but what the welcome covered). No await inside."""
        while self.connection.catching_up:
            for event in self.registry.release(self.connection):
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
                for message in self.connection.welcome(_taken(self._welcome)):
                    rendered = self.dialect.render_message(message)
                    if rendered is not None and not await self._send(rendered, written):
                        return
                    if self.closing is not None:
                        break
                self._welcome = None
                if self.closing is None:
                    self._release()
                continue
            if self.closing is not None:
                code, reason = self.closing
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.ws.close(code, reason), GOODBYE_WAIT)
                return
            self._wake.clear()
            await self._wake.wait()

    async def _send(self, item: Push, written: Written | None) -> bool:
        """Write one frame; False when the client is gone (uvicorn raises on a closed connection)."""
        try:
            await self.ws.send_text(item.text)
        except Exception:
            return False
        if item.delivered is not None and written is not None:
            try:
                await written(self.actor, item.delivered)
            except Exception:  # e.g. no longer a member: nothing to acknowledge
                log.debug("acknowledging a written message failed", exc_info=True)
        return True


def _taken(messages: deque[MessageOut]) -> Iterator[MessageOut]:
    """Each message, let go as it is taken (a backlog of thousands is not kept until the end)."""
    while messages:
        yield messages.popleft()


class GatewayWriter:
    """The gateways' writer for the hub sink: each socket's bounded queue, one render per dialect."""

    rooms = False

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def __len__(self) -> int:
        """The gateway sockets registered in this process."""
        return sum(1 for connection in self.registry if connection.writer is self)

    async def write_many(
        self, event: ev.Event, _audience: ev.Audience, connections: list[Connection], _held: list[Connection]
    ) -> None:
        rendered: dict[int, Push | None] = {}
        for connection in connections:
            socket: GatewaySocket = connection.peer
            key = id(socket.dialect)
            if key not in rendered:
                rendered[key] = socket.dialect.render(event)
            push = rendered[key]
            if push is not None:
                socket.push(push)

    async def write(self, connection: Connection, event: ev.Event) -> None:
        socket: GatewaySocket = connection.peer
        push = socket.dialect.render(event)
        if push is not None:
            socket.push(push)

    async def close(self, connection: Connection, decision: Close) -> None:
        socket: GatewaySocket = connection.peer
        if decision == SLOW_CONSUMER:
            socket.cut()
        else:
            socket.close(decision.code, decision.reason, drain=False)

    async def moved(self, _connection: Connection, _topic_id: int, _joined: bool) -> None:
        """Nothing to do: the registry's topic index is where the sink finds a gateway socket."""

    async def expiring(self, _connection: Connection) -> None:
        """Nothing to write: no dialect has a frame for it (the socket is closed at the expiry,
        4401 ``token_expired``)."""
