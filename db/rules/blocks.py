"""Blocks (PROTOCOL.md section 10): who blocked whom."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.tables import User
from db.rules.tables import Block


class BlockRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, user_id: int, blocked_id: int, at: datetime) -> bool:
        """True when the row is new (blocking twice stores one)."""
        postgres = self.session.get_bind().dialect.name == "postgresql"
        insert: Any = pg_insert if postgres else sqlite_insert
        row = {"user_id": user_id, "blocked_id": blocked_id, "created_at": at}
        statement = insert(Block).values(**row).on_conflict_do_nothing()
        result: Any = await self.session.execute(statement)
        return bool(result.rowcount)

    async def remove(self, user_id: int, blocked_id: int) -> bool:
        """True when there was a row."""
        result: Any = await self.session.execute(
            delete(Block).where(col(Block.user_id) == user_id, col(Block.blocked_id) == blocked_id)
        )
        return bool(result.rowcount)

    async def exists(self, user_id: int, blocked_id: int) -> bool:
        return await self.session.get(Block, (user_id, blocked_id)) is not None

    async def between(self, user_a: int, user_b: int) -> bool:
        """Either of the two blocked the other."""
        return await self.exists(user_a, user_b) or await self.exists(user_b, user_a)

    async def none_at_all(self) -> bool:
        """No one blocked anyone (one index probe)."""
        return (await self.session.execute(select(col(Block.user_id)).limit(1))).first() is None

    async def involving(self, user_id: int) -> list[tuple[int, int]]:
        """Every (blocker, blocked) pair with ``user_id`` on either side."""
        result = await self.session.execute(
            select(col(Block.user_id), col(Block.blocked_id)).where(
                or_(col(Block.user_id) == user_id, col(Block.blocked_id) == user_id)
            )
        )
        return [(int(a), int(b)) for a, b in result.all()]

    async def names_blocked_by(self, user_id: int) -> list[str]:
        """The usernames ``user_id`` blocked, in the order they were blocked."""
        result = await self.session.execute(
            select(col(User.username))
            .join(Block, col(Block.blocked_id) == col(User.id))
            .where(col(Block.user_id) == user_id)
            .order_by(col(Block.created_at), col(User.id))
        )
        return list(result.scalars())
