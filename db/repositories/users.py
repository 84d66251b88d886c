"""Users: lookups by case-insensitive name and the few fields that change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import User


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_name(self, username: str) -> User | None:
        result = await self.session.execute(select(User).where(col(User.username_key) == username.lower()))
        return result.scalar_one_or_none()

    async def by_id(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def by_ids(self, user_ids: Iterable[int]) -> list[User]:
        ids = list(user_ids)
        if not ids:
            return []
        result = await self.session.execute(select(User).where(col(User.id).in_(ids)))
        return list(result.scalars())

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user

    async def count(self) -> int:
        result = await self.session.execute(select(func.count()).select_from(User))
        return int(result.scalar_one())

    async def bump_token_version(self, user_id: int) -> None:
        await self.session.execute(
            update(User).where(col(User.id) == user_id).values(token_version=col(User.token_version) + 1)
        )

    async def set_last_seen(self, user_id: int, when: datetime) -> None:
        await self.session.execute(update(User).where(col(User.id) == user_id).values(last_seen_at=when))
