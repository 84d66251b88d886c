"""Topics (public, private and direct) and their sequence counter."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.accounts.tables import User
from db.conversations.records import TopicRecord
from db.conversations.tables import Membership, Mention, Message, Pin, Reaction, Topic
from db.conversations.values import topic_record
from db.rules.tables import Ban
from db.values import flush


@dataclass(frozen=True)
class TopicRow:
    """A topic as an operator lists it: its owner's name and its member count."""

    topic: TopicRecord
    owner: str | None
    members: int


class TopicRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_name(self, name: str) -> TopicRecord | None:
        result = await self.session.execute(select(Topic).where(col(Topic.name_key) == name.lower()))
        topic = result.scalar_one_or_none()
        return None if topic is None else topic_record(topic)

    async def by_ids(self, topic_ids: Iterable[int]) -> list[TopicRecord]:
        ids = list(topic_ids)
        if not ids:
            return []
        result = await self.session.execute(select(Topic).where(col(Topic.id).in_(ids)))
        return [topic_record(topic) for topic in result.scalars()]

    async def by_id(self, topic_id: int) -> TopicRecord | None:
        topic = await self.session.get(Topic, topic_id)
        return None if topic is None else topic_record(topic)

    async def add(
        self, name: str, kind: str, created_at: datetime, owner_id: int | None = None
    ) -> TopicRecord:
        """A new topic (``seq`` starts at 0); ``Conflict`` if another transaction stored the name
        (any case) first."""
        topic = Topic(name=name, name_key=name.lower(), kind=kind, owner_id=owner_id, created_at=created_at)
        self.session.add(topic)
        await flush(self.session)
        return topic_record(topic)

    async def next_seq(self, topic_id: int) -> int:
        """Take the topic's next sequence number inside the current transaction."""
        result = await self.session.execute(
            update(Topic)
            .where(col(Topic.id) == topic_id)
            .values(last_seq=col(Topic.last_seq) + 1)
            .returning(col(Topic.last_seq))
        )
        return int(result.scalar_one())

    async def visible_to(self, user_id: int) -> list[TopicRecord]:
        """Every public topic plus every topic the user is a member of."""
        member_of = select(col(Membership.topic_id)).where(col(Membership.user_id) == user_id)
        result = await self.session.execute(
            select(Topic)
            .where(or_(col(Topic.kind) == "public", col(Topic.id).in_(member_of)))
            .order_by(col(Topic.id))
        )
        return [topic_record(topic) for topic in result.scalars()]

    async def listing(self, include_direct: bool = False, topic_id: int | None = None) -> list[TopicRow]:
        """Every topic (direct conversations only if asked), or the one ``topic_id``, with its owner's
        name and member count."""
        members = (
            select(func.count())
            .where(col(Membership.topic_id) == col(Topic.id))
            .correlate(Topic)
            .scalar_subquery()
        )
        query = (
            select(Topic, col(User.username), members)
            .outerjoin(User, col(User.id) == col(Topic.owner_id))
            .order_by(col(Topic.id))
        )
        if not include_direct:
            query = query.where(col(Topic.kind) != "direct")
        if topic_id is not None:
            query = query.where(col(Topic.id) == topic_id)
        result = await self.session.execute(query)
        return [TopicRow(topic_record(row[0]), row[1], int(row[2])) for row in result.all()]

    async def set_owner(self, topic_id: int, user_id: int) -> None:
        await self.session.execute(update(Topic).where(col(Topic.id) == topic_id).values(owner_id=user_id))

    async def rename(self, topic_id: int, name: str) -> None:
        await self.session.execute(
            update(Topic).where(col(Topic.id) == topic_id).values(name=name, name_key=name.lower())
        )

    async def describe(self, topic_id: int, description: str) -> None:
        await self.session.execute(
            update(Topic).where(col(Topic.id) == topic_id).values(description=description)
        )

    async def keep_for(self, topic_id: int, days: int | None) -> None:
        """The topic's own retention in days (None: the server's)."""
        await self.session.execute(update(Topic).where(col(Topic.id) == topic_id).values(retention_days=days))

    async def archive(self, topic_id: int, at: datetime | None) -> None:
        """Archive (``at``) or unarchive (None)."""
        await self.session.execute(update(Topic).where(col(Topic.id) == topic_id).values(archived_at=at))

    async def delete(self, topic_id: int) -> None:
        """The topic with its messages (their reactions, mentions and pins) and memberships."""
        of_topic = select(col(Message.id)).where(col(Message.topic_id) == topic_id)
        await self.session.execute(delete(Reaction).where(col(Reaction.message_id).in_(of_topic)))
        await self.session.execute(delete(Mention).where(col(Mention.topic_id) == topic_id))
        await self.session.execute(delete(Pin).where(col(Pin.topic_id) == topic_id))
        await self.session.execute(delete(Ban).where(col(Ban.topic_id) == topic_id))
        await self.session.execute(delete(Message).where(col(Message.topic_id) == topic_id))
        await self.session.execute(delete(Membership).where(col(Membership.topic_id) == topic_id))
        await self.session.execute(delete(Topic).where(col(Topic.id) == topic_id))

    async def count_by_kind(self) -> dict[str, int]:
        """Topics per kind: ``public``, ``private``, ``direct`` (every key present)."""
        counts = {"public": 0, "private": 0, "direct": 0}
        result = await self.session.execute(select(col(Topic.kind), func.count()).group_by(col(Topic.kind)))
        for kind, count in result.all():
            counts[str(kind)] = int(count)
        return counts

    async def count_messages(self) -> int:
        """Stored messages, tombstones of deleted ones included."""
        result = await self.session.execute(select(func.count()).select_from(Message))
        return int(result.scalar_one())
