"""Bans: a user refused a topic's subscribe and invite until unbanned or ``until`` passes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.rules.tables import Ban
from db.times import utc


@dataclass(frozen=True, slots=True)
class BanRecord:
    user_id: int
    by: int
    reason: str | None
    at: datetime
    until: datetime | None  # None: until unbanned


class BanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(
        self, topic_id: int, user_id: int, by: int, reason: str | None, at: datetime, until: datetime | None
    ) -> None:
        """Ban (again: a new ban replaces the old one, its end included)."""
        await self.lift(topic_id, user_id)
        self.session.add(
            Ban(topic_id=topic_id, user_id=user_id, banned_by=by, reason=reason, created_at=at, until=until)
        )
        await self.session.flush()

    async def lift(self, topic_id: int, user_id: int) -> bool:
        """True when there was a ban (expired ones included)."""
        result = await self.session.execute(
            delete(Ban).where(col(Ban.topic_id) == topic_id, col(Ban.user_id) == user_id)
        )
        return bool(getattr(result, "rowcount", 0))

    async def of_topic(self, topic_id: int, now: datetime) -> list[BanRecord]:
        """The topic's bans in force at ``now`` (an ended one is left out), newest first."""
        result = await self.session.execute(
            select(Ban).where(col(Ban.topic_id) == topic_id).order_by(col(Ban.created_at).desc())
        )
        return [
            BanRecord(ban.user_id, ban.banned_by, ban.reason, utc(ban.created_at), utc(ban.until))
            for ban in result.scalars()
            if ban.until is None or utc(ban.until) > now
        ]

    async def active(self, topic_id: int, user_id: int, now: datetime | None = None) -> bool:
        """Banned now: a ban whose end has passed has ended by itself (checked at use)."""
        result = await self.session.execute(
            select(col(Ban.until)).where(col(Ban.topic_id) == topic_id, col(Ban.user_id) == user_id)
        )
        found = result.first()
        if found is None:
            return False
        until = found[0]
        if until is None:
            return True
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        return bool(until > (now or datetime.now(UTC)))
