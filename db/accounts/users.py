"""Users: lookups by case-insensitive name and the few fields that change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.records import UserRecord
from db.accounts.tables import Identity, User, UserWord
from db.accounts.values import user_record
from db.echo.tables import EchoTranscript
from db.values import flush, stored_id

FIRST_OWNER_LOCK = 0x70726C79_6F776E  # "prly" "own": the advisory lock of the first owner's claim


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
        """Revoke every token of the user so far: Parley's by their version, the application's by
        the moment (``tokens_revoked_at``)."""
        await self.session.execute(
            update(User)
            .where(col(User.id) == user_id)
            .values(token_version=col(User.token_version) + 1, tokens_revoked_at=datetime.now(UTC))
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

    async def privileged(self) -> dict[int, str]:
        """The accounts whose workspace role is above member (PROTOCOL.md section 19), by id:
        few, so every node keeps them in memory."""
        result = await self.session.execute(
            select(col(User.id), col(User.role)).where(
                col(User.role) != "member", col(User.deleted_at).is_(None)
            )
        )
        return {stored_id(user_id): str(role) for user_id, role in result.all()}

    async def set_role(self, user_id: int, role: str) -> None:
        await self.session.execute(update(User).where(col(User.id) == user_id).values(role=role))

    async def claim_first_owner(self, user_id: int) -> bool:
        """Make ``user_id`` the owner when no account owns the workspace yet (the first sign-up
        of an empty server). SQLite's writes are serial; on PostgreSQL a lock of the
        transaction's makes two first sign-ups at once wait for each other, so one owner."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": FIRST_OWNER_LOCK})
        owned = select(col(User.id)).where(col(User.role) == "owner", col(User.deleted_at).is_(None))
        result = await self.session.execute(
            update(User)
            .where(col(User.id) == user_id, ~owned.exists())
            .values(role="owner")
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def owners(self, lock: bool = False) -> list[int]:
        """The active accounts (neither disabled nor deleted) that own the workspace, oldest
        first. ``lock`` (PostgreSQL): their rows held to the end of the transaction, so that two
        changes that would each leave one owner wait for each other and the second sees the
        first's (SQLite's writes are serial already)."""
        query = (
            select(col(User.id))
            .where(col(User.role) == "owner", col(User.deleted_at).is_(None), col(User.disabled_at).is_(None))
            .order_by(col(User.id))
        )
        if lock:
            query = query.with_for_update()
        result = await self.session.execute(query)
        return [stored_id(user_id) for user_id in result.scalars()]

    async def administered(
        self, q: str, role: str | None, disabled: bool | None, after: str | None, limit: int
    ) -> list[tuple[UserRecord, bool]]:
        """A page of the accounts not deleted, by name (``after``: past that name's key), each
        with whether it is linked to a single-sign-on identity. ``q``: a part of the username or
        the display name (any case); ``role``, ``disabled``: only those (None: any)."""
        linked = select(col(Identity.id)).where(col(Identity.user_id) == col(User.id)).exists()
        query = select(User, linked).where(col(User.deleted_at).is_(None))
        if q:
            pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(
                col(User.username_key).like(pattern, escape="\\")
                | func.lower(col(User.display_name)).like(pattern, escape="\\")
            )
        if role is not None:
            query = query.where(col(User.role) == role)
        if disabled is not None:
            state = col(User.disabled_at).isnot(None) if disabled else col(User.disabled_at).is_(None)
            query = query.where(state)
        if after is not None:
            query = query.where(col(User.username_key) > after.lower())
        result = await self.session.execute(query.order_by(col(User.username_key)).limit(limit))
        return [(user_record(user), bool(is_linked)) for user, is_linked in result.all()]

    async def update_fields(self, user_id: int, **values: Any) -> None:
        await self.session.execute(update(User).where(col(User.id) == user_id).values(**values))

    async def delete_transcripts(self, user_id: int) -> None:
        await self.session.execute(delete(EchoTranscript).where(col(EchoTranscript.user_id) == user_id))
