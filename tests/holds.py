"""Hold a connection's set-up at its first database read, so a test can act in that window.

A connection is authenticated, then reads the user's memberships, then is registered where a
logout finds it. ``held_membership_reads`` stops that read at the database: on SQLite the
hot-read thread waits inside the statement (its trace hook, which the statement runs), on
PostgreSQL another connection holds an exclusive lock on ``memberships`` (the hot reads' hook
tells when the statement is sent). ``reached`` is set
when the read has started; leaving the block (or ``release``) lets it finish. Nothing of the
server is replaced: the read is just slow.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from db.reads import SQL_OPENINGS, SqliteReads
from db.reads_postgres import PostgresReads
from tests.support import WAIT, LiveServer

HOLD_AT_MOST = 3 * WAIT  # a test that never releases does not hang the database thread forever
MEMBERSHIPS = SQL_OPENINGS.split(" WHERE ")[0]  # the statement as far as its ids (shown, or $1)


class Held:
    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.released = threading.Event()
        self._release: list[Any] = []

    async def wait(self) -> None:
        await asyncio.wait_for(self.reached.wait(), WAIT)

    async def release(self) -> None:
        self.released.set()
        for step in self._release:
            await step()
        self._release.clear()


@asynccontextmanager
async def held_membership_reads(server: LiveServer) -> AsyncIterator[Held]:
    """Until released, the next read of a user's memberships (``opening``) waits at the database."""
    held = Held()
    db = server.chat.db
    if isinstance(db.reads, SqliteReads):
        async with _sqlite(db.reads, held):
            yield held
    else:
        assert isinstance(db.reads, PostgresReads)
        async with _postgres(server, db.reads, held):
            yield held
    await held.release()


@asynccontextmanager
async def _sqlite(reads: SqliteReads, held: Held) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()

    def on_statement(statement: str) -> None:  # in the hot-read thread
        if statement.startswith(MEMBERSHIPS) and not held.released.is_set():
            loop.call_soon_threadsafe(held.reached.set)
            held.released.wait(HOLD_AT_MOST)

    reads.on_statement = on_statement
    try:
        yield
    finally:
        held.released.set()
        reads.on_statement = None


@asynccontextmanager
async def _postgres(server: LiveServer, reads: PostgresReads, held: Held) -> AsyncIterator[None]:
    url = str(server.chat.db.engine.url.render_as_string(hide_password=False))
    locker = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    transaction = locker.transaction()
    await transaction.start()
    await locker.execute("LOCK TABLE memberships IN ACCESS EXCLUSIVE MODE")

    def on_statement(statement: str) -> None:  # in the event loop, as the statement is sent
        if statement.startswith(MEMBERSHIPS):
            held.reached.set()

    async def unlock() -> None:
        if not locker.is_closed():
            await transaction.rollback()
            await locker.close()

    held._release.append(unlock)
    reads.on_statement = on_statement
    try:
        yield
    finally:
        reads.on_statement = None
        await held.release()
