"""Retention (PROTOCOL.md section 16): which messages are past their topic's retention, and their
deletion for good with everything they own, one small batch per transaction (on PostgreSQL the
deletions are one statement, ``POSTGRES_SWEEP``: a batch's time was mostly its round trips).

A batch deletes, for the message ids it is given: their reactions, mentions and pins, their
preview rows (the job and the pictures they show; the URL cache is shared and expires by
itself), their notification rows of section 15 (the notifier's job, the push outbox, the digest's
pending rows), their files' rows (the hashes returned, for the blobs after the commit), and the
messages themselves, which removes them from search: SQLite's FTS index by its delete trigger,
PostgreSQL's by the row's own ``search`` column. What survives is brought up to date in the same
transaction: a reply quoting a swept message shows an empty excerpt (as for a deleted one), and a
thread root that survives its swept replies has its summary counted again. ``topics.last_seq`` is
never touched, so ``seq`` numbers are not reused, and read marks (seq numbers) stay valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.conversations.messages import MessageRepository
from db.conversations.tables import Mention, Message, Pin, Reaction, Topic
from db.files.tables import File
from db.notifications.tables import EmailPending, NotifyJob, PushOutbox
from db.previews.tables import MessagePreviewImage, PreviewJob

BUCKET = 100
# What a batch deletes by message id, before the messages themselves.
OWNED = (
    (Reaction, Reaction.message_id),
    (Mention, Mention.message_id),
    (Pin, Pin.message_id),
    (PreviewJob, PreviewJob.message_id),
    (MessagePreviewImage, MessagePreviewImage.message_id),
    (NotifyJob, NotifyJob.message_id),
    (PushOutbox, PushOutbox.message_id),
    (EmailPending, EmailPending.message_id),
)

# PostgreSQL: the same deletions in one statement (data-modifying CTEs), one round trip instead of
# ten; the files' hashes come back from its last part.
POSTGRES_SWEEP = text(
    "WITH gone AS (SELECT unnest(CAST(:ids AS bigint[])) AS id), "
    + "".join(
        f"d{n} AS (DELETE FROM {table.__table__} WHERE message_id IN (SELECT id FROM gone)), "  # type: ignore[attr-defined]
        for n, (table, _column) in enumerate(OWNED)
    )
    + "dm AS (DELETE FROM messages WHERE id IN (SELECT id FROM gone)) "
    + "DELETE FROM files WHERE message_id IN (SELECT id FROM gone) RETURNING sha256"
)


@dataclass(frozen=True)
class SweptBatch:
    """What one batch removed: the message ids, and the blobs' hashes whose rows went with them."""

    message_ids: tuple[int, ...]
    sha256s: tuple[str, ...]


class RetentionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def own_retentions(self) -> list[tuple[int, int]]:
        """``(topic id, days)`` of every topic with a retention of its own."""
        query = select(col(Topic.id), col(Topic.retention_days)).where(col(Topic.retention_days).is_not(None))
        rows = (await self.session.execute(query)).all()
        return [(int(topic or 0), int(days or 0)) for topic, days in rows]

    async def oldest(self, before: datetime, limit: int, topic_id: int | None = None) -> list[int]:
        """Up to ``limit`` ids of messages stored before ``before``, oldest first: of one topic
        (walking its ``(topic_id, seq)`` key), or of every topic (``(created_at, id)``)."""
        query = select(col(Message.id)).where(col(Message.created_at) < before)
        if topic_id is None:
            query = query.order_by(col(Message.created_at), col(Message.id))
        else:
            query = query.where(col(Message.topic_id) == topic_id).order_by(col(Message.seq))
        return [int(row[0] or 0) for row in (await self.session.execute(query.limit(limit))).all()]

    async def sweep(self, message_ids: Sequence[int]) -> SweptBatch:
        """Delete these messages for good, with what they own; bring up to date what survives."""
        if not message_ids:
            return SweptBatch((), ())
        ids = _padded(list(message_ids))
        roots = await self._surviving_roots(ids)
        await self._unquote(ids)
        if self.session.get_bind().dialect.name == "postgresql":
            freed = await self.session.execute(POSTGRES_SWEEP, {"ids": list(message_ids)})
        else:
            for table, column in OWNED:
                await self.session.execute(delete(table).where(col(column).in_(ids)))
            freed = await self.session.execute(
                delete(File).where(col(File.message_id).in_(ids)).returning(col(File.sha256))
            )
            await self.session.execute(delete(Message).where(col(Message.id).in_(ids)))
        sha256s = tuple(sorted({row[0] for row in freed.all()}))
        threads = MessageRepository(self.session)
        for root in roots:
            await threads.refresh_thread(root)
        return SweptBatch(tuple(message_ids), sha256s)

    async def _surviving_roots(self, ids: list[int]) -> list[int]:
        """The thread roots of swept replies that are not swept themselves."""
        query = (
            select(col(Message.thread_root_id))
            .where(col(Message.id).in_(ids), col(Message.thread_root_id).is_not(None))
            .where(col(Message.thread_root_id).not_in(ids))
            .distinct()
        )
        return sorted(int(row[0] or 0) for row in (await self.session.execute(query)).all())

    async def _unquote(self, ids: list[int]) -> None:
        """Replies that survive a message they quote keep its sender and id, not its words."""
        query = select(col(Message.reply_to_id), col(Message.reply_to)).where(
            col(Message.reply_to_id).in_(ids), col(Message.id).not_in(ids)
        )
        quotes: dict[int, str | None] = {}
        for quoted, shown in (await self.session.execute(query)).all():
            quotes.setdefault(int(quoted or 0), shown)
        for quoted, shown in quotes.items():
            await self.session.execute(
                update(Message).where(col(Message.reply_to_id) == quoted).values(reply_to=_emptied(shown))
            )


def _padded(ids: list[int]) -> list[int]:
    """The ids, the last repeated up to a multiple of ``BUCKET``: an ``IN`` list renders one
    placeholder per value, and so few list lengths keep each statement's text among a few, which
    PostgreSQL's driver then prepares once per connection instead of at every batch."""
    size = -(-len(ids) // BUCKET) * BUCKET
    return ids + [ids[-1]] * (size - len(ids))


def _emptied(shown: str | None) -> str | None:
    """The quote JSON with an empty excerpt (what a deleted message's quote shows)."""
    if shown is None:
        return None
    quote = orjson.loads(shown)
    quote["excerpt"] = ""
    return orjson.dumps(quote).decode()
