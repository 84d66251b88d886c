"""The hub sink for Socket.IO: domain audiences become rooms.

A topic-wide event is ONE emit to ``topic:{id}`` (python-socketio encodes it
once for every recipient); a per-user event goes to ``user:{id}``. Membership
changes move the user's open sockets in or out of the topic room.

A socket still catching up (its backlog not yet sent) is skipped by these
emits; the event is held on its connection and sent after the backlog.
"""

from __future__ import annotations

from typing import Any

from server import wire
from server.chat import events as ev
from server.sio.connections import Connection, Connections


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
        shaped = wire.server_event(event)
        if shaped is None:
            return
        name, payload = shaped
        audience = event.audience
        held = self._hold(audience, name, payload)
        if isinstance(audience, ev.ToTopic):
            skip = self.connections.sids_of(audience.exclude_user) if audience.exclude_user else []
            room = topic_room(audience.topic_id)
            await self.sio.emit(name, payload, room=room, skip_sid=(skip + held) or None)
        elif isinstance(audience, ev.ToUser):
            await self.sio.emit(name, payload, room=user_room(audience.user_id), skip_sid=held or None)
        else:
            rooms = [user_room(u) for u in audience.user_ids]
            await self.sio.emit(name, payload, room=rooms, skip_sid=held or None)

    def _hold(self, audience: ev.Audience, name: str, payload: dict[str, Any]) -> list[str]:
        """Hold the event for each catching-up socket it is for; their sids, to skip."""
        held = []
        for connection in self.connections.catching_up():
            if _reaches(audience, connection):
                connection.held.append((name, payload))
                held.append(connection.sid)
        return held

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
                connection.topic_rooms.add(event.topic_id)
                await self.sio.enter_room(sid, room)
            else:
                connection.topic_rooms.discard(event.topic_id)
                await self.sio.leave_room(sid, room)


def _reaches(audience: ev.Audience, connection: Connection) -> bool:
    """Whether an emit to ``audience``'s rooms reaches this socket."""
    user_id = connection.actor.id
    if isinstance(audience, ev.ToTopic):
        return audience.topic_id in connection.topic_rooms and user_id != audience.exclude_user
    if isinstance(audience, ev.ToUser):
        return audience.user_id == user_id
    return user_id in audience.user_ids
