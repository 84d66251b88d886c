"""Apply Alembic migrations programmatically (start-up and ``parley migrate``).

Alembic is imported only when there is something to do: a database already at the newest
revision (every restart but the first after an upgrade) is checked with one query and left alone,
which keeps about a third of a second of imports off a restarted server's way to healthy, while
its clients reconnect at once.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from db.head import head_revision

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
START_WAIT = 30.0  # seconds a starting node keeps trying to reach its database
RETRY_EVERY = 1.0
log = logging.getLogger("parley.migrations")
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps


def alembic_config(url: str = "") -> Config:
    """An Alembic config pointing at our migrations, no alembic.ini needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(engine: AsyncEngine, wait: float = START_WAIT) -> None:
    """Bring the database at ``engine`` to the newest revision.

    A database that does not answer yet (its connect refused or timed out: one started beside
    the node, or a loaded machine) is tried again every second for up to ``wait`` seconds, as a
    starting node waits for Redis; then the start fails with the last error. Only the connect is
    tried again: an error of the migration itself fails at once.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        try:
            connection = await engine.connect()
        except (OSError, TimeoutError) as exc:
            if loop.time() + RETRY_EVERY > deadline:
                raise
            log.warning(
                "the database does not answer yet (%s); trying again for up to %.0f s",
                type(exc).__name__,
                deadline - loop.time(),
            )
            await asyncio.sleep(RETRY_EVERY)
            continue
        break
    try:
        async with connection.begin():
            await connection.run_sync(_upgrade)
    finally:
        await connection.close()


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
