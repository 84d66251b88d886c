"""Erasure (PROTOCOL.md section 16): the durable job of an account being erased, and the bulk
deletions its worker makes, a batch per transaction.

Every step is idempotent and finds its own remaining work (the rows still there), so a worker that
takes a job over after a crash simply runs the steps again: nothing records how far it got. The
job is taken like the outboxes' rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, then a lease in
``locked_until``), so one node at a time works on an account.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.tables import Identity, LoginCode, User, UserWord
from db.connections.tables import RecoverySession
from db.conversations.tables import Mention, Message, Reaction
from db.echo.tables import EchoTranscript
from db.exports.tables import Export
from db.files.tables import File
from db.notifications.tables import EmailPending, MailOutbox, NotificationPrefs, PushOutbox, PushSubscription
from db.operators.tables import ErasureJob


class ErasureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # The job -----------------------------------------------------------------------------

    async def request(self, user_id: int, at: datetime) -> None:
        """The account's job (asked twice: one job)."""
        postgres = self.session.get_bind().dialect.name == "postgresql"
        insert: Any = pg_insert if postgres else sqlite_insert
        await self.session.execute(
            insert(ErasureJob).values(user_id=user_id, requested_at=at).on_conflict_do_nothing()
        )

    async def claim(self, now: datetime, lease_until: datetime, user_id: int | None = None) -> int | None:
        """Take the oldest job nobody holds (or ``user_id``'s) and lease it until ``lease_until``;
        the user's id, None when there is none to take."""
        query = select(ErasureJob).where(
            or_(col(ErasureJob.locked_until).is_(None), col(ErasureJob.locked_until) <= now)
        )
        if user_id is not None:
            query = query.where(col(ErasureJob.user_id) == user_id)
        query = query.order_by(col(ErasureJob.requested_at)).limit(1).with_for_update(skip_locked=True)
        job = (await self.session.execute(query)).scalar_one_or_none()
        if job is None:
            return None
        await self.renew(job.user_id, lease_until)
        return job.user_id

    async def renew(self, user_id: int, lease_until: datetime) -> None:
        await self.session.execute(
            update(ErasureJob).where(col(ErasureJob.user_id) == user_id).values(locked_until=lease_until)
        )

    async def release_leases(self) -> None:
        """SQLite's single worker starts: a lease left by a killed process is void."""
        await self.session.execute(update(ErasureJob).values(locked_until=None))

    async def pending(self, user_id: int) -> bool:
        query = select(col(ErasureJob.user_id)).where(col(ErasureJob.user_id) == user_id)
        found = await self.session.execute(query)
        return found.first() is not None

    async def erased_at(self, user_id: int) -> datetime | None:
        found = await self.session.execute(select(col(User.erased_at)).where(col(User.id) == user_id))
        return found.scalar_one_or_none()

    async def finish(self, user_id: int, at: datetime) -> None:
        """The erasure is complete: the account is marked erased and its job goes."""
        await self.session.execute(update(User).where(col(User.id) == user_id).values(erased_at=at))
        await self.session.execute(delete(ErasureJob).where(col(ErasureJob.user_id) == user_id))

    # What is the user's, outside messages ------------------------------------------------

    async def wipe_profile(self, user_id: int) -> None:
        """Display name, title, time zone, avatar, status, availability and last seen; the words
        the directory found the user by; linked sign-in identities, one-time codes, echo
        transcripts and connection-state recovery sessions."""
        await self.session.execute(
            update(User)
            .where(col(User.id) == user_id)
            .values(
                display_name="",
                title="",
                timezone="",
                avatar_file_id=None,
                status_emoji=None,
                status_text=None,
                status_expires_at=None,
                availability="auto",
                last_seen_at=None,
                last_active_at=None,
                idle=False,
            )
        )
        await self.session.execute(delete(UserWord).where(col(UserWord.user_id) == user_id))
        await self.session.execute(delete(Identity).where(col(Identity.user_id) == user_id))
        await self.session.execute(delete(LoginCode).where(col(LoginCode.user_id) == user_id))
        await self.session.execute(delete(EchoTranscript).where(col(EchoTranscript.user_id) == user_id))
        await self.session.execute(delete(RecoverySession).where(col(RecoverySession.user_id) == user_id))

    async def wipe_notifications(self, user_id: int) -> None:
        """The email address and preferences, push subscriptions and every push or mail not yet
        sent to the user (or sent: the outboxes' finished rows name the user too), and the rows
        that counted others' mentions of the user."""
        for table, column in (
            (Mention, Mention.user_id),
            (NotificationPrefs, NotificationPrefs.user_id),
            (PushSubscription, PushSubscription.user_id),
            (PushOutbox, PushOutbox.user_id),
            (EmailPending, EmailPending.user_id),
            (MailOutbox, MailOutbox.user_id),
        ):
            await self.session.execute(delete(table).where(col(column) == user_id))

    async def forget_told(self, user_id: int) -> None:
        """What told others of the user's messages: their pushes (pending or sent, the payload
        holds the sender's name and text) and the rows waiting for their digests. (A sent digest
        keeps no text: ``MailRepository.attempted``.)"""
        sent = select(col(Message.id)).where(col(Message.sender_id) == user_id)
        await self.session.execute(delete(PushOutbox).where(col(PushOutbox.message_id).in_(sent)))
        await self.session.execute(delete(EmailPending).where(col(EmailPending.message_id).in_(sent)))

    async def exports(self, user_id: int) -> list[str]:
        """The ids of the user's exports (their ZIPs go first, then ``forget_exports``)."""
        query = select(col(Export.id)).where(col(Export.user_id) == user_id)
        return [str(export_id) for export_id in (await self.session.execute(query)).scalars()]

    async def forget_exports(self, export_ids: Sequence[str]) -> None:
        if export_ids:
            await self.session.execute(delete(Export).where(col(Export.id).in_(list(export_ids))))

    async def links_after(self, user_id: int, after: int, limit: int) -> list[tuple[int, str]]:
        """The next ``limit`` messages of the user that still have links (id, links as JSON), by
        id after ``after``: the URLs the preview cache may hold for them."""
        query = (
            select(col(Message.id), col(Message.links))
            .where(
                col(Message.sender_id) == user_id, col(Message.links).is_not(None), col(Message.id) > after
            )
            .order_by(col(Message.id))
            .limit(limit)
        )
        return [(int(row[0] or 0), str(row[1])) for row in (await self.session.execute(query)).all()]

    # Batches -----------------------------------------------------------------------------

    async def reacted(self, user_id: int, limit: int) -> list[int]:
        """Up to ``limit`` messages the user still has a reaction on (ids, ascending)."""
        query = (
            select(col(Reaction.message_id))
            .where(col(Reaction.user_id) == user_id)
            .distinct()
            .order_by(col(Reaction.message_id))
            .limit(limit)
        )
        return [int(m) for m in (await self.session.execute(query)).scalars()]

    async def withdraw_reactions(self, user_id: int, message_id: int) -> None:
        await self.session.execute(
            delete(Reaction).where(col(Reaction.user_id) == user_id, col(Reaction.message_id) == message_id)
        )

    async def sent(self, user_id: int, limit: int) -> list[int]:
        """Up to ``limit`` messages the user sent that are not yet an erased tombstone (not deleted,
        or deleted with a body still stored), ids ascending."""
        query = (
            select(col(Message.id))
            .where(
                col(Message.sender_id) == user_id,
                or_(col(Message.deleted_at).is_(None), col(Message.body) != ""),
            )
            .order_by(col(Message.id))
            .limit(limit)
        )
        return [int(m) for m in (await self.session.execute(query)).scalars() if m is not None]

    async def blank(self, message_ids: Sequence[int], at: datetime) -> None:
        """The messages' tombstones keep nothing the sender wrote or did: no body, links, mentions,
        nor a system message's payload (it names its actor)."""
        if not message_ids:
            return
        await self.session.execute(
            update(Message)
            .where(col(Message.id).in_(list(message_ids)), col(Message.deleted_at).is_(None))
            .values(deleted_at=at)
        )
        await self.session.execute(
            update(Message)
            .where(col(Message.id).in_(list(message_ids)))
            .values(body="", links=None, mentions=None, mentions_all=False, system=None)
        )

    async def uploads(self, user_id: int, limit: int) -> list[str]:
        """Remove up to ``limit`` of the user's file rows (attached or not, avatars too); the
        hashes of their blobs, for the file store once committed."""
        query = select(col(File.id), col(File.sha256)).where(col(File.uploader_id) == user_id).limit(limit)
        rows = list((await self.session.execute(query)).all())
        if not rows:
            return []
        await self.session.execute(delete(File).where(col(File.id).in_([row[0] for row in rows])))
        return list(dict.fromkeys(str(row[1]) for row in rows))

    async def has_identity(self, user_id: int) -> bool:
        """Whether the account is linked to a single sign-on identity."""
        found = await self.session.execute(select(col(Identity.id)).where(col(Identity.user_id) == user_id))
        return found.first() is not None

    async def owns_files(self, user_id: int) -> bool:
        """Whether a file row of the user is left (an upload in flight when it was disabled)."""
        query = select(col(File.id)).where(col(File.uploader_id) == user_id).limit(1)
        found = await self.session.execute(query)
        return found.first() is not None
