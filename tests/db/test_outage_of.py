"""``db.errors.outage_of``: which failures are the database's outage (answered "unavailable",
logged once per class, retried) and which are not (a bug or bad data: a traceback, as before).
Each exception is a real one, raised by asyncpg or SQLAlchemy against a PostgreSQL of the
test's own that is stopped or whose backends are terminated."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from db.errors import outage_of
from tests.postgres_instance import own_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(60)]


async def raised(call: Callable[[], Awaitable[object]]) -> BaseException:
    try:
        await call()
    except Exception as exc:
        return exc
    raise AssertionError("it did not fail")


async def test_a_stopped_or_ending_server_and_a_dropped_connection_are_outages_bad_sql_is_not():
    async with own_postgres() as pg:
        engine = create_async_engine(pg.url)  # no pre-ping: the dropped connection is met as it is
        driver = await asyncpg.connect(pg.dsn)
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                bad_sql = await raised(lambda: connection.execute(text("SELECT nonsense FROM nowhere")))
            assert outage_of(bad_sql) is None
            assert (
                outage_of(
                    await raised(
                        lambda: driver.execute("CREATE TABLE t (id int UNIQUE);INSERT INTO t VALUES (1), (1)")
                    )
                )
                is None
            )

            await pg.terminate_backends()
            assert outage_of(await raised(lambda: driver.fetchval("SELECT 1"))) is not None

            async def through_sqlalchemy() -> None:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))

            assert outage_of(await raised(through_sqlalchemy)) is not None  # wrapped, found inside

            await asyncio.to_thread(pg.stop)
            assert outage_of(await raised(lambda: asyncpg.connect(pg.dsn))) == "ConnectionRefusedError"
            assert outage_of(await raised(through_sqlalchemy)) == "ConnectionRefusedError"
        finally:
            driver.terminate()
            await engine.dispose()


def test_other_failures_are_not_outages():
    assert outage_of(ValueError("a bug")) is None
    assert outage_of(sqlite3.IntegrityError("UNIQUE constraint failed")) is None
    try:
        raise RuntimeError("wrapped") from KeyError("inner")
    except RuntimeError as exc:
        assert outage_of(exc) is None
    try:
        raise RuntimeError("wrapped") from ConnectionResetError(104, "reset")
    except RuntimeError as exc:
        assert outage_of(exc) == "ConnectionResetError"
