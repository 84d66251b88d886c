"""The unit of work: the only place that opens transactions and commits.

``Database.write()`` yields repositories inside one transaction and commits
when the block ends without an exception (rolls back otherwise).
SQLite has a single writer: an asyncio lock serialises write transactions in
this process so concurrent senders queue up instead of failing with
"database is locked". PostgreSQL relies on row locks instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import is_sqlite, make_engine, make_session_factory
from db.repositories import Repositories


class Database:
    """Engine, session factory and the write lock for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = make_session_factory(self.engine)
        self._write_lock = asyncio.Lock() if is_sqlite(url) else None

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[Repositories]:
        """Repositories for queries; nothing is committed."""
        async with self.sessions() as session:
            yield Repositories(session)

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[Repositories]:
        """One transaction: commit on success, roll back on any exception."""
        lock = self._write_lock or contextlib.nullcontext()
        async with lock, self.sessions() as session, session.begin():
            yield Repositories(session)

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.sessions() as session:
            await _select_one(session)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _select_one(session: AsyncSession) -> None:
    await session.execute(text("SELECT 1"))
