"""An application's ``app:`` events on this node's Socket.IO sockets (PROTOCOL.md section 17).

Every node answers the ``AppEvent`` question (``server.chat.kernel.gather``) for its own sockets
of the chat namespace. Without an acknowledgement the event goes through the one hub sink, as any
event: ONE emit to the topic's room or the user's, encoded once, and held for the sockets still
catching up (they get it after their backlog); the answer is how many sockets the room held. With
one, each of the user's sockets here is asked (python-socketio's ``call``, one wait per socket: at
most the sockets one user may hold) and the answer lists each acknowledgement and counts the
sockets that gave none within ``ack_ms``. Only Socket.IO carries ``app:`` events: the gateways'
dialects render nothing for them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import socketio

from server.chat.kernel import events as ev
from server.chat.kernel.gather import Answer
from server.edge.realtime.registry import Registry
from server.edge.realtime.sink import HubSink
from server.edge.sio.sink import SocketIOWriter, topic_room, user_room


class AppEvents:
    def __init__(self, sio: Any, writer: SocketIOWriter, registry: Registry, sink: HubSink) -> None:
        self.sio = sio
        self.writer = writer
        self.registry = registry
        self.sink = sink

    async def answer(self, event: ev.AppEvent) -> Answer:
        if event.ack_ms > 0 and isinstance(event.audience, ev.ToUser):
            return await self._asked(event, event.audience.user_id)
        room = (
            topic_room(event.audience.topic_id)
            if isinstance(event.audience, ev.ToTopic)
            else user_room(event.audience.user_id)
        )
        sockets = self.sio.manager.room_size(self.writer.namespace, room)
        await self.sink.deliver(event)
        return {"sockets": sockets}

    async def _asked(self, event: ev.AppEvent, user_id: int) -> Answer:
        sids = [c.key for c in self.registry.of_user(user_id) if c.writer is self.writer]
        data = (orjson.loads(event.data),)
        answers = await asyncio.gather(
            *(self._ask(sid, event.event, data, event.ack_ms / 1000) for sid in sids)
        )
        acks = [
            {"socket": sid, "data": answer} for sid, (ok, answer) in zip(sids, answers, strict=True) if ok
        ]
        return {"acks": acks, "missing": len(sids) - len(acks)}

    async def _ask(self, sid: str, name: str, data: tuple[Any], timeout: float) -> tuple[bool, Any]:
        """One socket's acknowledgement: (True, its data as JSON), or (False, None) when it gave none
        in time. Several arguments are a list; what JSON cannot hold (binary) is null."""
        try:
            answer = await self.sio.call(name, data, to=sid, namespace=self.writer.namespace, timeout=timeout)
        except socketio.exceptions.TimeoutError:
            return False, None
        try:
            return True, orjson.loads(orjson.dumps(answer))
        except (orjson.JSONEncodeError, TypeError):
            return True, None
