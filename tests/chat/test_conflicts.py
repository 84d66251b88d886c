"""The services answer ``conflict`` for a ``db.errors.Conflict``, the race their checks cannot see.

A name is claimed before it is checked (``db/conversations/names.py``), so two services never
race; a row written without a claim (a manual insert, an older server) still can. On PostgreSQL
such a row, inserted and not yet committed, is invisible to the service's check, and the
service's insert waits on it: the commit makes that insert break the unique key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from db import migrate
from db.errors import Conflict
from db.uow import Database
from server.chat.kernel.errors import ChatError, ErrorCode
from server.chat.service import Chat
from server.chat_factory import build_chat
from tests.databases import fresh_postgres_database, postgres_url
from tests.support import PASSWORD
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.postgres


@pytest.fixture
async def on_postgres(tmp_path: Path) -> AsyncIterator[tuple[Chat, Database]]:
    """A chat service and, beside it, a second engine on the same PostgreSQL database."""
    async with fresh_postgres_database(postgres_url(), migrated=True) as url:
        chat = build_chat(settings_for(tmp_path / "data", database_url=url))
        await migrate.upgrade(chat.db.engine)
        other = Database(url)
        try:
            yield chat, other
        finally:
            await other.dispose()
            await chat.db.dispose()


async def waiting_on_a_lock(db: Database) -> None:
    """Until some backend of this database waits for a row or index lock (the service's insert)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while True:
        async with db.sessions() as session:
            if (await session.execute(query)).scalar_one():
                return
        await asyncio.sleep(0.01)


async def test_a_name_stored_meanwhile_without_a_claim_is_a_conflict(on_postgres):
    chat, other = on_postgres
    async with other.write() as repos:  # no claim: the insert a manual one would be
        await repos.users.add("carol", "x", datetime.now(UTC), 1)
        registering = asyncio.ensure_future(chat.users.create("Carol", PASSWORD))
        await waiting_on_a_lock(other)
    with pytest.raises(ChatError) as caught:
        await registering

    assert caught.value.code is ErrorCode.CONFLICT
    assert "taken" in caught.value.message
    assert isinstance(caught.value.__cause__, Conflict)
