"""Notifications (PROTOCOL.md section 15): a user's preferences and email address.

The push subscriptions, the notifier's jobs and the push and mail outboxes have their queries
here too, next to the tables they share (``db/notifications/tables.py``: ``notification_prefs`` and the rest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.tables import User
from db.conversations.tables import Membership, Mention, Message, Topic
from db.notifications.tables import NotificationPrefs, NotifyJob
from db.rules.tables import Block

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
    email_version: int = 0  # of the email setting: unsubscribe links carry it


@dataclass(frozen=True, slots=True)
class NotifyingRecord:
    """A message a job is for, with what notifications show of it."""

    id: int
    topic_id: int
    seq: int
    sender_id: int
    sender: str
    sender_display_name: str
    topic_name: str
    kind: str  # public, private or direct
    body: str
    created_at: datetime
    mentions_all: bool
    type: str  # ``text``, or ``system`` for a call's start (the only system message that notifies)


@dataclass(frozen=True, slots=True)
class CandidateRecord:
    """A member a message may notify, with what decides whether it does now."""

    user_id: int
    username: str
    timezone: str
    availability: str  # what the user chose: auto, away or dnd
    idle: bool  # no event from any socket for PARLEY_AWAY_AFTER


def _to_everyone(message: NotifyingRecord) -> bool:
    """A direct message (to the other member), an ``@all`` or a call's start (PROTOCOL.md section
    18): every member but the sender."""
    return message.kind == "direct" or message.mentions_all or message.type == "system"


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
        row.email_version,
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

    async def bump_email_version(self, user_id: int) -> None:
        """Email was turned back on: the unsubscribe links of earlier mails no longer work."""
        statement = self._insert(user_id, {"email_version": 1})
        bumped = {"email_version": col(NotificationPrefs.email_version) + 1}
        await self.session.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_=bumped))

    # The notifier's jobs (``notify_jobs``) ----------------------------------------------------

    async def due_jobs(self, now: datetime, lease_until: datetime, limit: int) -> list[int]:
        """Take up to ``limit`` due jobs without a live lease and lease them until ``lease_until``
        (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: two nodes never take the same one)."""
        query = (
            select(col(NotifyJob.message_id))
            .where(
                col(NotifyJob.due_at) <= now,
                or_(col(NotifyJob.locked_until).is_(None), col(NotifyJob.locked_until) <= now),
            )
            .order_by(col(NotifyJob.due_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        taken = list((await self.session.execute(query)).scalars())
        if taken:
            await self.session.execute(
                update(NotifyJob)
                .where(col(NotifyJob.message_id).in_(taken))
                .values(locked_until=lease_until, attempts=col(NotifyJob.attempts) + 1)
            )
        return taken

    async def release_job_leases(self) -> None:
        """SQLite's one worker starts: leases a killed process left are void."""
        await self.session.execute(update(NotifyJob).values(locked_until=None))

    async def finish_jobs(self, message_ids: Sequence[int]) -> set[int]:
        """Delete the jobs; the ids of those that were still there (another worker may have
        finished one whose lease had ended)."""
        if not message_ids:
            return set()
        statement = (
            delete(NotifyJob)
            .where(col(NotifyJob.message_id).in_(list(message_ids)))
            .returning(col(NotifyJob.message_id))
        )
        return set((await self.session.execute(statement)).scalars())

    async def notifying(self, message_ids: list[int]) -> dict[int, NotifyingRecord]:
        """The messages of jobs with their topic and sender; a message gone or deleted is absent."""
        if not message_ids:
            return {}
        query = (
            select(
                col(Message.id),
                col(Message.topic_id),
                col(Message.seq),
                col(Message.sender_id),
                col(User.username),
                col(User.display_name),
                col(Topic.name),
                col(Topic.kind),
                col(Message.body),
                col(Message.created_at),
                col(Message.mentions_all),
                col(Message.type),
            )
            .select_from(Message)
            .join(Topic, col(Topic.id) == col(Message.topic_id))
            .join(User, col(User.id) == col(Message.sender_id))
            .where(col(Message.id).in_(message_ids), col(Message.deleted_at).is_(None))
        )
        found: dict[int, NotifyingRecord] = {}
        for row in await self.session.execute(query):
            record = NotifyingRecord(*cast(tuple[Any, ...], row))
            found[record.id] = record
        return found

    async def candidates(self, messages: Sequence[NotifyingRecord]) -> dict[int, list[CandidateRecord]]:
        """Whom each message may notify (PROTOCOL.md section 15), by message id: in a direct
        conversation the other member, else the members it mentions by name (its mention rows)
        or, with ``@all``, every member; never the sender, a member whose notify level is
        ``none``, who blocked the sender, whose read mark is at or past the message, or an
        account disabled or deleted. Three queries for the lot: the members of the conversations
        that notify everyone, the mentioned members, the blocks of the senders."""
        members = await self._members({m.topic_id for m in messages if _to_everyone(m)})
        mentioned = await self._mentioned([m.id for m in messages if not _to_everyone(m)])
        blocks = await self._blocks({m.sender_id for m in messages})
        found: dict[int, list[CandidateRecord]] = {}
        for m in messages:
            pool = members.get(m.topic_id, []) if _to_everyone(m) else mentioned.get(m.id, [])
            found[m.id] = [
                c
                for read_seq, c in pool
                if c.user_id != m.sender_id and read_seq < m.seq and (c.user_id, m.sender_id) not in blocks
            ]
        return found

    async def _members(self, topic_ids: set[int]) -> dict[int, list[tuple[int, CandidateRecord]]]:
        """topic -> (read mark, member) of each member who may be notified."""
        found: dict[int, list[tuple[int, CandidateRecord]]] = {}
        if topic_ids:
            query = (
                select(col(Membership.topic_id), col(Membership.read_seq), *_PERSON)
                .select_from(Membership)
                .join(User, col(User.id) == col(Membership.user_id))
                .where(col(Membership.topic_id).in_(topic_ids), *_eligible())
                .order_by(col(User.id))
            )
            for topic_id, read_seq, *person in await self.session.execute(query):
                found.setdefault(topic_id, []).append((read_seq, _candidate(person)))
        return found

    async def _mentioned(self, message_ids: list[int]) -> dict[int, list[tuple[int, CandidateRecord]]]:
        """message -> (read mark, member) of each member it mentions who may be notified."""
        found: dict[int, list[tuple[int, CandidateRecord]]] = {}
        if message_ids:
            membership = and_(
                col(Membership.topic_id) == col(Mention.topic_id),
                col(Membership.user_id) == col(Mention.user_id),
            )
            query = (
                select(col(Mention.message_id), col(Membership.read_seq), *_PERSON)
                .select_from(Mention)
                .join(Membership, membership)
                .join(User, col(User.id) == col(Mention.user_id))
                .where(col(Mention.message_id).in_(message_ids), *_eligible())
                .order_by(col(User.id))
            )
            for message_id, read_seq, *person in await self.session.execute(query):
                found.setdefault(message_id, []).append((read_seq, _candidate(person)))
        return found

    async def _blocks(self, sender_ids: set[int]) -> set[tuple[int, int]]:
        """(user, sender) for each user who blocked one of the senders."""
        if not sender_ids:
            return set()
        query = select(col(Block.user_id), col(Block.blocked_id)).where(col(Block.blocked_id).in_(sender_ids))
        return {(int(user_id), int(blocked_id)) for user_id, blocked_id in await self.session.execute(query)}


_PERSON = (col(User.id), col(User.username), col(User.timezone), col(User.availability), col(User.idle))


def _candidate(person: list[Any]) -> CandidateRecord:
    return CandidateRecord(*person)


def _eligible() -> tuple[Any, ...]:
    return (
        col(Membership.notify_level) != "none",
        col(User.deleted_at).is_(None),
        col(User.disabled_at).is_(None),
    )
