"""Reports (PROTOCOL.md section 10): messages reported to the operator."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from db.accounts.tables import User
from db.conversations.tables import Message, Topic
from db.moderation.records import ReportRecord
from db.moderation.tables import Report


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, reporter_id: int, message_id: int, reason: str, at: datetime) -> None:
        self.session.add(Report(reporter_id=reporter_id, message_id=message_id, reason=reason, created_at=at))
        await self.session.flush()

    async def newest(self, limit: int) -> list[ReportRecord]:
        """Newest first, each with its reporter, the message's topic, sender, body and state."""
        reporter, sender = aliased(User), aliased(User)
        query = (
            select(
                col(Report.id),
                col(Report.created_at),
                col(reporter.username),
                col(Report.reason),
                col(Report.message_id),
                col(Topic.name),
                col(Topic.kind),
                col(Message.seq),
                col(sender.username),
                col(Message.body),
                col(Message.deleted_at),
            )
            .outerjoin(reporter, col(reporter.id) == col(Report.reporter_id))
            .outerjoin(Message, col(Message.id) == col(Report.message_id))
            .outerjoin(Topic, col(Topic.id) == col(Message.topic_id))
            .outerjoin(sender, col(sender.id) == col(Message.sender_id))
            .order_by(col(Report.created_at).desc(), col(Report.id).desc())
            .limit(limit)
        )
        result = await self.session.execute(query)
        rows: list[Any] = list(result.all())
        return [ReportRecord(*row) for row in rows]
