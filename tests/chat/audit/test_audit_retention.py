"""The audit log's retention (PROTOCOL.md section 16): housekeeping deletes rows older than
``PARLEY_AUDIT_RETENTION_DAYS`` (365 by default) in batches and keeps the newer ones, with the
clock the test hands it; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from db import migrate
from db.audit.repository import AuditRepository
from db.uow import Database
from server.chat.audit.assembly import prune_audit
from server.chat.kernel.hub import MemoryHub
from server.chat.kernel.wiring import Wiring
from server.chat.operators.housekeeping import BATCH, Housekeeping
from server.chat_factory import build_chat
from tests.databases import fresh_postgres_database, postgres_url
from tests.support import test_settings as settings_for

pytestmark = pytest.mark.both_databases
NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
DAY = 86400.0


@pytest.fixture
async def db(database: str, tmp_path: Path) -> AsyncIterator[Database]:
    if database == "postgres":
        async with fresh_postgres_database(postgres_url(), migrated=True) as url:
            found = Database(url)
            await migrate.upgrade(found.engine)
            yield found
            await found.dispose()
    else:
        found = Database(f"sqlite+aiosqlite:///{tmp_path / 'parley.db'}")
        await migrate.upgrade(found.engine)
        yield found
        await found.dispose()


def housekeeping_for(db: Database, audit: float) -> Housekeeping:
    """Housekeeping with the audit log's pruning only, as its build registers it."""
    w = Wiring(db, MemoryHub())
    prune_audit(w, audit)
    return Housekeeping(db, w.prunings)


async def rows_written(db: Database, *ages_in_days: float) -> None:
    async with db.write() as repos:
        for age in ages_in_days:
            at = NOW - timedelta(days=age)
            await repos.of(AuditRepository).add(at, None, "cli", "user.disable", f"aged-{age}", None, {})


async def targets(db: Database) -> list[str | None]:
    async with db.read() as repos:
        return [row.target for row in await repos.of(AuditRepository).newest(10_000)]


async def test_rows_older_than_the_retention_go_and_newer_ones_stay(db: Database) -> None:
    await rows_written(db, 800, 366, 365.5, 364, 1)
    pruned = await housekeeping_for(db, 365 * DAY).prune(NOW)
    assert pruned["audit"] == 3
    assert await targets(db) == ["aged-1", "aged-364"]
    again = await housekeeping_for(db, 365 * DAY).prune(NOW)
    assert again["audit"] == 0


async def test_the_clock_moving_on_takes_the_next_rows(db: Database) -> None:
    await rows_written(db, 10, 5)
    keeping = housekeeping_for(db, 7 * DAY)
    assert (await keeping.prune(NOW))["audit"] == 1
    assert (await keeping.prune(NOW + timedelta(days=1)))["audit"] == 0
    assert (await keeping.prune(NOW + timedelta(days=3)))["audit"] == 1
    assert await targets(db) == []


async def test_a_backlog_larger_than_a_batch_goes_in_one_round(db: Database) -> None:
    await rows_written(db, *([400.0] * (BATCH + 3)), 1)
    pruned = await housekeeping_for(db, 365 * DAY).prune(NOW)
    assert pruned["audit"] == BATCH + 3
    assert await targets(db) == ["aged-1"]


async def test_the_setting_reaches_housekeeping(tmp_path: Path) -> None:
    default = build_chat(settings_for(tmp_path / "one"))
    chosen = build_chat(settings_for(tmp_path / "two", audit_retention_days=30))
    try:
        assert {p.name: p.keep for p in default.housekeeping.prunings}["audit"] == 365 * DAY
        assert {p.name: p.keep for p in chosen.housekeeping.prunings}["audit"] == 30 * DAY
    finally:
        await default.db.dispose()
        await chosen.db.dispose()
