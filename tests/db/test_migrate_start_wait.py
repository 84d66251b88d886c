"""A starting node waits for its database (``db.migrate.upgrade``), as it waits for Redis.

A node started beside PostgreSQL, or whose first connect timed out on a loaded machine (a
clean-clone run: one TCP connect to 127.0.0.1:5432 took over 5 s, and the node's start failed),
tries again every second for up to ``wait`` seconds, saying so in the log; past that the start
fails with the last error.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from db.engine import make_engine
from db.migrate import upgrade
from tests.postgres_instance import own_postgres


async def test_a_database_that_answers_late_is_waited_for_and_migrated(caplog):
    async with own_postgres() as pg:
        await asyncio.to_thread(pg.stop)
        engine = make_engine(pg.url)
        try:
            with caplog.at_level(logging.WARNING, logger="parley.migrations"):
                migrating = asyncio.ensure_future(upgrade(engine, wait=60.0))
                async with asyncio.timeout(30):
                    while not any("does not answer yet" in r.getMessage() for r in caplog.records):
                        assert not migrating.done(), migrating.result()
                        await asyncio.sleep(0.05)
                await asyncio.to_thread(pg.start)
                await asyncio.wait_for(migrating, 60)
            async with engine.connect() as connection:
                version = await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
                assert version.scalar_one()
        finally:
            await engine.dispose()


async def test_a_database_that_never_answers_fails_the_start_once_the_wait_is_over():
    async with own_postgres() as pg:
        await asyncio.to_thread(pg.stop)
        engine = make_engine(pg.url)
        try:
            with pytest.raises(OSError):
                await upgrade(engine, wait=1.5)
        finally:
            await engine.dispose()
