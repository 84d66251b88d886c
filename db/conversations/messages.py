"""Messages with their sender's name: pages, backlogs and idempotency lookups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from db.accounts.tables import User
from db.conversations.extras import EXTRAS_COLUMNS, extras_of, links_json, names_json, quote_json
from db.conversations.records import BacklogEntry, MessageRecord, Quote, ThreadSummary
from db.conversations.tables import Membership, Mention, Message, Pin, Topic
from db.conversations.threads import THREAD_COUNT, THREAD_REPLIERS, THREAD_UPDATE
from db.conversations.values import message_record
from db.rules.tables import Block

THREAD_READ = "SELECT thread_count, thread_last_at, thread_participants FROM messages WHERE id = :root"
Row = tuple[MessageRecord, str]
"""A message and its sender's username."""


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _with_sender(self) -> Any:
        return select(Message, col(User.username)).join(User, col(User.id) == col(Message.sender_id))

    async def by_id(self, message_id: int, lock: bool = False) -> MessageRecord | None:
        """``lock``: hold the row until the transaction ends (PostgreSQL), so that changes to what
        is kept on it (reactions, mentions) made by concurrent transactions apply one after another."""
        if not lock:
            message = await self.session.get(Message, message_id)
            return None if message is None else message_record(message)
        result = await self.session.execute(
            select(Message).where(col(Message.id) == message_id).with_for_update()
        )
        found = result.scalar_one_or_none()
        return None if found is None else message_record(found)

    async def set_reactions(self, message_id: int, reactions: str | None) -> None:
        await self.session.execute(
            update(Message).where(col(Message.id) == message_id).values(reactions=reactions)
        )

    async def set_mentions(
        self, message: MessageRecord, names: Iterable[str], everyone: bool, user_ids: Iterable[int]
    ) -> MessageRecord:
        """Replace what ``message`` mentions (an edit): its names and ``@all``, and the mention rows."""
        names = tuple(names)
        await self.session.execute(
            update(Message)
            .where(col(Message.id) == message.id)
            .values(mentions=names_json(names), mentions_all=everyone)
        )
        await self.session.execute(delete(Mention).where(col(Mention.message_id) == message.id))
        for user_id in user_ids:
            self.session.add(
                Mention(message_id=message.id, user_id=user_id, topic_id=message.topic_id, seq=message.seq)
            )
        await self.session.flush()
        return replace(message, extras=replace(message.extras, mentions=names, mentions_all=everyone))

    async def requote(self, message_id: int, quote: Quote) -> None:
        """Rewrite the quote every reply to ``message_id`` shows (after an edit or a deletion)."""
        await self.session.execute(
            update(Message).where(col(Message.reply_to_id) == message_id).values(reply_to=quote_json(quote))
        )

    async def refresh_thread(self, root_id: int) -> None:
        """Recompute the summary kept on a thread's root (``db/sends.py`` does it for new replies)."""
        root = {"root": root_id}
        count, last_at = (await self.session.execute(text(THREAD_COUNT.format(":root")), root)).one()
        names = [row[0] for row in await self.session.execute(text(THREAD_REPLIERS.format(":root")), root)]
        await self.session.execute(
            text(THREAD_UPDATE.format(":count", ":last", ":names", ":root")),
            {"count": count, "last": last_at, "names": names_json(names), "root": root_id},
        )

    async def thread_summary(self, root_id: int) -> ThreadSummary | None:
        """The summary kept on a root, read from the row as stored now (never an ORM object of
        this session that an update by statement left behind)."""
        found = (await self.session.execute(text(THREAD_READ), {"root": root_id})).first()
        if found is None or not found[0]:
            return None
        summary = (None, None, *found[:3], None, False, None, False, "text", None, False, None, None, None)
        return extras_of(summary).thread

    async def forget_extras(self, message: MessageRecord) -> bool:
        """A deleted message keeps no mentions, reactions, pin or files. True if it was pinned."""
        await self.session.execute(delete(Mention).where(col(Mention.message_id) == message.id))
        await self.session.execute(delete(Pin).where(col(Pin.message_id) == message.id))
        await self.session.execute(
            update(Message)
            .where(col(Message.id) == message.id)
            .values(reactions=None, pinned=False, files=None, previews=None)
        )
        return message.extras.pinned

    async def thread_page(self, root_id: int, before_id: int | None, limit: int) -> list[Row]:
        """Up to ``limit`` replies of a thread below ``before_id``, newest first."""
        query = self._with_sender().where(col(Message.thread_root_id) == root_id)
        if before_id is not None:
            query = query.where(col(Message.id) < before_id)
        result = await self.session.execute(query.order_by(col(Message.id).desc()).limit(limit))
        return [(message_record(row[0]), row[1]) for row in result.all()]

    async def pinned(self, topic_id: int) -> list[Row]:
        """The pinned messages of a topic that are not deleted, newest pin first."""
        query = (
            self._with_sender()
            .join(Pin, and_(col(Pin.message_id) == col(Message.id), col(Pin.topic_id) == topic_id))
            .where(col(Message.deleted_at).is_(None))
            .order_by(col(Pin.pinned_at).desc(), col(Message.id).desc())
        )
        result = await self.session.execute(query)
        return [(message_record(row[0]), row[1]) for row in result.all()]

    async def by_client_id(self, sender_id: int, client_id: str) -> MessageRecord | None:
        result = await self.session.execute(
            select(Message).where(
                col(Message.sender_id) == sender_id,
                col(Message.client_id) == client_id,
            )
        )
        message = result.scalar_one_or_none()
        return None if message is None else message_record(message)

    async def edit(self, message: MessageRecord, body: str, edited_at: datetime) -> MessageRecord:
        """``message`` with its new body (stored when the transaction commits)."""
        await self.session.execute(
            update(Message).where(col(Message.id) == message.id).values(body=body, edited_at=edited_at)
        )
        return replace(message, body=body, edited_at=edited_at)

    async def set_links(self, message: MessageRecord, links: tuple[str, ...]) -> MessageRecord:
        """Replace the links an edited body has (PROTOCOL.md section 13); its previews stay until
        the previews capability has made those of the new links."""
        await self.session.execute(
            update(Message).where(col(Message.id) == message.id).values(links=links_json(links))
        )
        return replace(message, extras=replace(message.extras, links=links))

    async def mark_deleted(self, message: MessageRecord, deleted_at: datetime) -> MessageRecord:
        """A tombstone: the row stays (``seq`` is gapless), its body is never shown again."""
        await self.session.execute(
            update(Message).where(col(Message.id) == message.id).values(deleted_at=deleted_at)
        )
        return replace(message, deleted_at=deleted_at)

    async def count_by_sender(self, sender_id: int) -> int:
        result = await self.session.execute(
            select(func.count()).select_from(Message).where(col(Message.sender_id) == sender_id)
        )
        return int(result.scalar_one())

    async def page(self, topic_id: int, before_seq: int | None, limit: int) -> list[Row]:
        """Up to ``limit`` messages below ``before_seq``, newest first."""
        query = self._with_sender().where(col(Message.topic_id) == topic_id)
        if before_seq is not None:
            query = query.where(col(Message.seq) < before_seq)
        result = await self.session.execute(query.order_by(col(Message.seq).desc()).limit(limit))
        return [(message_record(row[0]), row[1]) for row in result.all()]

    async def stored_since(self, moment: datetime, limit: int, topic_id: int | None = None) -> list[Row]:
        """Messages stored at or after ``moment`` that are not deleted (of ``topic_id`` only, if
        given), per topic in ``seq`` order, at most ``limit`` (the newest): what a node cut from the
        hub may have missed (``ix_messages_created``)."""
        live = col(Message.deleted_at).is_(None)
        newest = self._with_sender().where(col(Message.created_at) >= moment, live)
        if topic_id is not None:
            newest = newest.where(col(Message.topic_id) == topic_id)
        newest = newest.order_by(col(Message.created_at).desc(), col(Message.id).desc()).limit(limit)
        result = await self.session.execute(newest)
        rows = [(message_record(row[0]), row[1]) for row in result.all()]
        return sorted(rows, key=lambda row: (row[0].topic_id, row[0].seq))

    async def seqs_between(self, topic_id: int, first: int, last: int) -> list[Row]:
        """The topic's messages with ``first <= seq <= last`` that are not deleted, in ``seq`` order."""
        query = self._with_sender().where(
            col(Message.topic_id) == topic_id,
            col(Message.seq) >= first,
            col(Message.seq) <= last,
            col(Message.deleted_at).is_(None),
        )
        result = await self.session.execute(query.order_by(col(Message.seq)))
        return [(message_record(row[0]), row[1]) for row in result.all()]

    async def latest(self, topic_ids: Iterable[int]) -> dict[int, Row]:
        """The newest message that is not deleted of each topic given, by topic id (a topic without
        one is left out). One query; each topic's index is walked from its newest ``seq`` down."""
        ids = list(topic_ids)
        if not ids:
            return {}
        newer = aliased(Message)
        newest = (
            select(col(newer.id))
            .where(col(newer.topic_id) == col(Topic.id), col(newer.deleted_at).is_(None))
            .order_by(col(newer.seq).desc())
            .limit(1)
            .correlate(Topic)
            .scalar_subquery()
        )
        query = self._with_sender().where(col(Message.id).in_(select(newest).where(col(Topic.id).in_(ids))))
        result = await self.session.execute(query)
        return {row[0].topic_id: (message_record(row[0]), row[1]) for row in result.all()}

    async def backlog(self, user_id: int, cap: int) -> list[BacklogEntry]:
        """Every topic of the user at once: live messages above its delivered seq among the newest
        ``cap`` of each topic, oldest first per topic (topics in id order). One query.

        ``seq`` is gapless per topic (deletions leave tombstones), so "the newest ``cap``" is
        ``seq > last_seq - cap``: a range on the (topic_id, seq) index, however far behind the
        user is, instead of ranking every unacknowledged row.
        """
        floor = case(
            (col(Membership.delivered_seq) > col(Topic.last_seq) - cap, col(Membership.delivered_seq)),
            else_=col(Topic.last_seq) - cap,
        )
        return await self._of_topics(user_id, col(Message.seq) > floor)

    async def replay(self, user_id: int, after_id: int, margin: float, cap: int) -> list[BacklogEntry]:
        """A recovery replay: live messages of every topic of the user with ``id > after_id``, or
        stored less than ``margin`` seconds before message ``after_id``, among the newest ``cap``
        of each topic; oldest first per topic (topics in id order). One query."""
        anchor = aliased(Message)
        cutoff = (
            select(col(anchor.created_at) - timedelta(seconds=margin))
            .where(col(anchor.id) == after_id)
            .scalar_subquery()
        )
        since = or_(col(Message.id) > after_id, col(Message.created_at) > cutoff)
        return await self._of_topics(user_id, and_(col(Message.seq) > col(Topic.last_seq) - cap, since))

    async def _of_topics(self, user_id: int, which: Any) -> list[BacklogEntry]:
        """The live messages of the user's topics that ``which`` selects, ordered by topic and seq
        (columns, not rows: the fields of ``BacklogEntry`` in order)."""
        query = (
            select(
                col(Message.id),
                col(Message.topic_id),
                col(Message.seq),
                col(User.username),
                col(Message.body),
                col(Message.client_id),
                col(Message.created_at),
                col(Message.edited_at),
                col(Topic.name),
                col(Topic.kind),
                _peer_name(user_id),
                _blocked(user_id),
                *(getattr(Message, name) for name in EXTRAS_COLUMNS),
            )
            .join(Topic, col(Topic.id) == col(Message.topic_id))
            .join(
                Membership,
                and_(col(Membership.topic_id) == col(Topic.id), col(Membership.user_id) == user_id),
            )
            .join(User, col(User.id) == col(Message.sender_id))
            .where(which, col(Message.deleted_at).is_(None))
            .order_by(col(Message.topic_id), col(Message.seq))
        )
        result = await self.session.execute(query)
        return [_entry(row) for row in result.all()]


def _peer_name(user_id: int) -> Any:
    """In a direct conversation, the other member's username (NULL for other topics)."""
    other, other_user = aliased(Membership), aliased(User)
    name = (
        select(col(other_user.username))
        .join(other, col(other.user_id) == col(other_user.id))
        .where(col(other.topic_id) == col(Topic.id), col(other.user_id) != user_id)
        .limit(1)
        .correlate(Topic)
        .scalar_subquery()
    )
    return case((col(Topic.kind) == "direct", name), else_=None)


def _blocked(user_id: int) -> Any:
    """Whether ``user_id`` blocked the message's sender (PROTOCOL.md section 10)."""
    return (
        select(col(Block.user_id))
        .where(col(Block.user_id) == user_id, col(Block.blocked_id) == col(Message.sender_id))
        .correlate(Message)
        .exists()
    )


def _entry(row: Any) -> BacklogEntry:
    return BacklogEntry(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        extras_of(row[12:]),
        bool(row[11]),
    )
