"""The chat namespace ``/``: connect, disconnect and every client event.

The events and their service calls are the shared route table
(``server.edge.routes``); this module adds connect, disconnect and the welcome.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from server.chat.connections.sessions import Gone, Session
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.kernel.ratelimit import TokenBucket
from server.chat.kernel.schemas import MessageOut
from server.chat.service import Chat
from server.edge.engine.fanout import Encoded, LeanFanout
from server.edge.engine.outgoing import OutgoingGuard
from server.edge.errors import classify
from server.edge.realtime.connection import Connection
from server.edge.realtime.registry import Registry
from server.edge.routes import call_routes, chat_routes, connection_routes
from server.edge.sio.envelope import Envelope
from server.edge.sio.one_per_user import OnePerUser
from server.edge.sio.sink import SocketIOWriter, topic_room, user_room
from server.edge.sio.tokens import client_address, recovery_from, token_from
from server.edge.sio.wire import now_iso, refusal, unknown_event
from server.metrics import Metrics
from server.refusals import RATE_LIMIT, USER_BOUND

log = logging.getLogger("parley.sio")
NAMESPACE = "/"
DRAIN_WITHIN = 5.0  # seconds a stop waits for event handlers still running (a send's bound is less)
ENCODINGS_KEPT = 2048  # backlog messages kept encoded (a storm's distinct ones, as ``DeliveryService``)
FLOW_EVERY = 16  # backlog messages sent between two looks at the socket's queue (one long-poll's worth)


class ChatNamespace:
    def __init__(
        self,
        sio: Any,
        chat: Chat,
        registry: Registry,
        metrics: Metrics,
        burst: int,
        rate: float,
        flow: OutgoingGuard,
        max_held: int,
    ) -> None:
        self.sio = sio
        self.fanout: LeanFanout = sio.manager
        self.flow = flow
        self.chat = chat
        self.registry = registry
        self.writer = SocketIOWriter(sio, registry, NAMESPACE, metrics.slow_consumer)
        self.metrics = metrics
        self.burst = burst
        self.rate = rate
        self.max_held = max_held
        self.envelope = Envelope(registry, metrics, self.limited, chat.people.active)
        self.welcoming = OnePerUser()
        self._encodings: dict[int, tuple[MessageOut, Encoded]] = {}  # by id(message)
        self._tasks: set[asyncio.Task[None]] = set()

    def register(self) -> None:
        for event, route in chat_routes(self.chat).items():
            self.sio.on(event, self.envelope.handler(event, route), namespace=NAMESPACE)
        if self.registry.expiry is not None:
            for event, own in connection_routes(self.chat, self.registry.expiry).items():
                self.sio.on(event, self.envelope.handler(event, own), namespace=NAMESPACE)
        for event, own in call_routes(self.chat).items():
            self.sio.on(event, self.envelope.handler(event, own), namespace=NAMESPACE)
        self.sio.on("*", self.unknown, namespace=NAMESPACE)
        self.sio.on("connect", self.connect, namespace=NAMESPACE)
        self.sio.on("disconnect", self.disconnect, namespace=NAMESPACE)
        self.sio.connect_replies[NAMESPACE] = self.connect_reply

    async def drain(self, within: float = DRAIN_WITHIN) -> None:
        """Shutdown: wait for welcome tasks (session + backlog) still running, and for the event
        handlers, up to ``within`` (a send held by a database that hangs is bounded by its own)."""
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.envelope.running:
            await asyncio.wait(set(self.envelope.running), timeout=within)

    def limited(self, sid: str) -> None:
        """An event of ``sid`` refused ``rate_limited``: a refusal, counted with the client's address."""
        self.metrics.refused(RATE_LIMIT, client_address(self.sio.get_environ(sid, NAMESPACE) or {}))

    async def unknown(self, event: str, _sid: str, *_args: Any) -> dict[str, Any]:
        self.metrics.events.labels("unknown", "invalid").inc()
        return unknown_event(event)

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool | None:
        """Open the session (queued behind other set-ups in a storm), register the connection and
        start its welcome. False (nothing kept) when the client left while its set-up ran: the
        library runs no disconnect handler for a socket still connecting."""
        present = partial(self.flow.present, sid, NAMESPACE)
        try:
            session = await self.chat.sessions.open(
                token_from(environ, auth), recovery_from(auth), present=present
            )
        except Gone:
            return False
        except Exception as exc:  # a refusal, or the database's outage: a CONNECT_ERROR saying which
            if isinstance(exc, ChatError) and exc.code is ErrorCode.RATE_LIMITED:  # all its sockets open
                self.metrics.refused(USER_BOUND, client_address(environ))
            raise refusal(classify(exc, "opening a session failed")) from None
        if not present():
            await self.chat.sessions.close(session.actor, session.pid)
            return False
        actor = session.actor
        bucket = TokenBucket(self.burst, self.rate)
        connection = Connection(
            sid,
            actor,
            self.writer,
            bucket,
            session.topic_ids,
            pid=session.pid,
            max_held=self.max_held,
            expires_at=session.expires_at,
        )
        self.registry.add(connection)  # catching up (live events for it are held); its token's clock runs
        await self.sio.enter_room(sid, user_room(actor.id), namespace=NAMESPACE)
        for topic_id in session.topic_ids:
            await self.sio.enter_room(sid, topic_room(topic_id), namespace=NAMESPACE)
        self.metrics.sockets.labels(NAMESPACE).inc()
        log.info("connect", extra={"user": actor.username, "sid": sid, "recovered": session.recovered})
        task = asyncio.ensure_future(self._welcome(connection, session))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return None

    def connect_reply(self, sid: str) -> dict[str, Any]:
        """What the CONNECT reply carries besides the sid: the pid of a recovery socket."""
        connection = self.registry.get(sid)
        return {"pid": connection.pid} if connection is not None and connection.pid else {}

    async def _welcome(self, connection: Connection, session: Session) -> None:
        """After the CONNECT packet: ``session``, the backlog (or a resumed recovery session's
        replay), then what was held meanwhile. Neither carries offsets; what was held does.

        The backlog is read before ``session`` is sent: a message stored after the client saw
        ``session`` is then never in it, so it arrives live (held, then released with its offset
        for a recovery socket), as the client expects. Read after, a slow read could take it into
        the backlog, offset-less (a read slowed by a loaded PostgreSQL is enough). A failure closes the
        socket rather than let live messages overtake a backlog that was never sent: the client
        reconnects and gets it then.
        """
        sid = connection.key
        try:
            await self.registry.heard()  # the hub hears its topics: what is stored after the read comes live
            backlog = await self.chat.sessions.backlog(session)  # registered before: the rest is held
            if self.registry.get(sid) is not connection:
                return  # gone meanwhile
            payload = {"user": {"username": session.actor.username}, "server_time": now_iso()}
            await self.sio.emit("session", payload, to=sid, namespace=NAMESPACE)
            user_id = session.actor.id
            give_way = partial(self.welcoming.waited_for, user_id)
            async with self.welcoming.turn(user_id):  # one per user: no replay storm
                if self.registry.get(sid) is not connection:
                    return  # gone while an earlier welcome of the user ran
                for count, message in enumerate(connection.welcome(backlog), 1):
                    if self.registry.get(sid) is not connection:
                        return  # gone meanwhile
                    await self.fanout.emit_encoded(self._encoded(message), NAMESPACE, sid)
                    self.metrics.backlog_messages.inc()
                    # As fast as the transport takes it (and the lean emit never yields: this does),
                    # and by bytes too: 16 large messages are the bound of a WebSocket whose transport
                    # is momentarily full, which is cut at once past it (``OutgoingGuard``).
                    look = count % FLOW_EVERY == 0 or self.flow.crowded(sid, NAMESPACE)
                    if look and not await self.flow.room(sid, NAMESPACE, give_way):
                        return  # gone, or closed as a client that does not read
            await self._release(connection)
        except Exception:
            log.exception("welcome failed", extra={"sid": sid})
            await self.sio.disconnect(sid, namespace=NAMESPACE)

    def _encoded(self, message: MessageOut) -> Encoded:
        """A backlog message's ``message`` event, encoded once however many sockets get it: a
        storm's members of a topic get the same rendering (``DeliveryService``), kept here with
        its encoding (alive, so its id stays its own), ENCODINGS_KEPT of them, across welcomes:
        a storm's run one after another (the lean emit never yields)."""
        kept = self._encodings.get(id(message))
        if kept is None or kept[0] is not message:
            if len(self._encodings) >= ENCODINGS_KEPT:
                self._encodings.clear()
            encoded = self.fanout.encode("message", message.wire, NAMESPACE)
            kept = self._encodings[id(message)] = (message, encoded)
        return kept[1]

    async def _release(self, connection: Connection) -> None:
        """Send what was held during the backlog, in arrival order (per topic, ``seq`` order), but
        what the backlog already sent (``Connection.release``). Loops until nothing is held; the
        catch-up ends with no await between the last look at the held list and the end. A
        recovery socket gets each held ``message`` with its offset, as it would have live: all
        it was sent before on this connection has been sent by then.
        """
        while connection.catching_up:
            for event in self.registry.release(connection):
                await self.writer.write(connection, event)

    async def disconnect(self, sid: str, *_reason: Any) -> None:
        connection = self.registry.get(sid)
        if connection is None or not self.registry.remove(connection):
            return
        self.metrics.sockets.labels(NAMESPACE).dec()
        actor = connection.actor
        log.info("disconnect", extra={"user": actor.username, "sid": sid})
        try:
            await self.chat.sessions.close(actor, connection.pid)
        except Exception:
            log.exception("disconnect clean-up failed", extra={"sid": sid})
        try:
            await self.chat.calls.socket_closed(sid)  # its seat in a call is kept for the grace
        except Exception:
            log.exception("a call's clean-up failed", extra={"sid": sid})
