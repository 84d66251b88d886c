"""The previews' cache (``db/previews/repository.py``) on both databases: one claim wins per URL,
a dead worker's claim is taken over once its lease ends, and the prune forgets what nobody uses
while keeping every picture a message still shows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from db.models import MessagePreviewImage
from db.previews.repository import NONE, READY
from db.uow import Database
from tests.databases import migrated_database

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
PICTURE = (b"\x89PNG fake", "image/png", 10, 10)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with migrated_database(request.param, tmp_path, "previews") as db:
        yield db


async def claim(db: Database, key: str, at: datetime) -> bool:
    async with db.write() as repos:
        return await repos.previews.claim(key, f"https://example.com/{key}", at, at + LEASE)


async def test_one_claim_wins_until_the_entry_expires_or_its_lease_ends(database):
    assert await claim(database, "a", NOW)
    assert not await claim(database, "a", NOW)  # another worker is fetching it
    assert await claim(database, "a", NOW + LEASE + timedelta(seconds=1))  # that worker died
    async with database.write() as repos:
        await repos.previews.store("a", READY, NOW + timedelta(days=1), title="A", now=NOW)
        assert (await repos.previews.cached("a", NOW)).title == "A"  # type: ignore[union-attr]
    assert not await claim(database, "a", NOW + timedelta(hours=1))  # fresh: read it, fetch nothing
    assert await claim(database, "a", NOW + timedelta(days=2))  # expired: fetched again


async def test_the_prune_keeps_what_is_in_use(database):
    for key in ("old", "fresh", "shown"):
        assert await claim(database, key, NOW)
    async with database.write() as repos:
        await repos.previews.store("old", READY, NOW, title="old", picture=PICTURE, now=NOW)
        await repos.previews.store("fresh", NONE, NOW + timedelta(days=3), now=NOW)
        shown = await repos.previews.store("shown", READY, NOW, title="s", picture=PICTURE, now=NOW)
        assert shown is not None
        repos.session.add(MessagePreviewImage(message_id=1, image_id=shown))

    async with database.write() as repos:
        assert await repos.previews.prune(NOW + timedelta(days=1), 500) == 3  # two entries, one picture

    async with database.read() as repos:
        assert await repos.previews.cached("fresh", NOW) is not None
        assert await repos.previews.picture(shown) is not None  # a message still shows it
    assert await claim(database, "old", NOW + timedelta(days=1))  # forgotten: a new entry
