"""Reactions: one row per message, user and emoji (adding twice stores one, removing none is a no-op)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.conversations.tables import Reaction


class ReactionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, message_id: int, user_id: int, emoji: str, at: datetime) -> bool:
        """True when the row is new."""
        postgres = self.session.get_bind().dialect.name == "postgresql"
        insert: Any = pg_insert if postgres else sqlite_insert
        statement = (
            insert(Reaction)
            .values(message_id=message_id, user_id=user_id, emoji=emoji, created_at=at)
            .on_conflict_do_nothing()
        )
        result: Any = await self.session.execute(statement)
        return bool(result.rowcount)

    async def remove(self, message_id: int, user_id: int, emoji: str) -> bool:
        """True when there was such a row."""
        result: Any = await self.session.execute(
            delete(Reaction).where(
                col(Reaction.message_id) == message_id,
                col(Reaction.user_id) == user_id,
                col(Reaction.emoji) == emoji,
            )
        )
        return bool(result.rowcount)

    async def clear(self, message_id: int) -> None:
        await self.session.execute(delete(Reaction).where(col(Reaction.message_id) == message_id))
