"""A database already at the newest revision starts without Alembic (db/head.py, db/migrate.py).

Issue 42: a restarted server spent a third of a second importing Alembic to learn there was nothing
to migrate. Each start here runs in a fresh interpreter, where ``sys.modules`` shows what it loaded.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import make_engine
from db.head import head_revision
from db.migrate import MIGRATION_LOCK, upgrade
from tests.db.test_migrations import check_at_head, migrate_to, postgres_engine, sqlite_url

__all__ = ["postgres_engine"]  # the fixture, shared with test_migrations

ROOT = Path(__file__).parents[2]
START = """
import asyncio, json, sys
from db.engine import make_engine
from db.migrate import upgrade

async def main():
    engine = make_engine(sys.argv[1])
    await upgrade(engine)
    await engine.dispose()

asyncio.run(main())
print(json.dumps({"alembic": any(m.split(".")[0] == "alembic" for m in sys.modules)}))
"""


def start(url: str) -> bool:
    """Upgrade ``url`` as a starting server does, in a new interpreter: whether it loaded Alembic."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", START, url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    loaded: bool = json.loads(done.stdout.splitlines()[-1])["alembic"]
    return loaded


async def test_a_database_at_head_starts_without_importing_alembic(tmp_path: Path):
    url = sqlite_url(tmp_path / "at_head.db")
    assert start(url)  # new: migrated, by Alembic
    assert not start(url)  # restarted: one query, no Alembic
    engine = make_engine(url)
    try:
        await check_at_head(engine)
    finally:
        await engine.dispose()


async def test_a_database_one_revision_behind_is_still_upgraded(tmp_path: Path):
    url = sqlite_url(tmp_path / "behind.db")
    head = head_revision()
    assert head is not None
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate_to, f"{int(head) - 1:04d}")
        assert start(url)
        await check_at_head(engine)
    finally:
        await engine.dispose()


def revisions(folder: Path, *files: tuple[str, str]) -> Path:
    folder.mkdir()
    for name, parent in files:
        (folder / f"{name}.py").write_text(
            f'revision: str = "{name}"\ndown_revision: str | None = {parent}\n'
        )
    return folder


def test_the_head_is_unknown_when_the_files_do_not_say_plainly(tmp_path: Path):
    """A merge revision (a tuple of parents) or two heads: Alembic decides, not the file reader."""
    line = revisions(tmp_path / "line", ("a", "None"), ("b", '"a"'), ("c", '"b"'))
    branches = revisions(tmp_path / "branches", ("a", "None"), ("b", '"a"'), ("c", '"a"'))
    merge = revisions(tmp_path / "merge", ("a", "None"), ("b", '"a"'), ("c", '"a"'), ("d", '("b", "c")'))
    assert head_revision(line) == "c"
    assert head_revision(branches) is None
    assert head_revision(merge) is None


@pytest.mark.postgres
async def test_a_postgres_database_at_head_does_not_wait_for_the_migration_lock(postgres_engine: AsyncEngine):
    """Only a committed head skips the lock: a node migrating holds it until it commits."""
    await upgrade(postgres_engine)
    async with postgres_engine.connect() as holder:  # another node, mid-migration
        await holder.execute(text(f"SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        try:
            await asyncio.wait_for(upgrade(postgres_engine), timeout=10)
        finally:
            await holder.execute(text(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
    await check_at_head(postgres_engine)
