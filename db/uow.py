"""The unit of work: the only place that opens transactions and commits.

``Database.write()`` yields repositories inside one transaction and commits
when the block ends without an exception (rolls back otherwise). Services
record domain events on the repositories (``repos.record(...)``); the unit of
work hands them to ``on_commit`` (the hub) only after the commit succeeded,
so nothing is announced that was not stored. Just before the commit, the handlers in
``before_commit`` run on what was recorded (events and facts, ``repos.note``) with the same
repositories: side effects of a change (the outbox rows of outgoing webhooks) are written in its
transaction by whoever registered for them, and the code that makes the change never names them.
With ``relay`` set (the command line,
when no Redis carries its events) the events are also written, encoded, to the
``relay`` table in the same transaction, for running servers to read. ``store_messages`` hands a
batch of new messages to the group-commit store (``db/sends.py``); it takes the same write lock
on SQLite.
SQLite has a single writer: an asyncio lock serialises write transactions in
this process so concurrent senders queue up instead of failing with
"database is locked". PostgreSQL relies on row locks instead.
A broken unique constraint reaches the caller as ``db.errors.Conflict``, never as SQLAlchemy's
exception: the domain knows nothing of SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import POOL_OVERFLOW, POOL_SIZE, POOL_WAIT, is_sqlite, make_engine, make_session_factory
from db.errors import conflict_of
from db.reads import HotReads, SqliteReads
from db.repositories import Repositories
from db.search import SearchIndex
from db.sends import NewMessage, Outcome, SendStore
from db.sends_sqlite import SqliteSendStore
from db.turns import PoolTurns


class OnCommit(Protocol):
    """Where a commit's events go: the hub's ``publish``, set by the composition (``Chat``)."""

    def __call__(self, *events: Any) -> Awaitable[None]: ...


BeforeCommit = Callable[[Repositories, Sequence[Any]], Awaitable[None]]
Encode = Callable[[list[Any]], str]
RELAY_KEEP = timedelta(minutes=10)  # relay rows older than this are pruned (servers poll every second)


# The database-specific parts, one for a URL. PostgreSQL's are imported only here, when the URL is
# PostgreSQL's: asyncpg is for PostgreSQL deployments only.


def send_store_for(url: str) -> SendStore:
    """The batch store for a database URL (SQLite file or PostgreSQL)."""
    if is_sqlite(url):
        return SqliteSendStore(make_url(url).database or ":memory:")
    from db.sends_postgres import PostgresSendStore

    return PostgresSendStore(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))


def hot_reads_for(url: str) -> HotReads:
    """The reads every connection makes (``db/reads.py``), straight on the URL's driver."""
    if is_sqlite(url):
        return SqliteReads(make_url(url).database or ":memory:")
    from db.reads_postgres import PostgresReads

    return PostgresReads(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False))


def search_index_for(url: str, sessions: async_sessionmaker[AsyncSession]) -> SearchIndex:
    """The full-text index for a URL (``db/search/``)."""
    if is_sqlite(url):
        from db.search.sqlite import SqliteSearch

        return SqliteSearch(make_url(url).database or ":memory:")
    from db.search.postgres import PostgresSearch

    return PostgresSearch(sessions)


