"""The audit log (PROTOCOL.md section 16): rows added in an action's transaction, listed newest
first with filters, and pruned after their retention."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.audit.records import AuditRecord
from db.audit.tables import AuditEntry

NAME = 64  # the stored length of an actor's name
TEXT = 255  # of a target or a topic


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        at: datetime,
        actor_id: int | None,
        actor: str,
        action: str,
        target: str | None,
        topic: str | None,
        details: dict[str, Any],
    ) -> None:
        """One row, in the caller's transaction (it commits with the action, or not at all)."""
        name = actor[:NAME]
        self.session.add(
            AuditEntry(
                at=at,
                actor_id=actor_id,
                actor=name,
                actor_key=name.lower(),
                action=action,
                target=None if target is None else target[:TEXT],
                topic=None if topic is None else topic[:TEXT],
                details=details,
            )
        )
        await self.session.flush()

    async def newest(
        self,
        limit: int,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
    ) -> list[AuditRecord]:
        """Newest first; ``actor`` matched without case, ``action`` exactly, ``since`` inclusive."""
        query = select(
            col(AuditEntry.id),
            col(AuditEntry.at),
            col(AuditEntry.actor_id),
            col(AuditEntry.actor),
            col(AuditEntry.action),
            col(AuditEntry.target),
            col(AuditEntry.topic),
            col(AuditEntry.details),
        )
        if actor is not None:
            query = query.where(col(AuditEntry.actor_key) == actor.lower())
        if action is not None:
            query = query.where(col(AuditEntry.action) == action)
        if since is not None:
            query = query.where(col(AuditEntry.at) >= since)
        query = query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)
        rows: list[Any] = list((await self.session.execute(query)).all())
        return [AuditRecord(*row) for row in rows]

    async def prune(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` rows written before ``before``, oldest first; how many went."""
        old = (
            select(col(AuditEntry.id))
            .where(col(AuditEntry.at) < before)
            .order_by(col(AuditEntry.at))
            .limit(limit)
        )
        ids = list((await self.session.execute(old)).scalars())
        if ids:
            await self.session.execute(delete(AuditEntry).where(col(AuditEntry.id).in_(ids)))
        return len(ids)
