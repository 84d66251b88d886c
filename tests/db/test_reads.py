"""``db.reads.SqliteReads``: the reads every connect makes, on one thread and connection of their own.

Each read is one hand-off to aiosqlite's thread; the connection opens at the first read, once
however many reads start together, and ``close`` ends its thread. A failed read fails alone.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.migrate import upgrade
from db.reads import SQL_CREDENTIALS, SqliteReads
from db.uow import Database


def aiosqlite_threads() -> list[threading.Thread]:
    """The aiosqlite connection threads alive in this process."""
    return [t for t in threading.enumerate() if t.name.endswith("(_connection_worker_thread)")]


def ended() -> list[threading.Thread]:
    """Join every aiosqlite thread that is ending (a closed connection's ends just after its
    ``close`` returned); the ones still alive after that."""
    for thread in aiosqlite_threads():
        thread.join(timeout=5)
    return aiosqlite_threads()


@pytest.fixture
async def stored(tmp_path: Path) -> AsyncIterator[tuple[str, int]]:
    """A migrated SQLite file with one user: (its path, the user's id)."""
    path = str(tmp_path / "reads.db")
    db = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(db.engine)
    async with db.write() as repos:
        user_id = (await repos.users.add("alice", "x", datetime.now(UTC), 7)).id
    await db.dispose()
    assert ended() == []  # the tests count threads from here
    yield path, user_id


async def test_reads_started_together_open_one_connection_on_one_thread_and_close_ends_it(stored):
    path, user_id = stored
    reads = SqliteReads(path)
    statements: list[str] = []
    reads.on_statement = statements.append
    found = await asyncio.gather(*(reads.credentials(user_id) for _ in range(50)))

    assert {(c.id, c.username, c.token_version) for c in found if c is not None} == {(user_id, "alice", 7)}
    assert len(found) == 50
    assert len(aiosqlite_threads()) == 1
    # one statement each, all on the one traced connection (the trace shows the bound values)
    assert statements == [SQL_CREDENTIALS.replace("?", str(user_id))] * 50
    await reads.close()
    assert ended() == []


async def test_each_hot_read_answers_from_the_stored_rows(stored):
    path, user_id = stored
    reads = SqliteReads(path)
    try:
        assert await reads.credentials(user_id + 1) is None
        assert await reads.topics_of(user_id) == []
        assert await reads.partners(user_id) == []
        assert await reads.backlog(user_id, 100) == []
    finally:
        await reads.close()


async def test_a_failed_read_raises_and_the_next_read_is_served(tmp_path: Path):
    path = str(tmp_path / "empty.db")  # no tables: every read fails at the database
    reads = SqliteReads(path)
    try:
        with pytest.raises(sqlite3.OperationalError):
            await reads.credentials(1)
        with pytest.raises(sqlite3.OperationalError):
            await reads.topics_of(1)
    finally:
        await reads.close()


async def test_closing_reads_that_never_read_opens_nothing(tmp_path: Path):
    reads = SqliteReads(str(tmp_path / "never.db"))
    await reads.close()
    assert not (tmp_path / "never.db").exists()  # SQLite creates the file as it connects


async def test_a_database_that_cannot_be_opened_fails_the_read_and_the_next_read_opens_it(stored, tmp_path):
    path, user_id = stored
    later = tmp_path / "not-yet" / "reads.db"  # its folder does not exist: SQLite cannot open it
    reads = SqliteReads(str(later))
    try:
        with pytest.raises(sqlite3.OperationalError):
            await reads.credentials(user_id)
        assert ended() == []  # the failed open left no thread behind

        later.parent.mkdir()
        shutil.copy(path, later)
        found = await reads.credentials(user_id)
        assert found is not None and found.username == "alice"
    finally:
        await reads.close()
    assert ended() == []
