"""Memberships: who is in which topic, with delivery and read cursors."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Membership, Message, Topic, User


class MembershipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, topic_id: int, user_id: int) -> Membership | None:
        return await self.session.get(Membership, (topic_id, user_id))

    async def add(self, membership: Membership) -> Membership:
        self.session.add(membership)
        await self.session.flush()
        return membership

    async def remove(self, topic_id: int, user_id: int) -> None:
        await self.session.execute(
            delete(Membership).where(
                Membership.topic_id == topic_id,  # type: ignore[arg-type]
                Membership.user_id == user_id,  # type: ignore[arg-type]
            )
        )

    async def of_user(self, user_id: int) -> Sequence[tuple[Topic, Membership]]:
        result = await self.session.execute(
            select(Topic, Membership)
            .join(Membership, Membership.topic_id == Topic.id)  # type: ignore[arg-type]
            .where(Membership.user_id == user_id)  # type: ignore[arg-type]
            .order_by(Topic.id)  # type: ignore[arg-type]
        )
        return [(row[0], row[1]) for row in result.all()]

    async def members(self, topic_id: int) -> Sequence[tuple[User, Membership]]:
        result = await self.session.execute(
            select(User, Membership)
            .join(Membership, Membership.user_id == User.id)  # type: ignore[arg-type]
            .where(Membership.topic_id == topic_id)  # type: ignore[arg-type]
            .order_by(Membership.joined_at, User.id)  # type: ignore[arg-type]
        )
        return [(row[0], row[1]) for row in result.all()]

    async def member_ids(self, topic_id: int) -> list[int]:
        result = await self.session.execute(
            select(Membership.user_id).where(Membership.topic_id == topic_id)  # type: ignore[arg-type]
        )
        return list(result.scalars())

    async def counts(self, topic_ids: Iterable[int], among: Iterable[int] | None = None) -> dict[int, int]:
        """Members per topic; with ``among``, only members whose id is in it."""
        ids = list(topic_ids)
        if not ids:
            return {}
        query = select(Membership.topic_id, func.count()).where(
            Membership.topic_id.in_(ids)  # type: ignore[attr-defined]
        )
        if among is not None:
            users = list(among)
            if not users:
                return {}
            query = query.where(Membership.user_id.in_(users))  # type: ignore[attr-defined]
        result = await self.session.execute(query.group_by(Membership.topic_id))
        return {int(topic_id): int(count) for topic_id, count in result.all()}

    async def unread_counts(self, user_id: int) -> dict[int, int]:
        """Per topic of the user: messages after its read mark, not its own, not deleted."""
        query = (
            select(Message.topic_id, func.count())
            .join(
                Membership,
                and_(
                    Membership.topic_id == Message.topic_id,  # type: ignore[arg-type]
                    Membership.user_id == user_id,  # type: ignore[arg-type]
                ),
            )
            .where(
                Message.seq > Membership.read_seq,  # type: ignore[arg-type]
                Message.sender_id != user_id,  # type: ignore[arg-type]
                Message.deleted_at.is_(None),  # type: ignore[union-attr]
            )
            .group_by(Message.topic_id)
        )
        result = await self.session.execute(query)
        return {int(topic_id): int(count) for topic_id, count in result.all()}

    async def partners(self, user_id: int) -> list[int]:
        """Users who share a private topic or a direct conversation with ``user_id``."""
        mine = (
            select(Membership.topic_id)
            .join(Topic, Topic.id == Membership.topic_id)  # type: ignore[arg-type]
            .where(Membership.user_id == user_id, Topic.kind != "public")  # type: ignore[arg-type]
        )
        result = await self.session.execute(
            select(Membership.user_id)
            .where(Membership.topic_id.in_(mine), Membership.user_id != user_id)  # type: ignore[attr-defined, arg-type]
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
                Membership.topic_id == topic_id,  # type: ignore[arg-type]
                Membership.user_id == user_id,  # type: ignore[arg-type]
                Membership.read_seq < seq,  # type: ignore[arg-type]
            )
            .values(read_seq=seq)
        )
        return bool(result.rowcount)

    async def _advance(self, column: str, cursors: Iterable[tuple[int, int, int]]) -> None:
        rows = [{"u": user, "t": topic, "s": seq} for user, topic, seq in cursors]
        if not rows:
            return
        table: Any = Membership.__table__
        statement = (
            update(table)
            .where(
                table.c.user_id == bindparam("u"),
                table.c.topic_id == bindparam("t"),
                table.c[column] < bindparam("s"),
            )
            .values({column: bindparam("s")})
        )
        connection = await self.session.connection()
        await connection.execute(statement, rows)
