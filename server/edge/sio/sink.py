"""Socket.IO's writer for the hub sink (``server.edge.realtime.sink``): audiences become rooms.

A topic-wide event is ONE emit to ``topic:{id}`` (python-socketio encodes it once for every
recipient, ``server.edge.engine.fanout``); a per-user event goes to ``user:{id}``. Membership
changes move a socket in or out of the topic room. The sockets still catching up (their
welcome not yet sent) are skipped: the runtime holds the event for them.

A recovery socket (one with a pid) is skipped by a ``message`` emit too and gets it from a
second emit, to those sockets only, with the message's offset (its id, as a string) as a
last argument: the JS client records it and sends it back when it reconnects. Other sockets
never see an offset.
"""

from __future__ import annotations

import logging
from typing import Any

from server.chat.kernel import events as ev
from server.edge.engine.outgoing import close_transport
from server.edge.realtime.connection import SLOW_CONSUMER, Close, Connection
from server.edge.realtime.registry import Registry
from server.edge.sio.tokens import client_address
from server.edge.sio.wire import expiring, server_event

log = logging.getLogger("parley.sio")


def topic_room(topic_id: int) -> str:
    return f"topic:{topic_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


class SocketIOWriter:
    """The writer of one namespace's sockets (their registry key is their sid)."""

    rooms = True

    def __init__(self, sio: Any, registry: Registry, namespace: str, on_slow: Any = None) -> None:
        self.sio = sio
        self.registry = registry
        self.namespace = namespace
        self.on_slow = on_slow

    async def write_many(
        self, event: ev.Event, audience: ev.Audience, connections: list[Connection], held: list[Connection]
    ) -> None:
        """``connections``: the recovery sockets the event reaches; they get a ``message`` apart."""
        shaped = server_event(event)
        if shaped is None:
            return
        name, payload = shaped
        ns = self.namespace
        skip = [c.key for c in held] if held else []
        offsets = [c.key for c in connections] if connections and name == "message" else []
        skip += offsets
        if isinstance(audience, ev.ToTopic):
            for user_id in audience.excluded:
                skip += self._sids_of(user_id)
            await self.sio.emit(
                name, payload, room=topic_room(audience.topic_id), skip_sid=skip or None, namespace=ns
            )
        elif isinstance(audience, ev.ToUser):
            await self.sio.emit(
                name, payload, room=user_room(audience.user_id), skip_sid=skip or None, namespace=ns
            )
        elif isinstance(audience, ev.ToEveryone):
            if audience.exclude_user:
                skip += self._sids_of(audience.exclude_user)
            await self.sio.emit(name, payload, skip_sid=skip or None, namespace=ns)  # the whole namespace
        else:
            rooms = [user_room(u) for u in audience.user_ids]
            await self.sio.emit(name, payload, room=rooms, skip_sid=skip or None, namespace=ns)
        if offsets:
            await self.sio.emit(name, with_offset(payload), to=offsets, namespace=ns)

    async def write(self, connection: Connection, event: ev.Event) -> None:
        shaped = server_event(event)
        if shaped is None:
            return
        name, payload = shaped
        data = with_offset(payload) if name == "message" and connection.pid else payload
        await self.sio.emit(name, data, to=connection.key, namespace=self.namespace)

    async def close(self, connection: Connection, decision: Close) -> None:
        if decision != SLOW_CONSUMER:  # a logout, an expired token: the client must not just retry
            await self.sio.disconnect(connection.key, namespace=self.namespace)
            return
        log.warning("closing a client too far behind its live events", extra={"sid": connection.key})
        if self.on_slow is not None:  # with the client's address (a refusal: ``server.refusals``)
            self.on_slow(client_address(self.sio.get_environ(connection.key, self.namespace) or {}))
        eio_sid = self.sio.manager.eio_sid_from_sid(connection.key, self.namespace)
        if eio_sid is not None:
            await close_transport(self.sio, eio_sid)

    async def expiring(self, connection: Connection) -> None:
        if connection.expires_at is not None:
            await self.sio.emit(*expiring(connection.expires_at), to=connection.key, namespace=self.namespace)

    async def moved(self, connection: Connection, topic_id: int, joined: bool) -> None:
        room = topic_room(topic_id)
        if joined:
            await self.sio.enter_room(connection.key, room, namespace=self.namespace)
        else:
            await self.sio.leave_room(connection.key, room, namespace=self.namespace)

    def _sids_of(self, user_id: int) -> list[str]:
        return [c.key for c in self.registry.of_user(user_id) if c.writer is self]


def with_offset(message: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A live ``message`` event's arguments for a recovery socket: the Message, then its offset."""
    return message, str(message["id"])
