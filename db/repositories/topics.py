"""Topics (public, private and direct) and their sequence counter."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.models import Membership, Topic


class TopicRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_name(self, name: str) -> Topic | None:
        result = await self.session.execute(select(Topic).where(col(Topic.name_key) == name.lower()))
        return result.scalar_one_or_none()

    async def by_id(self, topic_id: int) -> Topic | None:
        return await self.session.get(Topic, topic_id)

    async def add(self, topic: Topic) -> Topic:
        self.session.add(topic)
        await self.session.flush()
        return topic

    async def next_seq(self, topic_id: int) -> int:
        """Take the topic's next sequence number inside the current transaction."""
        result = await self.session.execute(
            update(Topic)
            .where(col(Topic.id) == topic_id)
            .values(last_seq=col(Topic.last_seq) + 1)
            .returning(col(Topic.last_seq))
        )
        return int(result.scalar_one())

    async def visible_to(self, user_id: int) -> Sequence[Topic]:
        """Every public topic plus every topic the user is a member of."""
        member_of = select(col(Membership.topic_id)).where(col(Membership.user_id) == user_id)
        result = await self.session.execute(
            select(Topic)
            .where(or_(col(Topic.kind) == "public", col(Topic.id).in_(member_of)))
            .order_by(col(Topic.id))
        )
        return result.scalars().all()
