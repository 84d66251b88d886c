"""Memberships: who is in which topic, with delivery and read cursors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.records import UserRecord
from db.accounts.tables import User
from db.accounts.words import search_rank, word_range
from db.conversations.records import MembershipRecord, TopicRecord
from db.conversations.tables import Membership, Message, Topic
from db.conversations.values import membership_record, topic_record
from db.rules.tables import Block
from db.values import flush

# Mention rows never name the sender (``server.chat.conversations.mentions``); ``UNION`` counts a message that
# names the user and says ``@all`` once. A sender the user blocked counts for nothing (section 10).
MENTION_COUNTS = text(
    """
SELECT x.topic_id, count(*) FROM (
    SELECT n.topic_id, n.message_id FROM mentions n
    JOIN memberships m ON m.topic_id = n.topic_id AND m.user_id = n.user_id
    JOIN messages g ON g.id = n.message_id
    WHERE n.user_id = :u AND n.seq > m.read_seq AND g.deleted_at IS NULL
        AND g.sender_id NOT IN (SELECT b.blocked_id FROM blocks b WHERE b.user_id = :u)
    UNION
    SELECT g.topic_id, g.id FROM memberships m
    JOIN messages g ON g.topic_id = m.topic_id AND g.seq > m.read_seq AND g.mentions_all
    WHERE m.user_id = :u AND g.sender_id != :u AND g.deleted_at IS NULL
        AND g.sender_id NOT IN (SELECT b.blocked_id FROM blocks b WHERE b.user_id = :u)
) x GROUP BY x.topic_id
"""
)


# The records' fields, in their order, as the tables' columns (``members``).
USER_COLUMNS = tuple(User.__table__.c[field.name] for field in fields(UserRecord))  # type: ignore[attr-defined]
MEMBERSHIP_COLUMNS = tuple(
    Membership.__table__.c[field.name]  # type: ignore[attr-defined]
    for field in fields(MembershipRecord)
)


class MembershipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, topic_id: int, user_id: int) -> MembershipRecord | None:
        membership = await self.session.get(Membership, (topic_id, user_id))
        return None if membership is None else membership_record(membership)

    async def add(self, topic: TopicRecord, user_id: int, role: str, joined_at: datetime) -> MembershipRecord:
        """A new member of ``topic``: everything so far counts as delivered and read. ``Conflict``
        if another transaction made the user a member first."""
        membership = Membership(
            topic_id=topic.id,
            user_id=user_id,
            role=role,
            joined_at=joined_at,
            delivered_seq=topic.last_seq,
            read_seq=topic.last_seq,
        )
        self.session.add(membership)
        await flush(self.session)
        return membership_record(membership)

    async def remove(self, topic_id: int, user_id: int) -> None:
        await self.session.execute(
            delete(Membership).where(
                col(Membership.topic_id) == topic_id,
                col(Membership.user_id) == user_id,
            )
        )

    async def of_user(self, user_id: int) -> list[tuple[TopicRecord, MembershipRecord]]:
        result = await self.session.execute(
            select(Topic, Membership)
            .join(Membership, col(Membership.topic_id) == col(Topic.id))
            .where(col(Membership.user_id) == user_id)
            .order_by(col(Topic.id))
        )
        return [(topic_record(row[0]), membership_record(row[1])) for row in result.all()]

    async def members(
        self, topic_id: int, *, prefix: str | None = None, limit: int | None = None
    ) -> list[tuple[UserRecord, MembershipRecord]]:
        """Every member with its user, in the order they joined; with ``prefix`` (folded) only
        those with a word starting with it (the directory's ``user_words`` range, as
        ``PeopleRepository.search`` reads it), whole names first, then by username; at most
        ``limit``. The records' columns are read as plain rows, not ORM objects: #lobby holds
        every account, and loading 10,000 pairs of ORM objects took about half of a
        ``topic:members`` answer's second."""
        query = (
            select(*USER_COLUMNS, *MEMBERSHIP_COLUMNS)
            .join(Membership, col(Membership.user_id) == col(User.id))
            .where(col(Membership.topic_id) == topic_id)
        )
        if prefix is None:
            query = query.order_by(col(Membership.joined_at), col(User.id))
        else:
            query = query.where(col(User.id).in_(word_range(prefix))).order_by(
                search_rank(prefix), col(User.username_key)
            )
        if limit is not None:
            query = query.limit(limit)
        result = await self.session.execute(query)
        split = len(USER_COLUMNS)
        return [(UserRecord(*row[:split]), MembershipRecord(*row[split:])) for row in result.all()]

    async def member_ids(self, topic_id: int) -> list[int]:
        result = await self.session.execute(
            select(col(Membership.user_id)).where(col(Membership.topic_id) == topic_id)
        )
        return list(result.scalars())

    async def topics_by_user(self, user_ids: Iterable[int]) -> dict[int, set[int]]:
        """The topic ids of each user's memberships (every user given has an entry)."""
        ids = list(user_ids)
        topics: dict[int, set[int]] = {user_id: set() for user_id in ids}
        if not ids:
            return topics
        query = select(col(Membership.user_id), col(Membership.topic_id)).where(
            col(Membership.user_id).in_(ids)
        )
        for user_id, topic_id in (await self.session.execute(query)).all():
            topics[user_id].add(topic_id)
        return topics

    async def member_counts(self, topic_ids: Iterable[int]) -> dict[int, int]:
        """How many members each topic has (every topic given has an entry), counted in the
        database: no member's row is read."""
        ids = list(topic_ids)
        counts = dict.fromkeys(ids, 0)
        if not ids:
            return counts
        query = (
            select(col(Membership.topic_id), func.count())
            .where(col(Membership.topic_id).in_(ids))
            .group_by(col(Membership.topic_id))
        )
        for topic_id, count in (await self.session.execute(query)).all():
            counts[int(topic_id)] = int(count)
        return counts

    async def members_by_topic(self, topic_ids: Iterable[int]) -> dict[int, list[int]]:
        """The member ids of each topic (every topic given has an entry)."""
        ids = list(topic_ids)
        members: dict[int, list[int]] = {topic_id: [] for topic_id in ids}
        if not ids:
            return members
        query = select(col(Membership.topic_id), col(Membership.user_id)).where(
            col(Membership.topic_id).in_(ids)
        )
        for topic_id, user_id in (await self.session.execute(query)).all():
            members[int(topic_id)].append(int(user_id))
        return members

    async def unread_counts(self, user_id: int) -> dict[int, tuple[int, int]]:
        """Per topic of the user: how many messages are after its read mark, not its own, not
        deleted, not from a sender the user blocked (PROTOCOL.md section 10), and the newest
        ``seq`` among them. The topic rows are read apart from this count: a message stored in
        between is counted here but after the topic's ``last_seq`` there, and a page that counts
        its live messages after ``last_seq`` counts it twice unless ``last_seq`` covers it."""
        query = (
            select(col(Message.topic_id), func.count(), func.max(col(Message.seq)))
            .join(
                Membership,
                and_(
                    col(Membership.topic_id) == col(Message.topic_id),
                    col(Membership.user_id) == user_id,
                ),
            )
            .where(
                col(Message.seq) > col(Membership.read_seq),
                col(Message.sender_id) != user_id,
                col(Message.deleted_at).is_(None),
                col(Message.type) != "system",
                col(Message.sender_id).not_in(
                    select(col(Block.blocked_id)).where(col(Block.user_id) == user_id)
                ),
            )
            .group_by(col(Message.topic_id))
        )
        result = await self.session.execute(query)
        return {int(topic_id): (int(count), int(newest)) for topic_id, count, newest in result.all()}

    async def mention_counts(self, user_id: int) -> dict[int, int]:
        """Per topic of the user: messages after its read mark that mention the user by name or
        ``@all``, not its own, not deleted (system messages mention nobody). One query."""
        result = await self.session.execute(MENTION_COUNTS, {"u": user_id})
        return {int(topic_id): int(count) for topic_id, count in result.all()}

    async def set_role(self, topic_id: int, user_id: int, role: str) -> None:
        await self.session.execute(
            update(Membership)
            .where(col(Membership.topic_id) == topic_id, col(Membership.user_id) == user_id)
            .values(role=role)
        )

    async def set_mute(
        self, topic_id: int, user_id: int, at: datetime | None, until: datetime | None
    ) -> None:
        """Mute (``at`` set; ``until`` None: until unmuted) or unmute (both None)."""
        await self.session.execute(
            update(Membership)
            .where(col(Membership.topic_id) == topic_id, col(Membership.user_id) == user_id)
            .values(muted_at=at, muted_until=until)
        )

    async def members_and_mutes(self, topic_id: int) -> tuple[list[int], dict[int, datetime | None]]:
        """``member_ids`` and ``mutes`` of a topic in one statement (the send path needs both)."""
        result = await self.session.execute(
            select(col(Membership.user_id), col(Membership.muted_at), col(Membership.muted_until)).where(
                col(Membership.topic_id) == topic_id
            )
        )
        rows = result.all()
        members = [int(user_id) for user_id, _, _ in rows]
        return members, {int(user_id): until for user_id, at, until in rows if at is not None}

    async def mutes(self, topic_id: int) -> dict[int, datetime | None]:
        """The muted members of a topic and until when (None: until unmuted), expired ones too."""
        result = await self.session.execute(
            select(col(Membership.user_id), col(Membership.muted_until)).where(
                col(Membership.topic_id) == topic_id, col(Membership.muted_at).is_not(None)
            )
        )
        return {int(user_id): until for user_id, until in result.all()}

    async def set_notify(self, topic_id: int, user_id: int, level: str) -> None:
        await self.session.execute(
            update(Membership)
            .where(col(Membership.topic_id) == topic_id, col(Membership.user_id) == user_id)
            .values(notify_level=level)
        )

    async def partners(self, user_id: int) -> list[int]:
        """Users who share a private topic or a direct conversation with ``user_id``."""
        mine = (
            select(col(Membership.topic_id))
            .join(Topic, col(Topic.id) == col(Membership.topic_id))
            .where(col(Membership.user_id) == user_id, col(Topic.kind) != "public")
        )
        result = await self.session.execute(
            select(col(Membership.user_id))
            .where(col(Membership.topic_id).in_(mine), col(Membership.user_id) != user_id)
            .distinct()
        )
        return list(result.scalars())

    async def advance_delivered(self, cursors: Iterable[tuple[int, int, int]]) -> None:
        """Move delivered_seq forward for many (user_id, topic_id, seq) in one statement."""
        await self._advance("delivered_seq", cursors)

    async def advance_read(self, user_id: int, topic_id: int, seq: int) -> bool:
        """Move read_seq forward; False when it was already at or past ``seq``."""
        result: Any = await self.session.execute(
            update(Membership)
            .where(
                col(Membership.topic_id) == topic_id,
                col(Membership.user_id) == user_id,
                col(Membership.read_seq) < seq,
            )
            .values(read_seq=seq)
        )
        return bool(result.rowcount)

    async def _advance(self, column: str, cursors: Iterable[tuple[int, int, int]]) -> None:
        """Move ``column`` up to each seq, clamped by the topic's last seq as the database has it.

        The clamp is the database's own, never a value a process remembers: a node that did not
        store the topic's newest messages must not hold a cursor back (or push it past them).
        """
        rows = [{"u": user, "t": topic, "s": seq} for user, topic, seq in cursors]
        if not rows:
            return
        table: Any = Membership.__table__  # type: ignore[attr-defined]
        topics: Any = Topic.__table__  # type: ignore[attr-defined]
        last = select(topics.c.last_seq).where(topics.c.id == table.c.topic_id).scalar_subquery()
        wanted = bindparam("s", type_=Integer)
        clamped = case((wanted <= last, wanted), else_=last)
        statement = (
            update(table)
            .where(
                table.c.user_id == bindparam("u"),
                table.c.topic_id == bindparam("t"),
                table.c[column] < clamped,
            )
            .values({column: clamped})
        )
        connection = await self.session.connection()
        await connection.execute(statement, rows)
