"""The PostgreSQL send store's own connection (db/sends_postgres.py): a probe of whether the server
answers (``Database.answers``, which the writer starts beside a slow resolution) never shares a
connection with a batch being stored.

The writer cancels a probe that is still running when the resolution it watched ends, then stores
the batch at once: a probe on the store's connection was still mid-statement there, and the batch
failed with asyncpg's "another operation is in progress" (a send answered ``internal``; seen in a
CI run under load)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.records import PLAIN
from db.sends import new_message
from db.uow import Database
from server.chat.service import Chat
from server.chat_factory import build_chat
from tests.databases import fresh_postgres_database, postgres_url
from tests.support import PASSWORD
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.postgres


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    async with fresh_postgres_database(postgres_url(), migrated=True) as url:
        service = build_chat(settings_for(tmp_path / "data", database_url=url, default_topics=["lobby"]))
        await service.start()
        try:
            yield service
        finally:
            await service.stop()
            await service.db.dispose()


async def batch(db: Database, sender_id: int, topic_id: int, body: str) -> int:
    """Store one plain message; its seq."""
    row = new_message(topic_id, sender_id, body, None, datetime.now(UTC), PLAIN, (), None, (), ())
    [stored] = await db.store_messages([row])
    assert stored is not None and not isinstance(stored, Exception)
    return int(stored.seq)


async def test_a_probe_in_flight_never_shares_the_batchs_connection(chat: Chat) -> None:
    alice = await chat.users.create("alice", PASSWORD)
    assert alice.id is not None
    async with chat.db.read() as repos:
        lobby = await repos.topics.by_name("lobby")
    assert lobby is not None and lobby.id is not None
    first = await batch(chat.db, alice.id, lobby.id, "the store's connection is open")

    probe = asyncio.ensure_future(chat.db.answers(5.0))
    await asyncio.sleep(0)  # the probe's statement is on the wire
    stored = await batch(chat.db, alice.id, lobby.id, "stored while the probe runs")

    assert stored == first + 1
    assert await probe is True
    probe = asyncio.ensure_future(chat.db.answers(5.0))
    await asyncio.sleep(0)
    probe.cancel()  # as the writer does when the resolution it watched ends first
    assert await batch(chat.db, alice.id, lobby.id, "stored after a cancelled probe") == first + 2
