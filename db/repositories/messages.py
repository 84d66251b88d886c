"""Messages with their sender's name: pages, backlog and idempotency lookups."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Message, User

Row = tuple[Message, str]
"""A message and its sender's username."""


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _with_sender(self):  # type: ignore[no-untyped-def]
        return select(Message, User.username).join(User, User.id == Message.sender_id)  # type: ignore[arg-type]

    async def add(self, message: Message) -> Message:
        self.session.add(message)
        await self.session.flush()
        return message

    async def by_id(self, message_id: int) -> Message | None:
        return await self.session.get(Message, message_id)

    async def by_client_id(self, sender_id: int, client_id: str) -> Message | None:
        result = await self.session.execute(
            select(Message).where(
                Message.sender_id == sender_id,  # type: ignore[arg-type]
                Message.client_id == client_id,  # type: ignore[arg-type]
            )
        )
        return result.scalar_one_or_none()

    async def page(self, topic_id: int, before_seq: int | None, limit: int) -> Sequence[Row]:
        """Up to ``limit`` messages below ``before_seq``, newest first."""
        query = self._with_sender().where(Message.topic_id == topic_id)
        if before_seq is not None:
            query = query.where(Message.seq < before_seq)
        result = await self.session.execute(query.order_by(Message.seq.desc()).limit(limit))  # type: ignore[attr-defined]
        return [(row[0], row[1]) for row in result.all()]

    async def after(self, topic_id: int, after_seq: int, cap: int) -> Sequence[Row]:
        """Live (not deleted) messages above ``after_seq``: the newest ``cap``, oldest first."""
        query = (
            self._with_sender()
            .where(
                Message.topic_id == topic_id,
                Message.seq > after_seq,
                Message.deleted_at.is_(None),  # type: ignore[union-attr]
            )
            .order_by(Message.seq.desc())  # type: ignore[attr-defined]
            .limit(cap)
        )
        result = await self.session.execute(query)
        return [(row[0], row[1]) for row in reversed(result.all())]
