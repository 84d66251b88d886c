"""Apply Alembic migrations programmatically (start-up and ``parley migrate``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str = "") -> Config:
    """An Alembic config pointing at our migrations, no alembic.ini needed."""
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
    if connection.dialect.name == "postgresql":  # held until this transaction ends
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
