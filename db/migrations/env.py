"""Alembic environment: async, and able to run on a connection it is handed.

``db.migrate.upgrade`` passes an open connection in ``config.attributes``
(start-up and ``parley migrate``); the ``alembic`` command line builds its
own engine from the configured URL.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from db.engine import make_engine
from db.search import is_search_object

target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # The search index (FTS5 table, tsvector column, GIN index) lives beside the models.
        include_name=lambda name, kind, _parents: not is_search_object(name, kind),
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    asyncio.run(_run_with_own_engine())
