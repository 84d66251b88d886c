"""``Database.before_commit``: handlers run on what a transaction recorded, inside it.

The outgoing webhooks (and the integrations after them) listen here instead of being called by
the code that makes a change, so what these tests pin is what makes that safe: a handler's rows
commit or roll back with the change, a handler sees the noted facts as well as the events, the
facts are never published, and a write that recorded nothing runs no handler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from db.models import Topic
from db.repositories import Repositories
from db.uow import Database
from tests.databases import migrated_database
from tests.support import rows_in


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with migrated_database(request.param, tmp_path, "before_commit") as db:
        yield db


class TopicPerFact:
    """A handler that writes a row per fact it sees, and remembers every call."""

    def __init__(self) -> None:
        self.calls: list[list[object]] = []

    async def __call__(self, repos: Repositories, recorded: Sequence[object]) -> None:
        self.calls.append(list(recorded))
        for fact in recorded:
            if isinstance(fact, str):
                await repos.topics.add(fact, "public", datetime.now(UTC))
                repos.record(("made", fact))


async def topics(db: Database) -> int:
    async with db.read() as repos:
        return await rows_in(repos, Topic)


async def test_a_handler_sees_the_events_and_the_facts_and_its_rows_commit_with_the_change(database):
    handler = TopicPerFact()
    published: list[list[object]] = []

    async def publish(*events: object) -> None:
        published.append(list(events))

    database.before_commit.append(handler)
    database.on_commit = publish
    async with database.write() as repos:
        repos.record(("event", 1))
        repos.note("lobby")

    assert handler.calls == [[("event", 1), "lobby"]]
    assert await topics(database) == 1
    assert published == [[("event", 1), ("made", "lobby")]]  # the handler's event; never the fact


async def test_a_failed_change_takes_the_handlers_rows_with_it(database):
    handler = TopicPerFact()
    database.before_commit.append(handler)
    with pytest.raises(RuntimeError):
        async with database.write() as repos:
            repos.note("lobby")
            raise RuntimeError("the change fails")

    assert handler.calls == []
    assert await topics(database) == 0


async def test_a_failing_handler_rolls_the_change_back(database):
    async def refuse(repos: Repositories, recorded: Sequence[object]) -> None:
        raise RuntimeError("the handler fails")

    database.before_commit.append(TopicPerFact())
    database.before_commit.append(refuse)
    with pytest.raises(RuntimeError, match="handler fails"):
        async with database.write() as repos:
            repos.note("lobby")

    assert await topics(database) == 0


async def test_a_write_that_recorded_nothing_runs_no_handler(database):
    handler = TopicPerFact()
    database.before_commit.append(handler)
    async with database.write() as repos:
        await repos.topics.add("quiet", "public", datetime.now(UTC))

    assert handler.calls == []
    assert await topics(database) == 1
