"""People (PROTOCOL.md section 14): the directory's search, who shares a conversation with whom,
statuses that expire, and the activity that makes a user away.

The directory reads a range of ``user_words`` (``db/accounts/words.py``: each word of a username and
display name, folded, read by prefix through its index). Every user of that range is ranked whole names
first (``search_rank``) before the page is cut: reading only the first words of the range let the
many words of a few accounts fill it and hide a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.records import UserRecord
from db.accounts.tables import User
from db.accounts.values import user_record
from db.accounts.words import search_rank, word_range
from db.conversations.tables import Membership

STATUS_LOCK = 23_0014  # pg_try_advisory_xact_lock key: one node clears expired statuses at a time


class PeopleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def search(self, prefix: str, limit: int) -> list[UserRecord]:
        """Live accounts with a word starting with ``prefix`` (folded), at most ``limit``: ranked by
        ``search_rank``, then by username."""
        users = await self.session.execute(
            select(User)
            .where(
                col(User.id).in_(word_range(prefix)),
                col(User.disabled_at).is_(None),
                col(User.deleted_at).is_(None),
            )
            .order_by(search_rank(prefix), col(User.username_key))
            .limit(limit)
        )
        return [user_record(user) for user in users.scalars()]

    async def by_names(self, usernames: Iterable[str]) -> list[UserRecord]:
        keys = list({name.lower() for name in usernames})
        if not keys:
            return []
        result = await self.session.execute(  # a deleted (erased) account's key finds nobody
            select(User).where(col(User.username_key).in_(keys), col(User.deleted_at).is_(None))
        )
        return [user_record(user) for user in result.scalars()]

    async def co_members(self, user_id: int) -> list[int]:
        """Everyone who shares a topic or a direct conversation with the user (not the user)."""
        mine = select(col(Membership.topic_id)).where(col(Membership.user_id) == user_id)
        query = (
            select(col(Membership.user_id))
            .where(col(Membership.topic_id).in_(mine), col(Membership.user_id) != user_id)
            .distinct()
        )
        return [int(found) for found in (await self.session.execute(query)).scalars()]

    # Statuses ------------------------------------------------------------------------------

    async def status_lock(self) -> bool:
        """PostgreSQL: this transaction holds the cluster's one lock for clearing statuses (False:
        another node does it now). SQLite: one process, always True."""
        if self.session.get_bind().dialect.name != "postgresql":
            return True
        result = await self.session.execute(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": STATUS_LOCK}
        )
        return bool(result.scalar_one())

    async def clear_expired_statuses(self, now: datetime, limit: int) -> list[int]:
        """Clear up to ``limit`` statuses past their expiry; the users whose status went."""
        expired = (
            select(col(User.id))
            .where(col(User.status_expires_at).is_not(None), col(User.status_expires_at) <= now)
            .limit(limit)
        )
        ids = [int(found or 0) for found in (await self.session.execute(expired)).scalars()]
        if ids:
            await self.session.execute(
                update(User)
                .where(col(User.id).in_(ids))
                .values(status_emoji=None, status_text=None, status_expires_at=None)
            )
        return ids

    # Activity ------------------------------------------------------------------------------

    async def active(self, user_ids: Iterable[int], now: datetime) -> None:
        """These users' sockets sent events lately (written in batches, not per event)."""
        ids = list(user_ids)
        if ids:
            await self.session.execute(update(User).where(col(User.id).in_(ids)).values(last_active_at=now))

    async def go_idle(self, user_ids: Iterable[int], cutoff: datetime) -> tuple[list[int], list[int]]:
        """Of these users, those no node saw active since ``cutoff`` are idle: (all of them, those
        this call made idle)."""
        ids = list(user_ids)
        if not ids:
            return [], []
        quiet = (
            select(col(User.id), col(User.idle))
            .where(
                col(User.id).in_(ids),
                or_(col(User.last_active_at).is_(None), col(User.last_active_at) < cutoff),
            )
            .with_for_update()
        )
        rows = (await self.session.execute(quiet)).all()
        idle = [int(user_id or 0) for user_id, _ in rows]
        flipped = [int(user_id or 0) for user_id, was in rows if not was]
        if flipped:
            await self.session.execute(update(User).where(col(User.id).in_(flipped)).values(idle=True))
        return idle, flipped

    async def wake(self, user_id: int, now: datetime) -> bool:
        """The user is active again: True when they were idle (this call made them not)."""
        result = await self.session.execute(
            update(User)
            .where(and_(col(User.id) == user_id, col(User.idle).is_(True)))
            .values(idle=False, last_active_at=now)
        )
        return bool(getattr(result, "rowcount", 0))
