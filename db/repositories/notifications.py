"""Notifications (PROTOCOL.md section 15): a user's preferences and email address.

The push subscriptions, the notifier's jobs and the push and mail outboxes have their queries
here too, next to the tables they share (``db/models.py``: ``notification_prefs`` and the rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import NotificationPrefs

DEFAULT_DIGEST_MINUTES = 60


@dataclass(frozen=True, slots=True)
class PrefsRecord:
    """A user's preferences as stored (the defaults when they never set any)."""

    user_id: int
    push: bool = True
    email: bool = True
    email_digest_minutes: int = DEFAULT_DIGEST_MINUTES
    quiet_from: str | None = None
    quiet_to: str | None = None
    email_address: str | None = None
    email_verified_at: datetime | None = None
    last_digest_at: datetime | None = None


def _record(row: NotificationPrefs) -> PrefsRecord:
    return PrefsRecord(
        row.user_id,
        row.push,
        row.email,
        row.email_digest_minutes,
        row.quiet_from,
        row.quiet_to,
        row.email_address,
        row.email_verified_at,
        row.last_digest_at,
    )


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _insert(self, user_id: int, values: dict[str, Any]) -> Any:
        """An INSERT of a user's preferences row (the defaults but ``values``), in the database's
        dialect (for its ON CONFLICT)."""
        insert = pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        row = {"user_id": user_id, "email_digest_minutes": DEFAULT_DIGEST_MINUTES, **values}
        return insert(NotificationPrefs).values(**row)

    async def prefs(self, user_id: int) -> PrefsRecord:
        row = await self.session.get(NotificationPrefs, user_id)
        return PrefsRecord(user_id) if row is None else _record(row)

    async def prefs_of(self, user_ids: list[int]) -> dict[int, PrefsRecord]:
        """Each of ``user_ids``'s preferences (the defaults for those with no row)."""
        found = {user_id: PrefsRecord(user_id) for user_id in user_ids}
        if user_ids:
            query = select(NotificationPrefs).where(col(NotificationPrefs.user_id).in_(user_ids))
            for row in (await self.session.execute(query)).scalars():
                found[row.user_id] = _record(row)
        return found

    async def set_prefs(
        self,
        user_id: int,
        *,
        push: bool,
        email: bool,
        email_digest_minutes: int,
        quiet_from: str | None,
        quiet_to: str | None,
    ) -> None:
        """Store the four preferences (one statement; the email address is left as it is)."""
        values = {
            "push": push,
            "email": email,
            "email_digest_minutes": email_digest_minutes,
            "quiet_from": quiet_from,
            "quiet_to": quiet_to,
        }
        statement = self._insert(user_id, values)
        await self.session.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_=values))

    async def set_email_address(
        self, user_id: int, address: str | None, verified_at: datetime | None
    ) -> None:
        """A new address (unverified: ``verified_at`` None) or one just verified."""
        values = {"email_address": address, "email_verified_at": verified_at}
        statement = self._insert(user_id, values)
        await self.session.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_=values))

    async def set_email_on(self, user_id: int, on: bool) -> None:
        """Email on or off alone (the one-click unsubscribe)."""
        statement = self._insert(user_id, {"email": on})
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["user_id"], set_={"email": on})
        )
