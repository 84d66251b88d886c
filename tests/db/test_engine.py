"""The serving engine's bounds on PostgreSQL: a hanging server costs a read its timeout, not
asyncpg's 60 s connect timeout or an answer that never comes (``db/engine.py``)."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import make_engine
from db.errors import outage_of
from tests.postgres_instance import own_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(60)]
BOUND = 1.0  # the test's own timeouts, so that it runs in seconds
CLOSE = 2.0  # SQLAlchemy's graceful close of a connection that stopped answering


async def select_one(engine: AsyncEngine) -> float:
    """Seconds until ``SELECT 1`` failed; raises if it succeeded."""
    started = time.monotonic()
    with pytest.raises(Exception) as failed:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    assert outage_of(failed.value) is not None, failed.value  # answered as an outage, not a bug
    return time.monotonic() - started


async def test_a_hanging_postgres_fails_a_bounded_engines_statement_and_new_connection_within_its_bounds():
    async with own_postgres() as pg:
        pooled = make_engine(pg.url, bounded=True, connect_timeout=BOUND, command_timeout=BOUND)
        fresh = make_engine(pg.url, bounded=True, connect_timeout=BOUND, command_timeout=BOUND)
        try:
            async with pooled.connect() as connection:  # the pool keeps it: the next use pings it
                await connection.execute(text("SELECT 1"))
            pg.pause()
            try:
                on_pooled = await select_one(pooled)
                on_new = await select_one(fresh)
            finally:
                pg.resume()
            async with pooled.connect() as connection:  # answers again once the server does
                assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
        finally:
            await asyncio.gather(pooled.dispose(), fresh.dispose())

    assert BOUND <= on_pooled < BOUND + CLOSE + 1.0, on_pooled
    assert BOUND <= on_new < BOUND + 1.0, on_new
