"""Hold a connection's set-up at its first database read, so a test can act in that window.

A connection is authenticated, then reads the user's memberships, then is registered where a
logout finds it. ``held_membership_reads`` stops that read at the database: on SQLite the
hot-read thread waits inside the statement (its trace hook, which the statement runs), on
PostgreSQL another connection holds an exclusive lock on ``memberships`` (the hot reads' hook
tells when the statement is sent). ``reached`` is set
when the read has started; leaving the block (or ``release``) lets it finish. Nothing of the
server is replaced: the read is just slow.

``held_statements`` holds any statement of the serving engine on SQLite the same way (the
connection's thread waits in the statement's trace hook), while the loop serves on.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import event

from db.reads import SQL_OPENINGS, SqliteReads
from db.reads_postgres import PostgresReads
from db.uow import Database
from tests.support import WAIT, LiveServer

HOLD_AT_MOST = 3 * WAIT  # a test that never releases does not hang the database thread forever
STEPS = 20  # SQLite steps between two calls of the progress hook: the read has begun by the first
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


Hooks = tuple[Callable[[str], None], Callable[[], int]]  # a SQLite connection's trace and progress hooks


def _mid_statement(held: Held, matches: Callable[[str], bool]) -> Hooks:
    """The two hooks of a SQLite connection that hold a statement in the middle of its run, in the
    connection's own thread: the trace hook notes, as each statement starts, whether it
    ``matches``; the progress hook (every ``STEPS`` steps) waits inside one that does until
    released. By then its read has begun: it sees the database as it was then (as a statement on
    PostgreSQL sees its snapshot), and its rows are not back."""
    loop = asyncio.get_running_loop()
    running = threading.local()

    def on_statement(statement: str) -> None:
        running.held = matches(statement)

    def on_progress() -> int:
        if getattr(running, "held", False):
            running.held = False
            loop.call_soon_threadsafe(held.reached.set)
            held.released.wait(HOLD_AT_MOST)
        return 0  # go on

    return on_statement, on_progress


@asynccontextmanager
async def _sqlite(reads: SqliteReads, held: Held) -> AsyncIterator[None]:
    """The read waits in the middle of its run, in the hot reads' thread (``_mid_statement``)."""
    on_statement, on_progress = _mid_statement(
        held, lambda statement: statement.startswith(MEMBERSHIPS) and not held.released.is_set()
    )
    connection = reads._connection or await reads._open()
    await connection.set_progress_handler(on_progress, STEPS)
    reads.on_statement = on_statement
    try:
        yield
    finally:
        held.released.set()
        reads.on_statement = None
        await connection.set_progress_handler(None, STEPS)


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


@asynccontextmanager
async def held_statements(db: Database, starting: str) -> AsyncIterator[Held]:
    """Until released, the next statement (only that one) of the serving engine (SQLite) that
    starts with ``starting`` waits in the middle of its run, in its connection's thread
    (aiosqlite's: ``_mid_statement``), while the loop goes on serving. The pooled connections are
    opened again with the hooks."""
    held = Held()
    taken = threading.Lock()  # by the statement held: one only
    on_statement, on_progress = _mid_statement(
        held, lambda statement: statement.startswith(starting) and taken.acquire(blocking=False)
    )

    async def hooked(raw: Any) -> None:
        await raw.set_trace_callback(on_statement)
        await raw.set_progress_handler(on_progress, STEPS)

    def traced(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.run_async(hooked)

    event.listen(db.engine.sync_engine, "connect", traced)
    await db.engine.dispose()  # the idle connections go: the next ones are opened with the hooks
    try:
        yield held
    finally:
        held.released.set()
        event.remove(db.engine.sync_engine, "connect", traced)
        await db.engine.dispose()
