"""The relay table: events the command line leaves for running servers (no Redis), in id order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.kernel.tables import Relay
from db.values import stored_id


class RelayRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, events: str, now: datetime) -> None:
        self.session.add(Relay(created_at=now, events=events))
        await self.session.flush()

    async def last_id(self) -> int:
        result = await self.session.execute(select(func.max(col(Relay.id))))
        return int(result.scalar_one() or 0)

    async def after(self, last_id: int) -> list[tuple[int, str]]:
        """(id, events) of every row after ``last_id``, oldest first."""
        result = await self.session.execute(
            select(col(Relay.id), col(Relay.events)).where(col(Relay.id) > last_id).order_by(col(Relay.id))
        )
        return [(stored_id(row[0]), str(row[1])) for row in result.all()]

    async def prune(self, before: datetime, limit: int | None = None) -> int:
        """Forget rows written before ``before`` (every running server read them long ago), but
        never the newest: SQLite would give its id again, and servers read only higher ids. At
        most ``limit`` rows, oldest first, when given (housekeeping's batches). The count."""
        newest = select(func.max(col(Relay.id))).scalar_subquery()
        stale = select(col(Relay.id)).where(col(Relay.created_at) < before, col(Relay.id) < newest)
        if limit is not None:
            stale = stale.order_by(col(Relay.id)).limit(limit)
        ids = [row[0] for row in (await self.session.execute(stale)).all()]
        if ids:
            await self.session.execute(delete(Relay).where(col(Relay.id).in_(ids)))
        return len(ids)
