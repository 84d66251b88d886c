"""Servers starting together on one database each ensure the default topics exist."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from db import migrate
from server.chat.service import Chat
from server.chat_factory import build_chat
from tests.databases import fresh_postgres_database, postgres_url
from tests.support import test_settings as settings_for

NAMES = [f"topic{i}" for i in range(20)]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def two_nodes(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Chat, Chat]]:
    """Two chat services (two engines, two write locks) on one database, as two servers have."""

    async def pair(url: str | None) -> AsyncIterator[tuple[Chat, Chat]]:
        settings = settings_for(tmp_path / "data", database_url=url)
        first, second = build_chat(settings), build_chat(settings)
        await migrate.upgrade(first.db.engine)
        try:
            yield first, second
        finally:
            await first.db.dispose()
            await second.db.dispose()

    if request.param == "postgres":
        async with fresh_postgres_database(postgres_url()) as url:
            async for chats in pair(url):
                yield chats
    else:
        async for chats in pair(None):
            yield chats


async def test_two_servers_ensuring_the_same_topics_at_once_both_succeed_and_make_each_once(two_nodes):
    first, second = two_nodes
    for name in NAMES:
        await asyncio.gather(first.topics.ensure_public(name), second.topics.ensure_public(name))
    async with first.db.read() as repos:
        for name in NAMES:
            assert (await repos.topics.by_name(name)) is not None
    listed = await first.topic_admin.list()
    assert sorted(t.name for t in listed.topics) == sorted(NAMES)
