"""The search index backfill (``SearchService.start``) waits out the database's outage: it is
tried again with backoff until PostgreSQL answers, logged once, never given up on."""

from __future__ import annotations

import asyncio
import logging

import pytest

from db.migrate import upgrade
from db.uow import Database
from server.chat.search.service import SearchService
from tests.chat.kernel.test_periodic import recorded
from tests.postgres_instance import own_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(60)]
WITHIN = 15.0


async def test_the_backfill_started_while_postgres_is_down_completes_once_it_is_back():
    async with own_postgres() as pg:
        db = Database(pg.url)
        try:
            await upgrade(db.engine)
            await db.engine.dispose()  # its pooled connections would die with the server anyway
            search = SearchService(db)
            with recorded() as records:
                await asyncio.to_thread(pg.stop)
                search.start()

                async def met_the_outage() -> None:
                    while not any(r.name == "parley.database" for r in records.records):
                        await asyncio.sleep(0.02)  # the backfill's task logs it: nothing to await

                await asyncio.wait_for(met_the_outage(), WITHIN)
                await asyncio.to_thread(pg.start)
                await asyncio.wait_for(search.caught_up(), WITHIN)

            assert [r for r in records.records if r.exc_info] == []
            said = [r.getMessage() for r in records.records if r.levelno >= logging.INFO]
            assert len(said) == 2 and "answers again" in said[-1], said
        finally:
            await db.dispose()
