"""Email notifications (PROTOCOL.md section 15): the address's verification, the messages waiting
for a digest (``email_pending``) and the mail outbox (``mail_outbox``).

The outbox is drained like the webhooks' (``db/integrations/webhooks.py``): a worker takes due
rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and leases them (``locked_until``) before its
transaction ends, so that two nodes never send the same row at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from db.accounts.tables import User
from db.conversations.tables import Membership, Message, Topic
from db.notifications.repository import DEFAULT_DIGEST_MINUTES
from db.notifications.tables import EmailPending, MailOutbox, NotificationPrefs

DONE = ("ok", "failed")


@dataclass(frozen=True, slots=True)
class NewMail:
    id: str
    user_id: int | None
    kind: str  # ``verify`` or ``digest``
    to_address: str
    content: str  # the whole message (RFC 5322), sent as written at every attempt
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DueMail:
    id: str
    kind: str
    to_address: str
    content: str
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PendingMessage:
    """A message waiting for a user's digest, with what the digest shows and what drops it."""

    message_id: int
    topic_id: int
    topic_name: str
    topic_kind: str
    seq: int
    sender: str
    sender_display_name: str
    body: str
    created_at: datetime
    deleted: bool
    read_seq: int | None  # the user's read mark in the topic; None: no longer a member


class MailRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _upsert(self, user_id: int, values: dict[str, Any]) -> Any:
        insert = pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        row = {"user_id": user_id, "email_digest_minutes": DEFAULT_DIGEST_MINUTES, **values}
        return (
            insert(NotificationPrefs)
            .values(**row)
            .on_conflict_do_update(index_elements=["user_id"], set_=values)
        )

    # The address -----------------------------------------------------------------------------

    async def request_address(self, user_id: int, address: str, nonce: str) -> None:
        """A new address, unverified, whose verification link carries ``nonce``."""
        values = {"email_address": address, "email_verified_at": None, "email_token": nonce}
        await self.session.execute(self._upsert(user_id, values))

    async def verify_address(self, user_id: int, address: str, nonce: str, at: datetime) -> bool:
        """Mark the address verified if it is still ``address`` and ``nonce`` the latest link's
        (which this uses up); False otherwise (used already, or replaced since)."""
        result = await self.session.execute(
            update(NotificationPrefs)
            .where(
                col(NotificationPrefs.user_id) == user_id,
                col(NotificationPrefs.email_address) == address,
                col(NotificationPrefs.email_token) == nonce,
            )
            .values(email_verified_at=at, email_token=None)
        )
        return bool(getattr(result, "rowcount", 0))

    async def digested(self, user_id: int, at: datetime) -> None:
        await self.session.execute(
            update(NotificationPrefs)
            .where(col(NotificationPrefs.user_id) == user_id)
            .values(last_digest_at=at)
        )

    # Messages waiting for a digest -----------------------------------------------------------

    async def pend(self, rows: Sequence[tuple[int, int, datetime]]) -> None:
        """(user, message, due) rows; one already there stays as it is."""
        if not rows:
            return
        insert = pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        values = [{"user_id": user, "message_id": message, "due_at": due} for user, message, due in rows]
        await self.session.execute(insert(EmailPending).values(values).on_conflict_do_nothing())

    async def due_users(self, now: datetime, after: int, limit: int) -> list[int]:
        """Users with a row due, at most ``limit``, in id order from past ``after``."""
        query = (
            select(col(EmailPending.user_id))
            .distinct()
            .where(col(EmailPending.due_at) <= now, col(EmailPending.user_id) > after)
            .order_by(col(EmailPending.user_id))
            .limit(limit)
        )
        return [row[0] for row in (await self.session.execute(query)).all()]

    async def pending_of(self, user_id: int, now: datetime) -> list[PendingMessage]:
        """The user's due rows with their messages, oldest first (a message gone: no row here)."""
        sender = aliased(User)
        query = (
            select(Message, Topic, sender, Membership.read_seq)  # type: ignore[call-overload]
            .select_from(EmailPending)
            .join(Message, col(Message.id) == col(EmailPending.message_id))
            .join(Topic, col(Topic.id) == col(Message.topic_id))
            .join(sender, col(sender.id) == col(Message.sender_id))
            .outerjoin(
                Membership,
                (col(Membership.topic_id) == col(Message.topic_id)) & (col(Membership.user_id) == user_id),
            )
            .where(col(EmailPending.user_id) == user_id, col(EmailPending.due_at) <= now)
            .order_by(col(Message.created_at), col(Message.id))
        )
        found = []
        for message, topic, user, read_seq in (await self.session.execute(query)).all():
            found.append(
                PendingMessage(
                    message.id,
                    topic.id,
                    topic.name,
                    topic.kind,
                    message.seq,
                    user.username,
                    user.display_name,
                    message.body,
                    message.created_at,
                    message.deleted_at is not None,
                    read_seq,
                )
            )
        return found

    async def drop_pending(self, user_id: int, now: datetime) -> None:
        """Forget the user's due rows (those of messages deleted for good too)."""
        await self.session.execute(
            delete(EmailPending).where(col(EmailPending.user_id) == user_id, col(EmailPending.due_at) <= now)
        )

    # The outbox -------------------------------------------------------------------------------

    async def enqueue(self, mail: NewMail) -> None:
        self.session.add(
            MailOutbox(
                id=mail.id,
                user_id=mail.user_id,
                kind=mail.kind,
                to_address=mail.to_address,
                content=mail.content,
                status="pending",
                attempts=0,
                created_at=mail.created_at,
                next_at=mail.created_at,
            )
        )
        await self.session.flush()

    async def due(self, now: datetime, lease_until: datetime, limit: int) -> list[DueMail]:
        """Take up to ``limit`` due mails (pending, ``next_at`` passed, no live lease) and lease
        them until ``lease_until``."""
        query = (
            select(MailOutbox)
            .where(
                col(MailOutbox.status) == "pending",
                col(MailOutbox.next_at) <= now,
                or_(col(MailOutbox.locked_until).is_(None), col(MailOutbox.locked_until) <= now),
            )
            .order_by(col(MailOutbox.next_at))
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one worker
        )
        taken = list((await self.session.execute(query)).scalars())
        if not taken:
            return []
        await self.session.execute(
            update(MailOutbox)
            .where(col(MailOutbox.id).in_([row.id for row in taken]))
            .values(locked_until=lease_until)
        )
        return [DueMail(r.id, r.kind, r.to_address, r.content, r.attempts, r.created_at) for r in taken]

    async def release_leases(self) -> None:
        """SQLite's single worker starts: a lease left by a killed process is void."""
        await self.session.execute(update(MailOutbox).values(locked_until=None))

    async def attempted(self, mail: DueMail, status: str, next_at: datetime | None) -> None:
        """Record an attempt. A mail done with (sent, or failed for good) keeps its row for the
        outbox's retention but not its text: a digest quotes others' messages, which an erasure
        must be able to take back (PROTOCOL.md section 16)."""
        values: dict[str, object] = {"attempts": mail.attempts + 1, "status": status, "locked_until": None}
        if status in DONE:
            values["content"] = ""
        if next_at is not None:
            values["next_at"] = next_at
        await self.session.execute(update(MailOutbox).where(col(MailOutbox.id) == mail.id).values(**values))

    async def prune(self, before: datetime, limit: int) -> int:
        """Forget up to ``limit`` mails written before ``before`` that were sent or failed. The count."""
        stale = (
            select(col(MailOutbox.id))
            .where(col(MailOutbox.created_at) < before, col(MailOutbox.status).in_(DONE))
            .limit(limit)
        )
        ids = [row[0] for row in (await self.session.execute(stale)).all()]
        if ids:
            await self.session.execute(delete(MailOutbox).where(col(MailOutbox.id).in_(ids)))
        return len(ids)
