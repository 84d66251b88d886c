"""Users: lookups by case-insensitive name and the few fields that change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.records import UserRecord
from db.accounts.tables import User, UserWord
from db.accounts.values import user_record
from db.echo.tables import EchoTranscript
from db.values import flush


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_name(self, username: str) -> UserRecord | None:
        """The live or disabled account of that name; none for a deleted one (an erased account
        keeps its name's key, reserved, but is nobody's to find: PROTOCOL.md section 16)."""
        result = await self.session.execute(
            select(User).where(col(User.username_key) == username.lower(), col(User.deleted_at).is_(None))
        )
        user = result.scalar_one_or_none()
        return None if user is None else user_record(user)

    async def by_id(self, user_id: int) -> UserRecord | None:
        user = await self.session.get(User, user_id)
        return None if user is None else user_record(user)

    async def by_ids(self, user_ids: Iterable[int]) -> list[UserRecord]:
        ids = list(user_ids)
        if not ids:
            return []
        result = await self.session.execute(select(User).where(col(User.id).in_(ids)))
        return [user_record(user) for user in result.scalars()]

    async def add(
        self,
        username: str,
        password_hash: str,
        created_at: datetime,
        token_version: int,
        owner_id: int | None = None,
    ) -> UserRecord:
        """A new account (a bot when it has an owner: PROTOCOL.md section 12); ``Conflict`` if
        another transaction stored the name (any case) first."""
        user = User(
            username=username,
            username_key=username.lower(),
            password_hash=password_hash,
            created_at=created_at,
            token_version=token_version,
            bot=owner_id is not None,
            owner_id=owner_id,
        )
        self.session.add(user)
        await flush(self.session)
        assert user.id is not None, "the flush gave it its id"
        await self.set_words(user.id, [username.lower()])  # found by its username at once
        return user_record(user)

    async def set_words(self, user_id: int, words: Iterable[str]) -> None:
        """Replace the words the directory finds the user by (``server/chat/accounts/words.py``
        folds them)."""
        await self.session.execute(delete(UserWord).where(col(UserWord.user_id) == user_id))
        for word in dict.fromkeys(words):
            self.session.add(UserWord(word=word, user_id=user_id))
        await self.session.flush()

    async def bump_token_version(self, user_id: int) -> None:
        await self.session.execute(
            update(User).where(col(User.id) == user_id).values(token_version=col(User.token_version) + 1)
        )

    async def set_last_seen(self, user_id: int, when: datetime) -> None:
        await self.session.execute(update(User).where(col(User.id) == user_id).values(last_seen_at=when))

    async def all(self) -> list[UserRecord]:
        """Every account that was not deleted, oldest first."""
        result = await self.session.execute(
            select(User).where(col(User.deleted_at).is_(None)).order_by(col(User.id))
        )
        return [user_record(user) for user in result.scalars()]

    async def count_by_state(self) -> dict[str, int]:
        """Accounts per state: ``active``, ``disabled``, ``deleted`` (every key present)."""
        state = case(
            (col(User.deleted_at).isnot(None), "deleted"),
            (col(User.disabled_at).isnot(None), "disabled"),
            else_="active",
        )
        counts = {"active": 0, "disabled": 0, "deleted": 0}
        rows = await self.session.execute(select(state, func.count()).group_by(state))
        for key, count in rows.all():
            counts[str(key)] = int(count)
        return counts

    async def update_fields(self, user_id: int, **values: Any) -> None:
        await self.session.execute(update(User).where(col(User.id) == user_id).values(**values))

    async def delete_transcripts(self, user_id: int) -> None:
        await self.session.execute(delete(EchoTranscript).where(col(EchoTranscript.user_id) == user_id))
