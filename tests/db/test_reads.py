"""``db.reads``: the reads every connect makes, straight on the driver, on connections of their own.

On SQLite each read is one hand-off to aiosqlite's thread; on PostgreSQL one query from a small
asyncpg pool. Either opens at the first read, once however many reads start together, and
``close`` ends it. A failed read fails alone. What the reads answer (backlog, replay) is pinned
on both databases by the Socket.IO suites (``tests/edge/sio/test_delivery.py``,
``test_recovery.py``, ``test_conversations.py``); here: the rows they read, and their plumbing.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from db.connections.records import Opening
from db.migrate import upgrade
from db.reads import SQL_CREDENTIALS, DirectReads, SqliteReads
from db.reads_postgres import POOL_SIZE, PostgresReads
from db.uow import Database, hot_reads_for
from tests.databases import database_url, fresh_postgres_database, postgres_url


def aiosqlite_threads() -> list[threading.Thread]:
    """The aiosqlite connection threads alive in this process."""
    return [t for t in threading.enumerate() if t.name.endswith("(_connection_worker_thread)")]


class Threads:
    """The aiosqlite threads a test starts. A worker process may hold others meanwhile (a
    module's live server of another file, on the same xdist worker): those are not the test's,
    and joining them would wait for a server that is still serving (a CI run failed on six)."""

    def __init__(self) -> None:
        self.before = set(aiosqlite_threads())

    def started(self) -> list[threading.Thread]:
        return [thread for thread in aiosqlite_threads() if thread not in self.before]

    def ended(self) -> list[threading.Thread]:
        """Join the test's threads that are ending (a closed connection's ends just after its
        ``close`` returned); the ones still alive after that."""
        for thread in self.started():
            thread.join(timeout=5)
        return self.started()


@pytest.fixture
def threads() -> Threads:
    return Threads()


async def with_alice(url: str) -> int:
    """Migrate the database at ``url`` and store one user, alice (token version 7); her id."""
    db = Database(url)
    try:
        await upgrade(db.engine)
        async with db.write() as repos:
            return (await repos.users.add("alice", "x", datetime.now(UTC), 7)).id
    finally:
        await db.dispose()


@pytest.fixture
async def stored(tmp_path: Path, threads: Threads) -> AsyncIterator[tuple[str, int]]:
    """A migrated SQLite file with one user: (its path, the user's id)."""
    path = str(tmp_path / "reads.db")
    user_id = await with_alice(f"sqlite+aiosqlite:///{path}")
    assert threads.ended() == []  # the tests count threads from here
    yield path, user_id


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def reads(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[DirectReads, int]]:
    """The hot reads of a migrated database with alice in it, on each database; her id."""

    async with database_url(request.param, tmp_path, "reads") as url:
        user_id = await with_alice(url)
        hot = hot_reads_for(url)
        assert isinstance(hot, DirectReads)
        try:
            yield hot, user_id
        finally:
            await hot.close()


async def test_each_hot_read_answers_from_the_stored_rows(reads):
    hot, user_id = reads
    alice = await hot.credentials(user_id)
    assert alice is not None
    assert (alice.id, alice.username, alice.token_version, alice.active, alice.bot) == (
        user_id,
        "alice",
        7,
        True,
        False,
    )
    assert await hot.credentials(user_id + 1) is None
    assert await hot.availability(user_id) == ("auto", False)
    assert await hot.availability(user_id + 1) is None
    assert await hot.opening(user_id) == Opening(alice, [], ("auto", False))  # in no topic
    assert await hot.opening(user_id + 1) == Opening(None, [], None)
    assert await hot.partners(user_id) == []
    assert await hot.backlog(user_id, 100) == []
    assert await hot.replay(user_id, 1, 0.5, 100) == []


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_the_availability_read_answers_what_was_chosen_and_whether_the_user_is_idle(kind, tmp_path):
    async with database_url(kind, tmp_path, "availability") as url:
        user_id = await with_alice(url)
        db = Database(url)
        try:
            async with db.write() as repos:
                await repos.users.update_fields(user_id, availability="dnd", idle=True)
            assert await db.reads.availability(user_id) == ("dnd", True)
        finally:
            await db.dispose()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_the_opening_read_answers_every_membership_with_the_availability_in_one_statement(
    kind, tmp_path
):
    async with database_url(kind, tmp_path, "opening") as url:
        alice = await with_alice(url)
        db = Database(url)
        try:
            async with db.write() as repos:
                now = datetime.now(UTC)
                den = await repos.topics.add("den", "private", now, alice)
                lobby = await repos.topics.add("lobby", "public", now, alice)
                for topic in (lobby, den):
                    await repos.memberships.add(topic, alice, "member", now)
                await repos.users.update_fields(alice, availability="away", idle=True)
            ids = {den.id: "private", lobby.id: "public"}
            assert isinstance(db.reads, DirectReads)
            seen: list[str] = []
            db.reads.on_statement = seen.append

            opening = await db.reads.opening(alice)

            assert opening == Opening(await db.reads.credentials(alice), sorted(ids.items()), ("away", True))
            assert opening.credentials is not None and opening.credentials.username == "alice"
            assert len(seen) == 2  # the opening, then the credentials alone to compare
        finally:
            await db.dispose()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_the_topic_members_read_answers_a_topics_kind_and_members_by_name_in_any_case(kind, tmp_path):
    async with database_url(kind, tmp_path, "members") as url:
        alice = await with_alice(url)
        db = Database(url)
        try:
            async with db.write() as repos:
                now = datetime.now(UTC)
                bob = (await repos.users.add("Bob", "x", now, 0)).id
                den = await repos.topics.add("Den", "private", now, alice)
                await repos.topics.add("empty", "public", now, alice)
                for user_id in (alice, bob):
                    await repos.memberships.add(den, user_id, "member", now)
            kind_of, ids, names = await db.reads.topic_members("dEN") or ("", [], [])
            assert (kind_of, sorted(zip(ids, names, strict=True))) == (
                "private",
                [(alice, "alice"), (bob, "Bob")],
            )
            assert await db.reads.topic_members("EMPTY") == ("public", [], [])
            assert await db.reads.topic_members("nowhere") is None
        finally:
            await db.dispose()


async def test_every_read_goes_past_the_statement_hook(reads):
    hot, user_id = reads
    seen: list[str] = []
    hot.on_statement = seen.append
    await hot.credentials(user_id)
    await hot.opening(user_id)
    await hot.partners(user_id)
    await hot.backlog(user_id, 100)
    firsts = [statement.split()[:2] for statement in seen]
    assert firsts == [
        ["SELECT", "id,"],
        ["SELECT", "u.id,"],
        ["SELECT", "DISTINCT"],
        ["SELECT", "g.id,"],
    ]


async def test_sqlite_reads_started_together_open_one_connection_on_one_thread_and_close_ends_it(
    stored, threads
):
    path, user_id = stored
    reads = SqliteReads(path)
    statements: list[str] = []
    reads.on_statement = statements.append

    found = await asyncio.gather(*(reads.credentials(user_id) for _ in range(50)))

    assert {(c.id, c.username, c.token_version) for c in found if c is not None} == {(user_id, "alice", 7)}
    assert len(found) == 50
    assert len(threads.started()) == 1
    # one statement each, all on the one traced connection (the trace shows the bound values)
    assert statements == [SQL_CREDENTIALS.replace("?", str(user_id))] * 50
    await reads.close()
    assert threads.ended() == []


@asynccontextmanager
async def postgres_reads() -> AsyncIterator[tuple[PostgresReads, asyncpg.Connection, int]]:
    """A fresh migrated PostgreSQL database with alice: its hot reads, a connection of the test's
    own to watch ``pg_stat_activity`` from, and alice's id; both closed at the end."""
    async with fresh_postgres_database(postgres_url(), migrated=True) as url:
        user_id = await with_alice(url)
        reads = hot_reads_for(url)
        assert isinstance(reads, PostgresReads)
        watcher = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            yield reads, watcher, user_id
        finally:
            await reads.close()
            await watcher.close()


@pytest.mark.postgres
async def test_postgres_reads_started_together_share_a_small_pool_and_none_after_close():
    count = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    async with postgres_reads() as (reads, watcher, user_id):
        found = await asyncio.gather(*(reads.credentials(user_id) for _ in range(50)))
        assert [c.username for c in found if c is not None] == ["alice"] * 50
        assert 1 <= await watcher.fetchval(count) <= POOL_SIZE
        await reads.close()
        with pytest.raises(ConnectionAbortedError):  # a read after close opens no pool of its own
            await reads.credentials(user_id)


@pytest.mark.postgres
async def test_postgres_reads_give_their_connection_back_without_asyncpgs_reset_statement():
    """PostgreSQL's own record of the read's backend: its last statement is the read, not
    asyncpg's reset (``... RESET ALL``), a round trip per read that these reads never need."""
    last = (
        "SELECT query FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND state = 'idle'"
    )
    async with postgres_reads() as (reads, watcher, user_id):
        found = await reads.credentials(user_id)
        assert found is not None and found.username == "alice"
        assert [row["query"].split()[0] for row in await watcher.fetch(last)] == ["SELECT"]
        assert all("RESET ALL" not in row["query"] for row in await watcher.fetch(last))


async def test_a_failed_read_raises_and_the_next_read_is_served(tmp_path: Path):
    path = str(tmp_path / "empty.db")  # no tables: every read fails at the database
    reads = SqliteReads(path)
    try:
        with pytest.raises(sqlite3.OperationalError):
            await reads.credentials(1)
        with pytest.raises(sqlite3.OperationalError):
            await reads.opening(1)
    finally:
        await reads.close()


async def test_a_read_after_close_is_refused_and_leaves_no_connection_open(stored, threads):
    """A server's stop closes its reads while a handler it did not wait for may still read:
    that read is refused, where it used to open a connection (and a thread) no one closed."""
    path, user_id = stored
    reads = SqliteReads(path)
    assert await reads.credentials(user_id) is not None
    await reads.close()

    with pytest.raises(ConnectionAbortedError):
        await reads.credentials(user_id)
    assert threads.ended() == []


async def test_closing_reads_that_never_read_opens_nothing(tmp_path: Path):
    reads = SqliteReads(str(tmp_path / "never.db"))
    await reads.close()
    assert not (tmp_path / "never.db").exists()  # SQLite creates the file as it connects


async def test_a_database_that_cannot_be_opened_fails_the_read_and_the_next_read_opens_it(
    stored, tmp_path, threads
):
    path, user_id = stored
    later = tmp_path / "not-yet" / "reads.db"  # its folder does not exist: SQLite cannot open it
    reads = SqliteReads(str(later))
    try:
        with pytest.raises(sqlite3.OperationalError):
            await reads.credentials(user_id)
        assert threads.ended() == []  # the failed open left no thread behind

        later.parent.mkdir()
        shutil.copy(path, later)
        found = await reads.credentials(user_id)
        assert found is not None and found.username == "alice"
    finally:
        await reads.close()
    assert threads.ended() == []


@pytest.mark.postgres
async def test_postgres_reads_survive_the_server_dropping_their_connections():
    """A restart or a failover ends the pool's connections under it; SQLAlchemy's pre-ping hid
    that from the reads before, and a read is safe to run again: the next read is served."""
    async with fresh_postgres_database(postgres_url(), migrated=True) as url:
        user_id = await with_alice(url)
        reads = hot_reads_for(url)
        killer = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            await asyncio.gather(*(reads.credentials(user_id) for _ in range(10)))  # the pool is open
            ended = await killer.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            assert ended >= 1
            found = await asyncio.gather(*(reads.credentials(user_id) for _ in range(10)))
            assert [c.username for c in found if c is not None] == ["alice"] * 10
        finally:
            await reads.close()
            await killer.close()
