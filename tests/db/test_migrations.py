"""Migrations (db/migrate.py, db/migrations) against real databases.

SQLite: a fresh file per test. PostgreSQL: when PARLEY_TEST_DATABASE_URL is
set (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test), each test works
in a schema of its own, dropped afterwards, so it never touches other tables.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import os
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from db.engine import make_engine
from db.errors import Conflict
from db.head import head_revision
from db.migrate import alembic_config, upgrade
from db.models import Membership, User
from db.search import is_search_object
from db.uow import Database
from tests.databases import fresh_postgres_database
from tests.support import rows_in

VERSIONS = Path(__file__).parents[2] / "db" / "migrations" / "versions"


def migration(name: str) -> ModuleType:
    """A revision's module (``0012_search_refinements``), loaded from its file: what it runs."""
    spec = importlib.util.spec_from_file_location(f"revision_{name}", VERSIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def schema_diff(connection: Connection) -> list[Any]:
    """What autogenerate would still have to do to reach the models (empty: nothing)."""
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "include_name": lambda name, kind, _: not is_search_object(name, kind)},
    )
    return list(compare_metadata(context, SQLModel.metadata))


def revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def table_names(connection: Connection) -> set[str]:
    """The tables, less the search index's (an FTS5 table and its shadows: ``db/search``)."""
    return {name for name in inspect(connection).get_table_names() if not is_search_object(name, "table")}


