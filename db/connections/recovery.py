"""Recovery sessions: the private session ids given to Socket.IO clients that asked for recovery."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from db.connections.records import RecoveryRecord
from db.connections.tables import RecoverySession


class RecoveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, pid: str, user_id: int, seen_at: datetime) -> None:
        self.session.add(RecoverySession(pid=pid, user_id=user_id, seen_at=seen_at))
        await self.session.flush()

    async def by_pid(self, pid: str) -> RecoveryRecord | None:
        row = await self.session.get(RecoverySession, pid)
        return None if row is None else RecoveryRecord(row.pid, row.user_id, row.seen_at)

    async def seen(self, pids: Collection[str], when: datetime) -> None:
        """Mark every session of ``pids`` as seen at ``when`` (one statement).

        A mark never goes back: a refresh that took its time before a close's mark, and is
        stored after it, leaves the close's mark.
        """
        if pids:
            statement = update(RecoverySession).where(
                col(RecoverySession.pid).in_(list(pids)), col(RecoverySession.seen_at) < when
            )
            await self.session.execute(statement.values(seen_at=when))

    async def forget_before(self, cutoff: datetime) -> None:
        """Delete the sessions not seen since ``cutoff``."""
        await self.session.execute(delete(RecoverySession).where(col(RecoverySession.seen_at) < cutoff))
