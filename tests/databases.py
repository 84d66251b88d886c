"""Throwaway PostgreSQL databases for tests that run on both databases.

``PARLEY_TEST_DATABASE_URL`` names a server we may create databases on
(CI: ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``). Each test gets
its own database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from db.migrate import upgrade
from db.uow import Database

ENV = "PARLEY_TEST_DATABASE_URL"


def postgres_url() -> str:
    url = os.environ.get(ENV)
    if not url:
        pytest.skip(f"{ENV} is not set (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)")
    return url


@asynccontextmanager
async def fresh_postgres_database(url: str) -> AsyncIterator[str]:
    """Create an empty database next to the one ``url`` names; yield its SQLAlchemy URL."""
    base, _, _ = url.rpartition("/")
    name = f"parley_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{base}/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def database_url(kind: str, folder: Path, name: str) -> AsyncIterator[str]:
    """An empty database of ``kind`` (a test's ``sqlite``/``postgres`` parameter): a SQLite file
    ``name``.db in ``folder``, or a fresh PostgreSQL database; its SQLAlchemy URL."""
    if kind == "postgres":
        async with fresh_postgres_database(postgres_url()) as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{folder / name}.db"


@asynccontextmanager
async def migrated_database(kind: str, folder: Path, name: str) -> AsyncIterator[Database]:
    """``database_url``'s database, migrated, as a ``Database`` (disposed afterwards)."""
    async with database_url(kind, folder, name) as url:
        db = Database(url)
        await upgrade(db.engine)
        try:
            yield db
        finally:
            await db.dispose()