async def check_at_head(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(schema_diff) == []
        assert await connection.run_sync(revision) == head()
        tables = await connection.run_sync(table_names)
    assert tables == set(SQLModel.metadata.tables) | {"alembic_version"}


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(sqlite_url(tmp_path / "migrate.db"))
    try:
        yield engine
    finally:
        await engine.dispose()


def a_user(name: str) -> User:
    return User(username=name, username_key=name.lower(), password_hash="x", created_at=datetime.now(UTC))


# SQLite ------------------------------------------------------------------------


def test_no_revision_imports_the_search_modules():
    """A revision runs its own SQL, frozen inside it: what it does never moves when ``db/search``
    changes (review 2026-11-24 finding 10). Only the error a search migration raises is shared."""
    found = []
    for path in sorted(VERSIONS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found += [(path.name, a.name) for a in node.names if a.name.startswith("db.search")]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("db.search"):
                names = [a.name for a in node.names]
                if node.module != "db.search" or names != ["SearchUnavailable"]:
                    found.append((path.name, f"{node.module}: {', '.join(names)}"))
    assert found == []


def test_there_is_exactly_one_head_revision():
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_the_head_read_from_the_revision_files_is_alembics():
    """``db.head`` reads the files so a server at head starts without Alembic: never another answer."""
    head_revision.cache_clear()
    assert head_revision() == head() is not None


async def test_upgrading_an_empty_sqlite_database_yields_exactly_the_models(sqlite_engine):
    await upgrade(sqlite_engine)
    await check_at_head(sqlite_engine)


async def test_the_comparison_would_notice_a_schema_that_drifted_from_the_models(sqlite_engine):
    await upgrade(sqlite_engine)
    async with sqlite_engine.begin() as connection:
        await connection.execute(text("DROP INDEX ix_memberships_user_id"))
        assert await connection.run_sync(schema_diff) != []


async def test_upgrading_twice_changes_nothing_and_keeps_the_data(tmp_path):
    url = sqlite_url(tmp_path / "twice.db")
    first = Database(url)
    await upgrade(first.engine)
    async with first.write() as repos:
        repos.session.add(a_user("alice"))
    await first.dispose()
    second = Database(url)  # as after a restart
    try:
        await upgrade(second.engine)
        await upgrade(second.engine)
        await check_at_head(second.engine)
        async with second.read() as repos:
            assert await rows_in(repos, User) == 1
    finally:
        await second.dispose()


async def test_downgrading_to_base_drops_every_table_and_upgrading_restores_them(sqlite_engine):
    def downgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    await upgrade(sqlite_engine)
    async with sqlite_engine.begin() as connection:
        await connection.run_sync(downgrade)
    async with sqlite_engine.connect() as connection:
        assert await connection.run_sync(table_names) <= {"alembic_version"}
        assert await connection.run_sync(revision) is None
    await upgrade(sqlite_engine)
    await check_at_head(sqlite_engine)


def test_the_alembic_command_line_migrates_a_database_named_by_url(tmp_path):
    path = tmp_path / "cli.db"
    command.upgrade(alembic_config(sqlite_url(path)), "head")
    with sqlite3.connect(path) as connection:
        versions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert versions == [(head(),)]
    assert set(SQLModel.metadata.tables) <= tables


async def test_every_sqlite_connection_gets_the_pragmas(sqlite_engine):
    await upgrade(sqlite_engine)
    async with sqlite_engine.connect() as first, sqlite_engine.connect() as second:
        for connection in (first, second):
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 5000
            assert (await connection.execute(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL


async def test_sqlite_enforces_foreign_keys(tmp_path):
    database = Database(sqlite_url(tmp_path / "fk.db"))
    await upgrade(database.engine)
    try:
        with pytest.raises(IntegrityError):
            async with database.write() as repos:
                repos.session.add(Membership(topic_id=999, user_id=999, joined_at=datetime.now(UTC)))
    finally:
        await database.dispose()


async def test_the_database_refuses_two_users_whose_names_differ_only_in_case(tmp_path):
    database = Database(sqlite_url(tmp_path / "unique.db"))
    await upgrade(database.engine)
    try:
        async with database.write() as repos:
            repos.session.add(a_user("alice"))
        with pytest.raises(Conflict):  # the unit of work's word for the IntegrityError
            async with database.write() as repos:
                repos.session.add(a_user("ALICE"))
        async with database.read() as repos:
            assert await rows_in(repos, User) == 1
    finally:
        await database.dispose()


# PostgreSQL --------------------------------------------------------------------


@pytest.fixture
async def postgres_engine() -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh, empty database, dropped afterwards. Not a schema in the shared one:
    the search migration creates the ``unaccent`` extension in the first schema that asks, which
    is one per database, so tests running at once in other schemas raced on its creation
    (``pg_extension_name_index``) and a ``DROP SCHEMA ... CASCADE`` took it from the others."""
    url = os.environ.get("PARLEY_TEST_DATABASE_URL")
    if not url:
        pytest.skip("PARLEY_TEST_DATABASE_URL is not set (e.g. postgresql+asyncpg://postgres@127.0.0.1/test)")
    async with fresh_postgres_database(url) as fresh:
        engine = create_async_engine(fresh)
        try:
            yield engine
        finally:
            await engine.dispose()


@pytest.mark.postgres
async def test_upgrading_an_empty_postgres_schema_yields_exactly_the_models(postgres_engine):
    await upgrade(postgres_engine)
    await check_at_head(postgres_engine)


@pytest.mark.postgres
async def test_upgrading_postgres_twice_changes_nothing(postgres_engine):
    await upgrade(postgres_engine)
    await upgrade(postgres_engine)
    await check_at_head(postgres_engine)


@pytest.mark.postgres
async def test_nodes_starting_together_take_turns_migrating_postgres(postgres_engine):
    await asyncio.gather(*(upgrade(postgres_engine) for _ in range(3)))  # three nodes start at once
    await check_at_head(postgres_engine)


# 0005: topic names and usernames become one namespace ------------------------------


def migrate_to(connection: Connection, target: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, target)


COLLISIONS_BEFORE = [
    # (name, kind): users are bobby, Alice, carol and alice-topic
    ("Bobby", "public"),  # bobby's name: renamed past the taken "bobby-topic"
    ("bobby-topic", "public"),
    ("ALICE", "private"),  # "alice-topic" is a user: the next free name
    ("dm:1:2", "direct"),  # never touched
    ("kitchen", "public"),
]
COLLISIONS_AFTER = ["Bobby-topic-2", "bobby-topic", "ALICE-topic-2", "dm:1:2", "kitchen"]


async def check_collisions_are_renamed(engine: AsyncEngine, caplog: pytest.LogCaptureFixture) -> None:
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.run_sync(migrate_to, "0004")
        for name in ("bobby", "Alice", "carol", "alice-topic"):
            await connection.execute(
                text(
                    "INSERT INTO users (username, username_key, password_hash, created_at, token_version)"
                    " VALUES (:name, :key, 'x', :now, 1)"
                ),
                {"name": name, "key": name.lower(), "now": now},
            )
        for name, kind in COLLISIONS_BEFORE:
            await connection.execute(
                text(
                    "INSERT INTO topics (name, name_key, kind, created_at, last_seq)"
                    " VALUES (:name, :key, :kind, :now, 0)"
                ),
                {"name": name, "key": name.lower(), "kind": kind, "now": now},
            )
    with caplog.at_level("WARNING", logger="parley.migrations"):
        await upgrade(engine)
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT name, name_key FROM topics ORDER BY id"))).all()
    assert [row[0] for row in rows] == COLLISIONS_AFTER
    assert [row[1] for row in rows] == [name.lower() for name in COLLISIONS_AFTER]
    said = [record.getMessage() for record in caplog.records if record.name == "parley.migrations"]
    renamed = [line for line in said if line.startswith("topic ")]  # later revisions log too
    assert any("'Bobby'" in line and "'Bobby-topic-2'" in line for line in renamed), said
    assert any("'ALICE'" in line and "'ALICE-topic-2'" in line for line in renamed), said
    assert len(renamed) == 2
    await check_at_head(engine)


async def test_the_namespace_migration_renames_topics_named_like_users_on_sqlite(sqlite_engine, caplog):
    await check_collisions_are_renamed(sqlite_engine, caplog)


@pytest.mark.postgres
async def test_the_namespace_migration_renames_topics_named_like_users_on_postgres(postgres_engine, caplog):
    await check_collisions_are_renamed(postgres_engine, caplog)
