"""Migration 0008 (search): existing messages are indexed, both ways, on both databases.

SQLite: the migration only records the existing messages as pending; the backfill then fills the
FTS5 table from the live messages in batches, each its own transaction (a deleted message is not
indexed), and the triggers follow later inserts, edits and deletions, leaving a pending message to
the backfill even when it is edited or deleted before its batch; downgrading drops the table and
the triggers. PostgreSQL: the generated column is computed for every existing row.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from db.engine import make_engine
from db.migrate import alembic_config, upgrade
from db.search import postgres as pg
from db.search.postgres import PostgresSearch
from db.search.sqlite import SqliteSearch
from tests.db.test_migrations import (  # noqa: F401  (fixtures)
    migrate_to,
    migration,
    postgres_engine,
    sqlite_engine,
    sqlite_url,
)
from tests.support import running
from tests.support import test_settings as make_settings

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


async def backfill(engine: AsyncEngine, batch: int = 20_000) -> int:
    index = SqliteSearch(str(engine.url.database))
    try:
        return await index.backfill(batch)
    finally:
        await index.close()


async def integrity_check(engine: AsyncEngine) -> None:
    """FTS5 raises unless the index agrees exactly with its content (the live messages)."""
    async with engine.connect() as connection:
        await connection.execute(
            text("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
        )


async def test_sqlite_indexes_existing_live_messages_and_follows_changes(sqlite_engine):  # noqa: F811
    await seed_at_0007(sqlite_engine)
    await upgrade(sqlite_engine)
    assert await fts(sqlite_engine, "cafe") == []  # the migration only records what is pending
    assert await backfill(sqlite_engine) == 4
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
    await integrity_check(sqlite_engine)
    assert await backfill(sqlite_engine) == 0  # nothing left pending


async def test_sqlite_backfill_goes_in_batches_and_pending_changes_wait_for_it(sqlite_engine):  # noqa: F811
    await seed_at_0007(sqlite_engine)
    await upgrade(sqlite_engine)
    async with sqlite_engine.begin() as connection:  # while pending: an edit, a deletion, a send
        await connection.execute(text("UPDATE messages SET body = 'plain edited' WHERE id = 2"))
        await connection.execute(text("UPDATE messages SET deleted_at = created_at WHERE id = 4"))
        await connection.execute(
            text(
                "INSERT INTO messages (topic_id, seq, sender_id, body, created_at)"
                " VALUES (1, 5, 1, 'fresh café', CURRENT_TIMESTAMP)"
            )
        )
        pending = await connection.execute(text("SELECT below, done FROM search_backfill"))
        assert pending.all() == [(4, 0)]
    assert await fts(sqlite_engine, "fresh") == [5]  # a new message is indexed at once
    assert await backfill(sqlite_engine, batch=3) == 4  # ids 1-3, then 4
    assert await fts(sqlite_engine, "cafe") == [1, 5]
    assert await fts(sqlite_engine, "edited") == [2]
    assert await fts(sqlite_engine, "words") == []
    await integrity_check(sqlite_engine)
    async with sqlite_engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM search_backfill"))).scalar_one() == 0


async def test_a_reindex_empties_the_index_and_fills_it_again(sqlite_engine):  # noqa: F811
    await seed_at_0007(sqlite_engine)
    await upgrade(sqlite_engine)
    await backfill(sqlite_engine)
    async with sqlite_engine.begin() as connection:  # an index that lost its way
        await connection.execute(text("INSERT INTO messages_fts (messages_fts) VALUES ('delete-all')"))
    assert await fts(sqlite_engine, "cafe") == []
    index = SqliteSearch(str(sqlite_engine.url.database))
    try:
        assert await index.reindex() == 3  # the live messages
    finally:
        await index.close()
    assert await fts(sqlite_engine, "cafe") == [1, 4]
    await integrity_check(sqlite_engine)


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
    await backfill(sqlite_engine)
    assert await fts(sqlite_engine, "still") == [2]


async def vectors(engine: AsyncEngine) -> dict[int, str | None]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, search::text FROM messages ORDER BY id"))
        return dict(rows.all())


async def pg_backfill(engine: AsyncEngine) -> int:
    return await PostgresSearch(async_sessionmaker(engine)).backfill(batch=3)


@pytest.mark.postgres
async def test_postgres_leaves_existing_rows_pending_and_computes_them_in_batches(postgres_engine):  # noqa: F811
    await seed_at_0007(postgres_engine)
    await upgrade(postgres_engine)
    assert set((await vectors(postgres_engine)).values()) == {None}  # the migration computed nothing
    async with postgres_engine.begin() as connection:  # while pending: an edit and a send
        await connection.execute(text("UPDATE messages SET body = 'plain edited' WHERE id = 2"))
        await connection.execute(
            text(
                "INSERT INTO messages (topic_id, seq, sender_id, body, created_at)"
                " VALUES (1, 5, 1, 'fresh café', now())"
            )
        )
    computed = await vectors(postgres_engine)
    assert (computed[2], computed[5]) == ("'edited':2 'plain':1", "'cafe':2 'fresh':1")
    assert await pg_backfill(postgres_engine) == 3  # ids 1, 3 and 4 (a deleted one too: it is never read)
    computed = await vectors(postgres_engine)
    assert computed[1] == "'cafe':1 'creme':2"
    assert computed[4] == "'another':1 'cafe':2"
    assert await pg_backfill(postgres_engine) == 0


async def old_function(connection: AsyncConnection) -> None:
    """The function 0008 made before 0012: unaccent folds every letter (ß -> ss, ø -> o)."""
    schema = (
        await connection.execute(
            text(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
                " WHERE e.extname = 'unaccent'"
            )
        )
    ).scalar_one()
    unaccent = f'"{schema}".unaccent(\'"{schema}".unaccent\'::regdictionary, body)'
    await connection.execute(
        text(
            "CREATE OR REPLACE FUNCTION parley_search_text(body text) RETURNS text LANGUAGE sql"
            f" IMMUTABLE AS $$ SELECT lower({unaccent}) $$"
        )
    )


@pytest.mark.postgres
async def test_postgres_0012_folds_only_what_sqlite_folds_and_recomputes_old_rows(postgres_engine):  # noqa: F811
    await seed_at_0007(postgres_engine)
    async with postgres_engine.begin() as connection:
        await connection.run_sync(migrate_to, "0008")
        await old_function(connection)
        await connection.execute(text("UPDATE messages SET body = 'Straße Ørsted' WHERE id = 2"))
    assert (await vectors(postgres_engine))[2] == "'orsted':2 'strasse':1"
    await upgrade(postgres_engine)
    assert (await vectors(postgres_engine))[2] is None  # pending again
    await pg_backfill(postgres_engine)
    computed = await vectors(postgres_engine)
    assert computed[2] == "'straße':1 'ørsted':2"
    assert computed[1] == "'cafe':1 'creme':2"


@pytest.mark.postgres
async def test_postgres_0012_turns_a_generated_column_into_a_kept_one(postgres_engine):  # noqa: F811
    await seed_at_0007(postgres_engine)
    async with postgres_engine.begin() as connection:
        await connection.run_sync(migrate_to, "0008")
        for statement in (  # 0008's first layout: a generated column
            "DROP TRIGGER messages_search ON messages",
            "DROP FUNCTION parley_search_vector()",
            "DROP INDEX ix_messages_search",
            "ALTER TABLE messages DROP COLUMN search",
        ):
            await connection.execute(text(statement))
        await connection.execute(
            text(f"ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS ({pg.VECTOR}) STORED")
        )
        await connection.execute(text("CREATE INDEX ix_messages_search ON messages USING gin (search)"))
    await upgrade(postgres_engine)
    async with postgres_engine.connect() as connection:
        kind = await connection.execute(
            text(
                "SELECT attgenerated::text FROM pg_attribute"
                " WHERE attrelid = 'messages'::regclass AND attname = 'search'"
            )
        )
        assert kind.scalar_one() == ""
    await pg_backfill(postgres_engine)
    assert (await vectors(postgres_engine))[1] == "'cafe':1 'creme':2"
    async with postgres_engine.begin() as connection:  # the trigger keeps it from now on
        await connection.execute(text("UPDATE messages SET body = 'Straße' WHERE id = 1"))
    assert (await vectors(postgres_engine))[1] == "'straße':1"


async def test_sqlite_0012_makes_an_index_without_prefix_lists_again(sqlite_engine):  # noqa: F811
    await seed_at_0007(sqlite_engine)
    async with sqlite_engine.begin() as connection:
        await connection.run_sync(migrate_to, "0008")
        # The layout 0008 made before the prefix lists and the pending range existed.
        for statement in ("DROP TABLE messages_fts", "DROP TABLE search_backfill"):
            await connection.execute(text(statement))
        await connection.execute(
            text(
                "CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='messages_live',"
                " content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
            )
        )
        await connection.execute(text("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')"))
    await upgrade(sqlite_engine)
    async with sqlite_engine.connect() as connection:
        made = await connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'"))
        assert "prefix='1 2'" in made.scalar_one()
    assert await fts(sqlite_engine, "cafe") == []  # emptied, pending
    assert await backfill(sqlite_engine) == 4
    assert await fts(sqlite_engine, "cafe") == [1, 4]
    await integrity_check(sqlite_engine)


async def test_a_server_started_on_a_migrated_database_indexes_its_messages(tmp_path):
    engine = make_engine(sqlite_url(tmp_path / "parley.db"))
    try:
        await seed_at_0007(engine)
    finally:
        await engine.dispose()
    async with running(make_settings(tmp_path)) as live:
        await live.chat.search.caught_up()
        hits = (await live.chat.search.search_all("cafe")).hits
    assert [hit.message.body for hit in hits] == ["another café", "Café crème"]


async def index_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT indexname FROM pg_indexes"
                " WHERE tablename = 'messages' AND schemaname = current_schema()"
            )
        )
        return {row[0] for row in rows}


@pytest.mark.postgres
async def test_postgres_0013_adds_the_indexes_from_and_in_walk_and_its_downgrade_drops_them(postgres_engine):  # noqa: F811
    await seed_at_0007(postgres_engine)
    await upgrade(postgres_engine)
    walked = {"ix_messages_sender_created", "ix_messages_topic_created"}
    assert walked <= await index_names(postgres_engine)

    def down(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0012")

    async with postgres_engine.begin() as connection:
        await connection.run_sync(down)
    assert not walked & await index_names(postgres_engine)
    await upgrade(postgres_engine)
    assert walked <= await index_names(postgres_engine)


# Bodies an ASCII shortcut could get wrong: punctuation runs, case, digits, and every kind of
# non-ASCII text that must still take unaccent's path (accents, the letters SQLite keeps, other
# scripts, ligatures, emoji, an ASCII body with one non-ASCII character at its end).
TEXTS = [
    "plain words",
    "Hello, World!! 1.2.3 bob@example.com a--b_c",
    "tab\there\nnew line   spaces",
    "MiXeD CASE ... ???",
    "",
    "   ",
    "Café crème naïve",
    "Straße Ørsted Łódź æble",
    "İstanbul ǅemal",
    "ﬁne ligature",
    "emoji 🎉 party",
    "ascii until the end é",
    "日本語のテキスト",
]


@pytest.mark.postgres
async def test_postgres_0015_folds_every_body_as_before_and_sets_nothing_per_row(postgres_engine):  # noqa: F811
    await upgrade(postgres_engine)
    async with postgres_engine.begin() as connection:
        unaccent = (
            await connection.execute(
                text(
                    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
                    " WHERE e.extname = 'unaccent'"
                )
            )
        ).scalar_one()
        before = migration("0012_search_refinements").function_sql(str(unaccent))
        before = before.replace(pg.FUNCTION, "search_text_before")
        await connection.execute(text(before))
        for body in TEXTS:
            now, then = (
                await connection.execute(
                    text(f"SELECT {pg.FUNCTION}(:b), search_text_before(:b)"), {"b": body}
                )
            ).one()
            assert now == then, body
        settings = await connection.execute(
            text("SELECT proconfig FROM pg_proc WHERE proname = 'parley_search_vector'")
        )
        assert settings.scalar_one() is None  # no SET clause: nothing saved and restored per row
        # Names qualified: the trigger computes the vector under any search path.
        schema = (await connection.execute(text("SELECT current_schema()"))).scalar_one()
        await connection.execute(text("SET LOCAL search_path TO pg_catalog"))
        await connection.execute(
            text(
                f'INSERT INTO "{schema}".users (username, username_key, password_hash, created_at,'
                " token_version) VALUES ('alice', 'alice', 'x', now(), 0)"
            )
        )
        await connection.execute(
            text(
                f'INSERT INTO "{schema}".topics (name, name_key, kind, created_at, last_seq)'
                " VALUES ('t', 't', 'public', now(), 1)"
            )
        )
        await connection.execute(
            text(
                f'INSERT INTO "{schema}".messages (topic_id, seq, sender_id, body, created_at)'
                " SELECT id, 1, 1, 'Crème BRÛLÉE, twice!', now() FROM "
                f'"{schema}".topics'
            )
        )
        vector = await connection.execute(text(f'SELECT search::text FROM "{schema}".messages'))
        assert vector.scalar_one() == "'brulee':2 'creme':1 'twice':3"