class Database:
    """Engine, session factory and the write lock for one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url, bounded=True)
        self.sessions = make_session_factory(self.engine)
        self._write_lock = asyncio.Lock() if is_sqlite(url) else None
        # a block inside a block finds a connection; waiting for a turn is bounded as the pool is
        self.turns = PoolTurns(POOL_SIZE + POOL_OVERFLOW, POOL_WAIT)
        # A server across a network can hang (stop answering without closing): what must answer
        # in a bound on the send path bounds its reads then (``writer.RESOLVE_TIMEOUT``). SQLite is
        # a local file whose waits are this process's own queued writes.
        self.may_hang = not is_sqlite(url)
        self._sends = send_store_for(url)
        self.reads: HotReads = hot_reads_for(url)
        self.search: SearchIndex = search_index_for(url, self.sessions)  # PROTOCOL.md section 9
        self.on_commit: OnCommit | None = None
        self.before_commit: list[BeforeCommit] = []  # run in order, on every write that recorded
        self.relay: Encode | None = None

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[Repositories]:
        """Repositories for queries; nothing is committed."""
        async with self.turns.turn(), self.sessions() as session:
            yield Repositories(session)

    @contextlib.asynccontextmanager
    async def exclusive(self, key: int) -> AsyncIterator[bool]:
        """Whether this process holds the cluster's lock ``key`` for the block: on PostgreSQL a
        session-level advisory lock (``pg_try_advisory_lock``, never waited for: False while
        another node holds it) on a connection of its own, in autocommit so that no transaction
        stays open however long the block runs; released at its end (or, should the release fail,
        with the connection, which is dropped). SQLite: one process, always True."""
        if self._write_lock is not None:
            yield True
            return
        async with self.turns.turn(), self.engine.connect() as opened:
            connection = await opened.execution_options(isolation_level="AUTOCOMMIT")
            taken = await connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
            held = bool(taken.scalar_one())
            try:
                yield held
            finally:
                if held:
                    try:
                        await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    except Exception:
                        await connection.invalidate()  # a closed session holds no lock

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[Repositories]:
        """One transaction: commit on success, roll back on any exception. A unique key broken
        at the commit raises ``Conflict``, as the repositories do at an insert."""
        lock = self._write_lock or contextlib.nullcontext()
        async with lock, self.turns.turn():  # queued writers hold no turn a reader could use
            try:
                async with self.sessions() as session, session.begin():
                    repos = Repositories(session)
                    yield repos
                    if self.before_commit and (repos.events or repos.facts):
                        recorded = [*repos.events, *repos.facts]
                        for handler in self.before_commit:
                            await handler(repos, recorded)
                    if repos.events and self.relay is not None:
                        now = datetime.now(UTC)
                        await repos.relay.prune(now - RELAY_KEEP)
                        await repos.relay.add(self.relay(repos.events), now)
            except IntegrityError as exc:
                conflict = conflict_of(exc)
                if conflict is None:
                    raise
                raise conflict from exc
        if repos.events and self.on_commit is not None:
            await self.on_commit(*repos.events)

    async def store_messages(self, rows: Sequence[NewMessage]) -> list[Outcome]:
        """Store new messages in one transaction (see ``db/sends.py``); raises if nothing was."""
        lock = self._write_lock or contextlib.nullcontext()
        async with lock:
            return await self._sends.store(rows)

    async def answers(self, within: float) -> bool:
        """Whether the database answers a trivial statement within ``within`` seconds, apart
        from the serving engine's pool (the send store's own connection): what tells a database
        that hangs from one whose connections are all busy."""
        return await self._sends.answers(within)

    async def announce(self, events: list[Any]) -> None:
        """Hand events of a commit made outside ``write()`` to ``on_commit`` (a pin's system
        message, stored by the send batch; the writer itself publishes to the hub it is given)."""
        if events and self.on_commit is not None:
            await self.on_commit(*events)

    async def checkpoint(self) -> None:
        """SQLite: copy the WAL into the database file and truncate it (after an erasure: the WAL
        still holds the pages as they were before). Outside any transaction, under the write lock;
        a reader still on an older snapshot leaves the WAL as it is until the next checkpoint.
        PostgreSQL: nothing (its WAL segments are recycled by its own checkpoints)."""
        if self._write_lock is None:
            return
        async with self._write_lock, self.engine.connect() as opened:
            connection = await opened.execution_options(isolation_level="AUTOCOMMIT")
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.sessions() as session:
            await _select_one(session)

    async def dispose(self) -> None:
        await self.reads.close()
        await self.search.close()
        await self._sends.close()
        await self.engine.dispose()


async def _select_one(session: AsyncSession) -> None:
    await session.execute(text("SELECT 1"))
