"""Migration 0026 (PROTOCOL.md section 19): an existing server's oldest active human account becomes
the workspace's owner, every other account a member, and the log says who; a server with no such
account waits for its first sign-up (and the log says that)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import upgrade
from tests.db.test_migrations import check_at_head, migrate_to, postgres_engine, sqlite_engine

__all__ = ["postgres_engine", "sqlite_engine"]  # the fixtures, shared with test_migrations.py

# (name, minutes after the first, bot, disabled, deleted, erased)
ACCOUNTS = [
    ("gone", 0, False, False, True, False),  # the oldest, but deleted
    ("helper", 1, True, False, False, False),  # a bot
    ("shut", 2, False, True, False, False),  # disabled
    ("wiped", 3, False, False, False, True),  # erased
    ("Olive", 4, False, False, False, False),  # the oldest active human account: the owner
    ("mabel", 5, False, False, False, False),
]


async def at_0025_with(engine: AsyncEngine, accounts: list[tuple[str, int, bool, bool, bool, bool]]) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    async with engine.begin() as connection:
        await connection.run_sync(migrate_to, "0025")
        for name, minutes, bot, disabled, deleted, erased in accounts:
            at = start + timedelta(minutes=minutes)
            await connection.execute(
                text(
                    "INSERT INTO users (username, username_key, password_hash, created_at, token_version,"
                    " bot, disabled_at, deleted_at, erased_at)"
                    " VALUES (:name, :key, 'x', :at, 1, :bot, :disabled, :deleted, :erased)"
                ),
                {
                    "name": name,
                    "key": name.lower(),
                    "at": at,
                    "bot": bot,
                    "disabled": at if disabled else None,
                    "deleted": at if deleted else None,
                    "erased": at if erased else None,
                },
            )


async def check_the_oldest_active_account_owns(engine: AsyncEngine, caplog: pytest.LogCaptureFixture) -> None:
    await at_0025_with(engine, ACCOUNTS)
    with caplog.at_level("WARNING", logger="parley.migrations"):
        await upgrade(engine)
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT username, role FROM users ORDER BY created_at"))).all()
    assert [tuple(row) for row in rows] == [
        ("gone", "member"),
        ("helper", "member"),
        ("shut", "member"),
        ("wiped", "member"),
        ("Olive", "owner"),
        ("mabel", "member"),
    ]
    said = [record.getMessage() for record in caplog.records if record.name == "parley.migrations"]
    owned = [line for line in said if line.startswith("workspace roles")]
    assert len(owned) == 1 and "'Olive'" in owned[0] and "parley user role" in owned[0], said
    await check_at_head(engine)


async def test_the_oldest_active_account_owns_the_workspace_on_sqlite(sqlite_engine, caplog):
    await check_the_oldest_active_account_owns(sqlite_engine, caplog)


@pytest.mark.postgres
async def test_the_oldest_active_account_owns_the_workspace_on_postgres(postgres_engine, caplog):
    await check_the_oldest_active_account_owns(postgres_engine, caplog)


async def test_a_server_without_an_active_account_waits_for_its_first_sign_up(sqlite_engine, caplog):
    await at_0025_with(sqlite_engine, ACCOUNTS[:2])
    with caplog.at_level("WARNING", logger="parley.migrations"):
        await upgrade(sqlite_engine)
    async with sqlite_engine.connect() as connection:
        roles = (await connection.execute(text("SELECT role FROM users"))).scalars().all()
    assert roles == ["member", "member"]
    said = [record.getMessage() for record in caplog.records if record.name == "parley.migrations"]
    assert any("the first to sign up will own the workspace" in line for line in said), said
