"""Throwaway PostgreSQL databases for tests that run on both databases.

``PARLEY_TEST_DATABASE_URL`` names a server we may create databases on
(CI: ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``). Each test gets
its own database, dropped afterwards.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from db.migrate import MIGRATIONS, upgrade
from db.uow import Database

ENV = "PARLEY_TEST_DATABASE_URL"


def postgres_url() -> str:
    url = os.environ.get(ENV)
    if not url:
        pytest.skip(f"{ENV} is not set (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)")
    return url


# The migrated template: one database at the head revision per set of migrations, made once by
# whichever worker asks first (the others wait on this advisory lock) and copied by each test that
# wants a migrated database. A copy takes ~0.02 s; running the 26 migrations took ~0.45 s of the
# test and ~0.15 s of its CPU, on each of the ~500 PostgreSQL variants of the suite.
TEMPLATE_LOCK = 0x70746D706C  # "ptmpl"
_TEMPLATES: dict[str, str] = {}  # server URL -> the template's name, once made or found


def _migrations_digest() -> str:
    """Names the schema the migrations build: a changed or added migration makes a new template."""
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS.rglob("*.py")):
        digest.update(path.relative_to(MIGRATIONS).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


async def _migrated_template(admin: asyncpg.Connection, url: str) -> str:
    """The template's name, made now (migrated, then renamed into place) if no run made it yet."""
    if url in _TEMPLATES:
        return _TEMPLATES[url]
    name = f"parley_tpl_{_migrations_digest()}"
    await admin.execute("SELECT pg_advisory_lock($1)", TEMPLATE_LOCK)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            building = (
                f"{name}_{uuid.uuid4().hex[:6]}"  # a run killed while migrating leaves no half template
            )
            await admin.execute(f'CREATE DATABASE "{building}"')
            db = Database(f"{url.rpartition('/')[0]}/{building}")
            try:
                await upgrade(db.engine)
            finally:
                await db.dispose()  # a template may have no connection when it is copied
            await admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    finally:
        await admin.execute("SELECT pg_advisory_unlock($1)", TEMPLATE_LOCK)
    _TEMPLATES[url] = name
    return name


@asynccontextmanager
async def fresh_postgres_database(url: str, *, migrated: bool = False) -> AsyncIterator[str]:
    """Create a database next to the one ``url`` names, empty or (``migrated``) at the head
    revision; yield its SQLAlchemy URL. A server started on a migrated one finds nothing to do."""
    base, _, _ = url.rpartition("/")
    name = f"parley_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        if migrated:
            template = await _migrated_template(admin, url)
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{base}/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def database_url(kind: str, folder: Path, name: str, *, migrated: bool = False) -> AsyncIterator[str]:
    """An empty database of ``kind`` (a test's ``sqlite``/``postgres`` parameter): a SQLite file
    ``name``.db in ``folder``, or a fresh PostgreSQL database (``migrated``: a copy of the migrated
    template; a SQLite file is empty either way); its SQLAlchemy URL."""
    if kind == "postgres":
        async with fresh_postgres_database(postgres_url(), migrated=migrated) as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{folder / name}.db"


@asynccontextmanager
async def migrated_database(kind: str, folder: Path, name: str) -> AsyncIterator[Database]:
    """``database_url``'s database, migrated, as a ``Database`` (disposed afterwards)."""
    async with database_url(kind, folder, name, migrated=True) as url:
        db = Database(url)
        await upgrade(db.engine)
        try:
            yield db
        finally:
            await db.dispose()
