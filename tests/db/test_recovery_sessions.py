"""Recovery sessions' marks: a pid's ``seen_at`` only moves forward.

A refresh takes its time, then waits for the write turn; a socket's close can store its mark in
between. The later write must not put the earlier time back, or the pid's window would start
before the close (a resume refused early, on a real SQLite file and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from db.uow import Database
from tests.databases import migrated_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with migrated_database(request.param, tmp_path, "recovery") as db:
        yield db


async def seen_at(db: Database, pid: str) -> datetime:
    async with db.read() as repos:
        record = await repos.recovery.by_pid(pid)
    assert record is not None
    return record.seen_at if record.seen_at.tzinfo else record.seen_at.replace(tzinfo=UTC)


async def test_a_later_mark_moves_seen_at_forward_and_an_earlier_one_leaves_it(database):
    start = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    async with database.write() as repos:
        user = await repos.users.add("bob", "x", start, 1)
        await repos.recovery.add("pid-1", user.id, start)

    closed = start + timedelta(seconds=2)
    async with database.write() as repos:
        await repos.recovery.seen(["pid-1"], closed)  # the close's mark
    assert await seen_at(database, "pid-1") == closed

    async with database.write() as repos:
        await repos.recovery.seen(["pid-1"], start + timedelta(seconds=1))  # a refresh, stored late
    assert await seen_at(database, "pid-1") == closed
