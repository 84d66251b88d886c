"""Load is not an outage: a send that waits for a pooled connection is stored once one frees.

On PostgreSQL the writer refuses a send whose resolution hangs (``internal`` "the database is
unavailable"): tests/scaleout/test_postgres_restart.py holds that for a stopped and a paused
server. A healthy server whose connections are all busy is not hanging: each send waits its turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from db.engine import POOL_OVERFLOW, POOL_SIZE
from db.turns import NESTED_RESERVE
from server.chat.conversations.writer import RESOLVE_TIMEOUT
from server.chat.kernel.actors import Actor
from server.chat.kernel.schemas import MessageOut, Target
from server.chat.service import Chat
from server.config import Settings
from tests.databases import fresh_postgres_database, postgres_url
from tests.support import PASSWORD, WAIT
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.postgres
HELD_FOR = RESOLVE_TIMEOUT + 1.5  # seconds each of the pool's connections is held: past the bound
PEOPLE = 8


@pytest.fixture
async def chat_settings(tmp_path: Path) -> AsyncIterator[Settings]:
    """tests/chat/conftest.py's ``chat``, on a fresh PostgreSQL database."""
    async with fresh_postgres_database(postgres_url(), migrated=True) as url:
        yield settings_for(tmp_path / "data", database_url=url)


async def hold_a_connection(chat: Chat) -> None:
    """A long read (``pg_sleep``) on one of the serving engine's pooled connections."""
    async with chat.db.read() as repos:
        await repos.session.execute(text("SELECT pg_sleep(:seconds)"), {"seconds": HELD_FOR})


async def test_sends_wait_for_a_pooled_connection_and_none_is_refused(chat: Chat) -> None:
    alice = await chat.users.create("alice", PASSWORD)
    assert alice.id is not None
    sender = Actor(id=alice.id, username=alice.username)
    for n in range(PEOPLE):
        await chat.users.create(f"friend{n}", PASSWORD)
    await chat.directory.forget_all()  # nothing cached: each send must read whom it goes to
    pool = chat.db.engine.pool
    # Every connection a block may hold (db/turns.py keeps the rest for blocks opened inside one)
    busy = chat.db.turns.outer
    assert busy == POOL_SIZE + POOL_OVERFLOW - NESTED_RESERVE
    holders = [asyncio.create_task(hold_a_connection(chat)) for _ in range(busy)]
    async with asyncio.timeout(WAIT):
        while pool.checkedout() < busy:  # type: ignore[attr-defined]
            await asyncio.sleep(0.01)  # every turn taken: polled, the pool has no event for it
    started = time.monotonic()

    outcomes = await asyncio.gather(
        *(chat.messages.send(sender, Target(user=f"friend{n}"), "hello", f"c{n}") for n in range(PEOPLE)),
        return_exceptions=True,
    )

    waited = time.monotonic() - started
    await asyncio.gather(*holders)
    assert all(isinstance(o, MessageOut) for o in outcomes), outcomes  # none refused as unavailable
    assert waited > RESOLVE_TIMEOUT  # they did wait past the bound: for the pool, not for a hang
    async with chat.db.read() as repos:
        stored = await repos.session.execute(
            text("SELECT count(*) FROM messages WHERE sender_id = :id AND body = 'hello'"), {"id": alice.id}
        )
    assert stored.scalar_one() == PEOPLE
