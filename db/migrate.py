"""Apply Alembic migrations programmatically (start-up and ``parley migrate``).

Alembic is imported only when there is something to do: a database already at the newest
revision (every restart but the first after an upgrade) is checked with one query and left alone,
which keeps about a third of a second of imports off a restarted server's way to healthy (issue 42).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.head import head_revision

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps


def alembic_config(url: str = "") -> Config:
    """An Alembic config pointing at our migrations, no alembic.ini needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(engine: AsyncEngine) -> None:
    """Bring the database at ``engine`` to the newest revision."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


# Any constant shared by every node: nodes starting together take turns migrating.
MIGRATION_LOCK = 0x7061726C6579  # "parley"


def _upgrade(connection: Connection) -> None:
    # Only a committed head is skipped: a node migrating now has not committed its new revision,
    # so the others read the old one, wait for the lock below and find nothing left to do.
    if at_head(connection):
        return
    if connection.dialect.name == "postgresql":  # held until this transaction ends
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    from alembic import command

    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def at_head(connection: Connection) -> bool:
    """Whether the stored revision is the newest one (``False`` when unsure: Alembic then decides)."""
    head = head_revision()
    if head is None or not inspect(connection).has_table(VERSION_TABLE):
        return False
    stored = connection.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").scalars().all()
    return list(stored) == [head]
