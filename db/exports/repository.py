"""Exports (PROTOCOL.md section 16): the requests and their state, and the pages of a user's own
data an export's ZIP is written from.

``claim`` leases a pending export to one worker (``FOR UPDATE SKIP LOCKED`` on PostgreSQL and
``locked_until``, like the push outbox): whichever node takes it builds it; a worker that died
leaves a lease that ends, and the export is taken again. The pages (``messages_after``,
``uploads_after``) are keyset pages in id order, so a large history is read a page at a time and
never held whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.tables import User
from db.conversations.tables import Message, Topic
from db.exports.tables import Export
from db.files.records import FileRecord
from db.files.repository import _record as _file
from db.files.tables import File

PENDING, READY, FAILED = "pending", "ready", "failed"


@dataclass(frozen=True, slots=True)
class ExportRecord:
    id: str
    user_id: int
    state: str  # pending, ready or failed
    requested_at: datetime
    ready_at: datetime | None = None
    size: int | None = None
    attempts: int = 0
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the user sent, as an export lists it (its topic's name and kind beside it)."""

    id: int
    topic: str  # the topic's name; a direct conversation's is ``dm:<low id>:<high id>``
    kind: str
    seq: int
    body: str
    created_at: datetime
    edited_at: datetime | None
    reply_to_id: int | None
    thread_root_id: int | None
    type: str
    files: str | None  # the attached File objects as JSON (``db/conversations/extras.py``)


def _export(row: Export) -> ExportRecord:
    return ExportRecord(
        row.id, row.user_id, row.state, row.requested_at, row.ready_at, row.size, row.attempts, row.error
    )


class ExportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    # The requests --------------------------------------------------------------------------

    async def lock_user(self, user_id: int) -> None:
        """Serialise a user's requests (PostgreSQL: the user's row, so two nodes answering two
        requests at once see each other's; SQLite's writer is one already)."""
        if self._postgres():
            await self.session.execute(select(col(User.id)).where(col(User.id) == user_id).with_for_update())

    async def latest(self, user_id: int) -> ExportRecord | None:
        query = (
            select(Export)
            .where(col(Export.user_id) == user_id)
            .order_by(col(Export.requested_at).desc())
            .limit(1)
        )
        row = (await self.session.execute(query)).scalar_one_or_none()
        return None if row is None else _export(row)

    async def add(self, record: ExportRecord) -> None:
        self.session.add(
            Export(id=record.id, user_id=record.user_id, state=PENDING, requested_at=record.requested_at)
        )
        await self.session.flush()

    async def get(self, export_id: str) -> ExportRecord | None:
        row = await self.session.get(Export, export_id)
        return None if row is None else _export(row)

    # The worker ----------------------------------------------------------------------------

    def _takeable(self, now: datetime) -> tuple[Any, ...]:
        return (
            col(Export.state) == PENDING,
            or_(col(Export.locked_until).is_(None), col(Export.locked_until) <= now),
        )

    async def waiting(self, now: datetime) -> bool:
        """Whether a pending export no worker holds is there (a look without a write)."""
        query = select(col(Export.id)).where(*self._takeable(now)).limit(1)
        return (await self.session.execute(query)).first() is not None

    async def claim(self, now: datetime, lease_until: datetime) -> ExportRecord | None:
        """Lease the oldest pending export no other worker holds, or None."""
        query = (
            select(Export)
            .where(*self._takeable(now))
            .order_by(col(Export.requested_at))
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = (await self.session.execute(query)).scalar_one_or_none()
        if row is None:
            return None
        row.locked_until = lease_until
        row.attempts += 1
        await self.session.flush()
        return _export(row)

    async def release_leases(self) -> None:
        """SQLite's one worker starts: leases a killed process left are void."""
        await self.session.execute(
            update(Export).where(col(Export.state) == PENDING).values(locked_until=None)
        )

    async def finish(
        self, export_id: str, state: str, when: datetime, size: int | None = None, error: str | None = None
    ) -> None:
        """Record a built export (``ready``, its size) or one given up (``failed``, why)."""
        await self.session.execute(
            update(Export)
            .where(col(Export.id) == export_id)
            .values(state=state, ready_at=when, size=size, error=error, locked_until=None)
        )

    async def retry(self, export_id: str) -> None:
        """A build failed but may be tried again: the lease ends now."""
        await self.session.execute(
            update(Export).where(col(Export.id) == export_id).values(locked_until=None)
        )

    async def expired(self, before: datetime, limit: int) -> list[str]:
        """Up to ``limit`` exports requested before ``before`` (their files go, then their rows)."""
        query = select(col(Export.id)).where(col(Export.requested_at) < before).limit(limit)
        return list((await self.session.execute(query)).scalars())

    async def remove(self, export_ids: Sequence[str]) -> None:
        if export_ids:
            await self.session.execute(delete(Export).where(col(Export.id).in_(list(export_ids))))

    # The user's data, in pages -------------------------------------------------------------

    async def messages_after(self, user_id: int, after: int, limit: int) -> list[SentMessage]:
        """The next ``limit`` messages ``user_id`` sent that are not deleted, by id after ``after``."""
        query = (
            select(
                col(Message.id),
                col(Topic.name),
                col(Topic.kind),
                col(Message.seq),
                col(Message.body),
                col(Message.created_at),
                col(Message.edited_at),
                col(Message.reply_to_id),
                col(Message.thread_root_id),
                col(Message.type),
                col(Message.files),
            )
            .join(Topic, col(Topic.id) == col(Message.topic_id))
            .where(
                col(Message.sender_id) == user_id,
                col(Message.deleted_at).is_(None),
                col(Message.id) > after,
            )
            .order_by(col(Message.id))
            .limit(limit)
        )
        rows: list[Any] = list(await self.session.execute(query))
        return [SentMessage(*row) for row in rows]

    async def uploads_after(self, user_id: int, after: str, limit: int) -> list[FileRecord]:
        """The next ``limit`` files ``user_id`` uploaded, by id after ``after``."""
        query = (
            select(File)
            .where(col(File.uploader_id) == user_id, col(File.id) > after)
            .order_by(col(File.id))
            .limit(limit)
        )
        return [_file(row) for row in (await self.session.execute(query)).scalars()]
