"""The hub sink for Socket.IO: domain audiences become rooms.

A topic-wide event is ONE emit to ``topic:{id}`` (python-socketio encodes it
once for every recipient); a per-user event goes to ``user:{id}``. Membership
changes move the user's open sockets in or out of the topic room.
"""

from __future__ import annotations

from typing import Any

from server import wire
from server.chat import events as ev
from server.sio.connections import Connections


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
        shaped = wire.server_event(event)
        if shaped is None:
            return
        name, payload = shaped
        audience = event.audience
        if isinstance(audience, ev.ToTopic):
            skip = self.connections.sids_of(audience.exclude_user) if audience.exclude_user else None
            await self.sio.emit(name, payload, room=topic_room(audience.topic_id), skip_sid=skip)
        elif isinstance(audience, ev.ToUser):
            await self.sio.emit(name, payload, room=user_room(audience.user_id))
        else:
            await self.sio.emit(name, payload, room=[user_room(u) for u in audience.user_ids])

    async def _close_all(self, user_id: int) -> None:
        for namespace in ("/", "/echo"):
            room = user_room(user_id)
            sids = [sid for sid, _eio in self.sio.manager.get_participants(namespace, room)]
            for sid in sids:
                await self.sio.disconnect(sid, namespace=namespace)

    async def _follow(self, event: ev.MembershipChanged) -> None:
        room = topic_room(event.topic_id)
        for sid in self.connections.sids_of(event.user_id):
            if event.joined:
                await self.sio.enter_room(sid, room)
            else:
                await self.sio.leave_room(sid, room)
