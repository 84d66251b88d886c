"""Calls and their participants (PROTOCOL.md section 18): every query the calls service makes.

A conversation's second call breaks the topic's key: its caller gets ``db.errors.Conflict``
(``flush``) and reads the running one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.tables import User
from db.calls.records import CallRecord, SeatRecord
from db.calls.tables import Call, CallParticipant
from db.conversations.tables import Membership, Message
from db.values import flush, stored_id


class CallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _calls(self) -> Any:
        return select(
            col(Call.id),
            col(Call.topic_id),
            col(Call.media),
            col(Call.started_by),
            col(User.username),
            col(Call.started_at),
            col(Call.message_id),
        ).join(User, col(User.id) == col(Call.started_by))

    def _seats(self) -> Any:
        return select(
            col(CallParticipant.call_id),
            col(CallParticipant.user_id),
            col(User.username),
            col(CallParticipant.peer),
            col(CallParticipant.sid),
            col(CallParticipant.node),
            col(CallParticipant.joined_at),
            col(CallParticipant.gone_at),
        ).join(User, col(User.id) == col(CallParticipant.user_id))

    async def by_id(self, call_id: int, lock: bool = False) -> CallRecord | None:
        """``lock``: hold the call's row to the end of the transaction (PostgreSQL), so that joins
        count its seats one after another (the limit holds across nodes)."""
        query = self._calls().where(col(Call.id) == call_id)
        if lock:
            query = query.with_for_update(of=Call)
        row = (await self.session.execute(query)).first()
        return None if row is None else CallRecord(*row)

    async def in_topic(self, topic_id: int) -> CallRecord | None:
        row = (await self.session.execute(self._calls().where(col(Call.topic_id) == topic_id))).first()
        return None if row is None else CallRecord(*row)

    async def of_member(self, user_id: int) -> list[CallRecord]:
        """The calls running in the user's conversations, oldest first."""
        mine = select(col(Membership.topic_id)).where(col(Membership.user_id) == user_id)
        result = await self.session.execute(
            self._calls().where(col(Call.topic_id).in_(mine)).order_by(col(Call.id))
        )
        return [CallRecord(*row) for row in result.all()]

    async def start(self, topic_id: int, media: str, user_id: int, now: datetime) -> int:
        """The new call's id; ``Conflict`` when the conversation has one already."""
        call = Call(topic_id=topic_id, media=media, started_by=user_id, started_at=now)
        self.session.add(call)
        await flush(self.session)
        return stored_id(call.id)

    async def set_message(self, call_id: int, message_id: int) -> bool:
        """False when the call has ended already."""
        result = await self.session.execute(
            update(Call).where(col(Call.id) == call_id).values(message_id=message_id)
        )
        return bool(getattr(result, "rowcount", 0))

    async def end(self, call_id: int) -> bool:
        """Remove the call (and any seat left); False when it had ended already."""
        await self.session.execute(delete(CallParticipant).where(col(CallParticipant.call_id) == call_id))
        result = await self.session.execute(delete(Call).where(col(Call.id) == call_id))
        return bool(getattr(result, "rowcount", 0))

    async def seats(self, call_ids: Iterable[int]) -> list[SeatRecord]:
        """The participants of these calls, in the order they joined."""
        ids = list(call_ids)
        if not ids:
            return []
        result = await self.session.execute(
            self._seats()
            .where(col(CallParticipant.call_id).in_(ids))
            .order_by(col(CallParticipant.joined_at), col(CallParticipant.user_id))
        )
        return [SeatRecord(*row) for row in result.all()]

    async def seat(self, call_id: int, user_id: int) -> SeatRecord | None:
        row = (
            await self.session.execute(
                self._seats().where(
                    col(CallParticipant.call_id) == call_id, col(CallParticipant.user_id) == user_id
                )
            )
        ).first()
        return None if row is None else SeatRecord(*row)

    async def route(self, call_id: int) -> list[tuple[str, str, str, int]]:
        """Where the call's signals go: ``(peer, sid, node, user_id)`` of each seat."""
        result = await self.session.execute(
            select(
                col(CallParticipant.peer),
                col(CallParticipant.sid),
                col(CallParticipant.node),
                col(CallParticipant.user_id),
            ).where(col(CallParticipant.call_id) == call_id)
        )
        return [(str(a), str(b), str(c), int(d)) for a, b, c, d in result.all()]

    async def sit(self, call_id: int, user_id: int, peer: str, sid: str, node: str, now: datetime) -> None:
        """Take a seat; ``Conflict`` if the user has one already (a join racing another)."""
        self.session.add(
            CallParticipant(call_id=call_id, user_id=user_id, peer=peer, sid=sid, node=node, joined_at=now)
        )
        await flush(self.session)

    async def move(self, call_id: int, user_id: int, peer: str, sid: str, node: str) -> None:
        """The user's seat, taken through another socket now (``gone_at`` cleared)."""
        await self.session.execute(
            update(CallParticipant)
            .where(col(CallParticipant.call_id) == call_id, col(CallParticipant.user_id) == user_id)
            .values(peer=peer, sid=sid, node=node, gone_at=None)
        )

    async def count(self, call_id: int) -> int:
        result = await self.session.execute(
            select(col(CallParticipant.user_id)).where(col(CallParticipant.call_id) == call_id)
        )
        return len(result.all())

    async def stand(self, call_id: int, user_id: int, sid: str | None = None) -> bool:
        """Leave the seat (only while it is taken through ``sid``, if given); True if it was."""
        query = delete(CallParticipant).where(
            col(CallParticipant.call_id) == call_id, col(CallParticipant.user_id) == user_id
        )
        if sid is not None:
            query = query.where(col(CallParticipant.sid) == sid)
        result = await self.session.execute(query)
        return bool(getattr(result, "rowcount", 0))

    async def socket_gone(self, sid: str, now: datetime) -> list[tuple[int, int]]:
        """The seats taken through ``sid``, marked gone now: ``(call_id, user_id)`` each."""
        found = await self.session.execute(
            select(col(CallParticipant.call_id), col(CallParticipant.user_id)).where(
                col(CallParticipant.sid) == sid
            )
        )
        seats = [(int(call), int(user)) for call, user in found.all()]
        if seats:
            await self.session.execute(
                update(CallParticipant).where(col(CallParticipant.sid) == sid).values(gone_at=now)
            )
        return seats

    async def gone_through(self, sid: str) -> list[tuple[int, int]]:
        """The seats taken through ``sid`` whose socket closed: ``(call_id, user_id)`` each."""
        result = await self.session.execute(
            select(col(CallParticipant.call_id), col(CallParticipant.user_id)).where(
                col(CallParticipant.sid) == sid, col(CallParticipant.gone_at).is_not(None)
            )
        )
        return [(int(a), int(b)) for a, b in result.all()]

    async def stale(self, gone_before: datetime, live_nodes: Iterable[str]) -> list[tuple[int, int, str]]:
        """Seats to free: ``(call_id, user_id, sid)`` of those whose socket closed before
        ``gone_before``, or that sit on a node not among ``live_nodes`` (killed)."""
        nodes = list(live_nodes)
        result = await self.session.execute(
            select(
                col(CallParticipant.call_id), col(CallParticipant.user_id), col(CallParticipant.sid)
            ).where((col(CallParticipant.gone_at) < gone_before) | col(CallParticipant.node).not_in(nodes))
        )
        return [(int(a), int(b), str(c)) for a, b, c in result.all()]

    async def seats_in_topic(self, topic_id: int, user_id: int) -> list[tuple[int, str]]:
        """The user's seat in the conversation's running call, if any: ``(call_id, sid)``."""
        result = await self.session.execute(
            select(col(CallParticipant.call_id), col(CallParticipant.sid))
            .join(Call, col(Call.id) == col(CallParticipant.call_id))
            .where(col(Call.topic_id) == topic_id, col(CallParticipant.user_id) == user_id)
        )
        return [(int(a), str(b)) for a, b in result.all()]

    async def record_message(self, message_id: int, body: str, system: str) -> None:
        """A call's system message, rewritten once the call ended (its body and details)."""
        await self.session.execute(
            update(Message).where(col(Message.id) == message_id).values(body=body, system=system)
        )
