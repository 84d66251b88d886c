"""The hub sink for Socket.IO: domain audiences become rooms.

A topic-wide event is ONE emit to ``topic:{id}`` (python-socketio encodes it
once for every recipient); a per-user event goes to ``user:{id}``. Membership
changes move the user's open sockets in or out of the topic room.

A socket still catching up (its backlog not yet sent) is skipped by these
emits; the event is held on its connection and sent after the backlog.

A recovery socket (one with a pid) is skipped by a ``message`` emit too and
gets it from a second emit, to those sockets only, with the message's offset
(its id, as a string) as a last argument: the JS client records it and sends
it back when it reconnects. Other sockets never see an offset.
"""

from __future__ import annotations

from typing import Any

from server.chat import events as ev
from server.edge.sio.connections import Connection, Connections
from server.edge.sio.wire import server_event


def topic_room(topic_id: int) -> str:
    return f"topic:{topic_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


class SocketIOSink:
    def __init__(self, sio: Any, connections: Connections) -> None:
        self.sio = sio
        self.connections = connections

    async def deliver(self, event: ev.Event) -> None:
        if isinstance(event, ev.MembershipChanged):
            await self._follow(event)
            return
        if isinstance(event, ev.SessionsRevoked):
            await self._close_all(event.user_id)
            return
        if isinstance(event, ev.UserDeleted):
            return  # for name caches only
        shaped = server_event(event)
        if shaped is None:
            return
        name, payload = shaped
        audience = event.audience
        held = self._hold(audience, name, payload)
        offsets = self._with_offset(audience, held) if name == "message" else []
        skip = held + offsets
        if isinstance(audience, ev.ToTopic):
            if audience.exclude_user:
                skip += self.connections.sids_of(audience.exclude_user)
            await self.sio.emit(name, payload, room=topic_room(audience.topic_id), skip_sid=skip or None)
        elif isinstance(audience, ev.ToUser):
            await self.sio.emit(name, payload, room=user_room(audience.user_id), skip_sid=skip or None)
        elif isinstance(audience, ev.ToEveryone):
            if audience.exclude_user:
                skip += self.connections.sids_of(audience.exclude_user)
            await self.sio.emit(name, payload, skip_sid=skip or None)  # the whole chat namespace
        else:
            rooms = [user_room(u) for u in audience.user_ids]
            await self.sio.emit(name, payload, room=rooms, skip_sid=skip or None)
        if offsets:
            await self.sio.emit(name, with_offset(payload), to=offsets)

    def _hold(self, audience: ev.Audience, name: str, payload: dict[str, Any]) -> list[str]:
        """Hold the event for each catching-up socket it is for; their sids, to skip."""
        held = []
        for connection in self.connections.catching_up():
            if _reaches(audience, connection):
                connection.held.append((name, payload))
                held.append(connection.sid)
        return held

    def _with_offset(self, audience: ev.Audience, held: list[str]) -> list[str]:
        """The recovery sockets this ``message`` reaches now (not held): they get its offset."""
        if isinstance(audience, ev.ToTopic):
            sids = self.connections.recovery_sids_of_topic(audience.topic_id)
            if sids and audience.exclude_user:
                sids = [sid for sid in sids if not self._of_user(sid, audience.exclude_user)]
        elif isinstance(audience, ev.ToUser):
            sids = self.connections.recovery_sids_of_user(audience.user_id)
        elif isinstance(audience, ev.ToUsers):
            sids = [sid for u in audience.user_ids for sid in self.connections.recovery_sids_of_user(u)]
        else:
            return []  # no message goes to everyone
        return [sid for sid in sids if sid not in held] if held and sids else sids

    def _of_user(self, sid: str, user_id: int) -> bool:
        connection = self.connections.get(sid)
        return connection is not None and connection.actor.id == user_id

    async def _close_all(self, user_id: int) -> None:
        for namespace in ("/", "/echo"):
            room = user_room(user_id)
            sids = [sid for sid, _eio in self.sio.manager.get_participants(namespace, room)]
            for sid in sids:
                await self.sio.disconnect(sid, namespace=namespace)

    async def _follow(self, event: ev.MembershipChanged) -> None:
        room = topic_room(event.topic_id)
        for sid in self.connections.sids_of(event.user_id):
            connection = self.connections.get(sid)
            if connection is None:
                continue
            if event.joined:
                self.connections.follow(connection, event.topic_id)
                await self.sio.enter_room(sid, room)
            else:
                self.connections.unfollow(connection, event.topic_id)
                await self.sio.leave_room(sid, room)


def with_offset(message: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A live ``message`` event's arguments for a recovery socket: the Message, then its offset."""
    return message, str(message["id"])


def _reaches(audience: ev.Audience, connection: Connection) -> bool:
    """Whether an emit to ``audience``'s rooms reaches this socket."""
    user_id = connection.actor.id
    if isinstance(audience, ev.ToTopic):
        return audience.topic_id in connection.topic_rooms and user_id != audience.exclude_user
    if isinstance(audience, ev.ToUser):
        return audience.user_id == user_id
    if isinstance(audience, ev.ToEveryone):
        return user_id != audience.exclude_user
    return user_id in audience.user_ids
