"""The async engine and the session factory.

SQLite is the embedded default: every connection gets WAL, foreign keys,
a busy timeout, synchronous=NORMAL and secure_delete. On PostgreSQL a serving engine (``bounded``) opens each
connection within ``CONNECT_TIMEOUT`` and ends any statement (the pool's pre-ping too) past
``COMMAND_TIMEOUT``: without them asyncpg waits 60 s for a connection to a server that hangs and
forever for a statement's answer, and the workers and requests that read meanwhile with it (a
partition that drops packets without a reset is such a hang). Migrations and the export command
build theirs unbounded: an index built over a large table may rightly take longer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=NORMAL",
    # What is deleted or overwritten is zeroed in its page (and a freed page whole), so an erased
    # person's words do not outlive their rows in the file (PROTOCOL.md section 16; the cost of a
    # send, measured: docs/retention.md).
    "PRAGMA secure_delete=ON",
)


def is_sqlite(url: str) -> bool:
    """True for any SQLite URL (the embedded default)."""
    return url.startswith("sqlite")


CONNECT_TIMEOUT = 5.0  # seconds, as the hot reads' pool (db/reads_postgres.py)
COMMAND_TIMEOUT = 30.0  # seconds: the serving engine's statements are batched to take far less
# The serving engine's pool (SQLAlchemy's defaults, named: tests/chat/conversations/
# test_writer_under_load.py holds every connection). A request or a send that finds them all busy
# waits its turn, up to POOL_WAIT; load is not an outage.
POOL_SIZE, POOL_OVERFLOW, POOL_WAIT = 5, 10, 30.0


def make_engine(
    url: str,
    bounded: bool = False,
    connect_timeout: float = CONNECT_TIMEOUT,
    command_timeout: float = COMMAND_TIMEOUT,
) -> AsyncEngine:
    """Create the engine; on SQLite, apply the pragmas on every new connection; on PostgreSQL,
    ``bounded`` gives its connections the two timeouts (the module's docstring says why)."""
    if is_sqlite(url):
        engine = create_async_engine(url, pool_pre_ping=False)
        event.listen(engine.sync_engine, "connect", _apply_sqlite_pragmas)
        return engine
    bounds = {"timeout": connect_timeout, "command_timeout": command_timeout} if bounded else {}
    return create_async_engine(
        url,
        pool_pre_ping=True,
        connect_args=bounds,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_timeout=POOL_WAIT,
    )


def _apply_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (no lazy reloads)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
