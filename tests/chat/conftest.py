"""Fixtures for calling the chat services directly: a migrated SQLite file and a recording sink."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from db import migrate
from db.uow import Database
from server.chat.kernel.actors import Actor
from server.chat.kernel.events import Event, MessageCreated, MessageEdited
from server.chat.service import Chat
from server.chat_factory import build_chat
from server.config import Settings
from tests.databases import fresh_postgres_database, postgres_url
from tests.support import PASSWORD
from tests.support import test_settings as settings_for

E = TypeVar("E")


class RecordingSink:
    """Keeps every published event, and whether its message was already committed then.

    The check reads through a separate session: under SQLite WAL it sees only
    committed rows, so it tells "published after commit" from "published inside
    the transaction".
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.events: list[Event] = []
        self.committed: list[bool] = []

    async def deliver(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, MessageCreated | MessageEdited):
            async with self.db.read() as repos:
                stored = await repos.messages.by_id(event.message.id)
            self.committed.append(stored is not None and stored.body == event.message.body)

    def of(self, kind: type[E]) -> list[E]:
        return [event for event in self.events if isinstance(event, kind)]

    def clear(self) -> None:
        self.events.clear()
        self.committed.clear()


@pytest.fixture
async def chat_settings(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Settings]:
    """The settings ``chat`` is built with (a test module may override this fixture): SQLite, or a
    fresh PostgreSQL database for a test parametrized with ``ON_BOTH_DATABASES``."""
    if getattr(request, "param", "sqlite") == "postgres":
        async with fresh_postgres_database(postgres_url(), migrated=True) as url:
            yield settings_for(tmp_path / "data", database_url=url)
    else:
        yield settings_for(tmp_path / "data")


ON_BOTH_DATABASES = pytest.mark.parametrize(
    "chat_settings", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
"""A test of ``chat`` run on SQLite and on PostgreSQL (their statements differ)."""


@pytest.fixture
async def chat(chat_settings: Settings) -> AsyncIterator[Chat]:
    """The whole chat service over a fresh, migrated SQLite file, started and stopped."""
    service = build_chat(chat_settings)
    await migrate.upgrade(service.db.engine)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
        await service.db.dispose()


@pytest.fixture
def sink(chat: Chat) -> RecordingSink:
    recorder = RecordingSink(chat.db)
    chat.hub.attach(recorder)
    return recorder


@pytest.fixture
def make_user(chat: Chat) -> Callable[[str], Awaitable[Actor]]:
    """Create an account (it joins the default ``lobby``) and return it as an Actor."""

    async def make(name: str) -> Actor:
        user = await chat.users.create(name, PASSWORD)
        assert user.id is not None
        return Actor(id=user.id, username=user.username)

    return make


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
        async with fresh_postgres_database(postgres_url(), migrated=True) as url:
            async for chats in pair(url):
                yield chats
    else:
        async for chats in pair(None):
            yield chats
