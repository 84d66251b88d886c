"""Messages with their sender's name: pages, backlog and idempotency lookups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import Message, User

Row = tuple[Message, str]
"""A message and its sender's username."""


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _with_sender(self) -> Any:
        return select(Message, col(User.username)).join(User, col(User.id) == col(Message.sender_id))

    async def add(self, message: Message) -> Message:
        self.session.add(message)
        await self.session.flush()
        return message

    async def by_id(self, message_id: int) -> Message | None:
        return await self.session.get(Message, message_id)

    async def by_client_id(self, sender_id: int, client_id: str) -> Message | None:
        result = await self.session.execute(
            select(Message).where(
                col(Message.sender_id) == sender_id,
                col(Message.client_id) == client_id,
            )
        )
        return result.scalar_one_or_none()

    async def page(self, topic_id: int, before_seq: int | None, limit: int) -> Sequence[Row]:
        """Up to ``limit`` messages below ``before_seq``, newest first."""
        query = self._with_sender().where(col(Message.topic_id) == topic_id)
        if before_seq is not None:
            query = query.where(col(Message.seq) < before_seq)
        result = await self.session.execute(query.order_by(col(Message.seq).desc()).limit(limit))
        return [(row[0], row[1]) for row in result.all()]

    async def after(self, topic_id: int, after_seq: int, cap: int) -> Sequence[Row]:
        """Live (not deleted) messages above ``after_seq``: the newest ``cap``, oldest first."""
        query = (
            self._with_sender()
            .where(
                col(Message.topic_id) == topic_id,
                col(Message.seq) > after_seq,
                col(Message.deleted_at).is_(None),
            )
            .order_by(col(Message.seq).desc())
            .limit(cap)
        )
        result = await self.session.execute(query)
        return [(row[0], row[1]) for row in reversed(result.all())]
