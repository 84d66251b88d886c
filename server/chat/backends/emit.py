"""An application's live events (PROTOCOL.md section 17): ``app:`` events to sockets, not stored.

The backend names a topic (its online members' sockets) or a user (their sockets); the event goes
to every node as a question (``server.chat.kernel.gather``), and each node writes it to its own
sockets and answers with what it wrote: how many sockets, or, asked for acknowledgements, each
socket's answer within ``ack_timeout_ms`` and how many gave none. Nothing is stored and no hub
news is made: the hub's fan-out of messages does no more work for it.

One emit's cost is bounded: its data (64 KiB of JSON, encoded once here and carried as it is),
its reach (a topic's members, who are in its rooms, or one user's sockets, at most the sockets
a user may hold, per node), and its rate (the server key's limit on requests, and at most
``MAX_WAITING`` emits waiting for acknowledgements on a node at once). A node that does not answer
in time is left out of the answer: its sockets are neither counted nor missing.

Errors: ``invalid`` (the models; data that is not JSON), ``not_found`` (no such topic or user),
``too_large`` (data over 64 KiB), ``rate_limited`` (too many emits waiting for acknowledgements).
"""

from __future__ import annotations

from typing import Any

import orjson

from db.uow import Database
from server.chat.backends.live_schemas import AckOut, AcksOut, EmitIn, EmittedOut
from server.chat.kernel.errors import ChatError, ErrorCode, invalid, no_topic, not_found, rate_limited
from server.chat.kernel.events import AppEvent, ToTopic, ToUser
from server.chat.kernel.gather import Answer, Gather

MAX_DATA_BYTES = 64 * 1024
EMIT_WITHIN = 2.0  # seconds the nodes have to say how many sockets they wrote an event to
ACK_GRACE = 1.0  # seconds past the acknowledgements' timeout for the nodes' answers to come back
MAX_WAITING = 1000  # emits waiting for acknowledgements at once on one node


class LiveEvents:
    def __init__(self, db: Database, gather: Gather, max_waiting: int = MAX_WAITING) -> None:
        self.db = db
        self.gather = gather
        self.max_waiting = max_waiting
        self._waiting = 0

    async def emit(self, emit: EmitIn) -> EmittedOut | AcksOut:
        """Write ``emit.event`` to the sockets it names, on every node; see the module's docstring."""
        data = _encoded(emit.data)
        audience = await self._audience(emit)
        if emit.ack_timeout_ms is None:
            answers = await self.gather.ask(AppEvent(emit.event, data, audience), EMIT_WITHIN)
            return EmittedOut(sockets=sum(_count(answer, "sockets") for answer in answers))
        if self._waiting >= self.max_waiting:
            raise rate_limited("too many emits are waiting for acknowledgements; try again shortly", 1.0)
        self._waiting += 1
        try:
            question = AppEvent(emit.event, data, audience, emit.ack_timeout_ms)
            answers = await self.gather.ask(question, emit.ack_timeout_ms / 1000 + ACK_GRACE)
        finally:
            self._waiting -= 1
        return AcksOut(
            acks=[ack for answer in answers for ack in _acks(answer)],
            missing=sum(_count(answer, "missing") for answer in answers),
        )

    async def _audience(self, emit: EmitIn) -> ToTopic | ToUser:
        async with self.db.read() as repos:
            if emit.topic is not None:
                topic = await repos.topics.by_name(emit.topic)
                if topic is None or topic.kind == "direct":
                    raise no_topic(emit.topic)
                return ToTopic(topic.id)
            assert emit.user is not None  # the model holds exactly one of the two
            user = await repos.users.by_name(emit.user)
        if user is None:
            raise not_found(f"no user named {emit.user!r}")
        return ToUser(user.id)


def _encoded(data: Any) -> str:
    try:
        text = orjson.dumps(data)
    except orjson.JSONEncodeError as exc:
        raise invalid(f"data: not JSON this server can carry ({exc})") from None
    if len(text) > MAX_DATA_BYTES:
        raise ChatError(ErrorCode.TOO_LARGE, f"data: {len(text)} bytes of JSON, over {MAX_DATA_BYTES}")
    return text.decode()


def _count(answer: Answer, key: str) -> int:
    value = answer.get(key)
    return value if isinstance(value, int) and value >= 0 else 0


def _acks(answer: Answer) -> list[AckOut]:
    found = answer.get("acks")
    if not isinstance(found, list):
        return []
    return [
        AckOut(socket=str(ack["socket"]), data=ack.get("data"))
        for ack in found
        if isinstance(ack, dict) and "socket" in ack
    ]
