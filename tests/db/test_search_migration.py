"""Migration 0008 (search): existing messages are indexed, both ways, on both databases.

SQLite: the FTS5 table is filled from the live messages in batches (a deleted message is not
indexed) and its triggers follow later inserts, edits and deletions; downgrading drops the table
and the triggers. PostgreSQL: the generated column is computed for every existing row.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import alembic_config, upgrade
from db.search.sqlite import backfill
from tests.db.test_migrations import migrate_to, postgres_engine, sqlite_engine  # noqa: F401  (fixtures)

BODIES = ["Café crème", "plain words", "gone soon", "another café"]


async def seed_at_0007(engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.run_sync(migrate_to, "0007")
        await connection.execute(
            text(
                "INSERT INTO users (username, username_key, password_hash, created_at, token_version)"
                " VALUES ('alice', 'alice', 'x', :now, 0)"
            ),
            {"now": now},
        )
        await connection.execute(
            text(
                "INSERT INTO topics (name, name_key, kind, created_at, last_seq)"
                " VALUES ('t', 't', 'public', :now, 4)"
            ),
            {"now": now},
        )
        for seq, body in enumerate(BODIES, start=1):
            await connection.execute(
                text(
                    "INSERT INTO messages (topic_id, seq, sender_id, body, created_at, deleted_at)"
                    " VALUES (1, :seq, 1, :body, :now, :gone)"
                ),
                {"seq": seq, "body": body, "now": now, "gone": now if body == "gone soon" else None},
            )


async def fts(engine: AsyncEngine, word: str) -> list[int]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH :q ORDER BY rowid"),
            {"q": f'"{word}"'},
        )
        return [row[0] for row in rows]


async def test_sqlite_indexes_existing_live_messages_and_follows_changes(sqlite_engine):  # noqa: F811
    await seed_at_0007(sqlite_engine)
    await upgrade(sqlite_engine)
    assert await fts(sqlite_engine, "cafe") == [1, 4]
    assert await fts(sqlite_engine, "gone") == []  # deleted before the migration: not indexed
    async with sqlite_engine.begin() as connection:
        await connection.execute(text("UPDATE messages SET body = 'plain edited' WHERE id = 2"))
        await connection.execute(text("UPDATE messages SET deleted_at = created_at WHERE id = 4"))
        await connection.execute(text("UPDATE messages SET deleted_at = NULL WHERE id = 3"))  # restored
        await connection.execute(text("DELETE FROM messages WHERE id = 1"))
    assert await fts(sqlite_engine, "words") == []
    assert await fts(sqlite_engine, "edited") == [2]
    assert await fts(sqlite_engine, "cafe") == []
    assert await fts(sqlite_engine, "gone") == [3]
    async with sqlite_engine.connect() as connection:  # the index agrees with its content exactly
        await connection.execute(
            text("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
        )


async def test_sqlite_downgrade_drops_the_index_and_its_triggers(sqlite_engine):  # noqa: F811
    await seed_at_0007(sqlite_engine)
    await upgrade(sqlite_engine)

    def down(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")

    async with sqlite_engine.begin() as connection:
        await connection.run_sync(down)
        names = await connection.execute(
            text("SELECT name FROM sqlite_master WHERE name LIKE 'messages_fts%'")
        )
        assert names.all() == []
        await connection.execute(
            text("UPDATE messages SET body = 'still fine' WHERE id = 2")
        )  # no trigger left
    await upgrade(sqlite_engine)
    assert await fts(sqlite_engine, "still") == [2]


def test_the_backfill_runs_in_batches_of_ids():
    seen: list[tuple[int, int]] = []
    assert backfill(lambda _sql, bounds: seen.append(bounds), 0, 45_000, batch=20_000) == 3
    assert seen == [(0, 20_000), (20_000, 40_000), (40_000, 45_000)]


@pytest.mark.postgres
async def test_postgres_computes_the_column_for_existing_messages(postgres_engine):  # noqa: F811
    await seed_at_0007(postgres_engine)
    await upgrade(postgres_engine)
    async with postgres_engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, search::text FROM messages ORDER BY id"))
        vectors = dict(rows.all())
    assert vectors[1] == "'cafe':1 'creme':2"
    assert vectors[4] == "'another':1 'cafe':2"
