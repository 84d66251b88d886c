"""search: the full-text index of message bodies (PROTOCOL.md section 9)

SQLite: ``messages_fts``, an external-content FTS5 table (``unicode61 remove_diacritics 2``) over
the view ``messages_live`` (the messages not deleted) with three triggers on ``messages``; the
existing messages are recorded as pending (``search_backfill``) and indexed after the migration in
batches, each its own short transaction, by the server as it starts (``db/search/sqlite.py``), so
the migration never holds the database for long. It refuses, saying why, on an SQLite without
FTS5. PostgreSQL: the ``unaccent`` extension (created if missing; if it cannot be, the migration
says so), the immutable ``parley_search_text(body)``, the column ``messages.search`` kept by a
trigger and its GIN index (``db/search/postgres.py``); existing rows are left pending (``NULL``)
and computed after the migration in batches by the server, as on SQLite. Both: an index on ``messages (created_at, id)``, the order results
come in. ``parley search reindex`` rebuilds the index later.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.search import SearchUnavailable
from db.search import postgres as pg
from db.search import sqlite as lite

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _sqlite_upgrade(bind)
    else:
        _postgres_upgrade(bind)
    op.create_index("ix_messages_created", "messages", ["created_at", "id"])


def _sqlite_upgrade(bind: sa.engine.Connection) -> None:
    try:
        bind.exec_driver_sql("CREATE VIRTUAL TABLE temp.parley_fts5_probe USING fts5(x)")
    except sa.exc.OperationalError as exc:
        import sqlite3

        raise SearchUnavailable(lite.UNAVAILABLE.format(version=sqlite3.sqlite_version)) from exc
    bind.exec_driver_sql("DROP TABLE temp.parley_fts5_probe")
    bind.exec_driver_sql(lite.CREATE_VIEW)
    bind.exec_driver_sql(lite.CREATE_TABLE)
    bind.exec_driver_sql(lite.CREATE_PENDING)
    bind.exec_driver_sql(lite.PENDING)  # indexed after the migration, in batches (the server does it)
    for trigger in lite.TRIGGERS:
        bind.exec_driver_sql(trigger)


def _postgres_upgrade(bind: sa.engine.Connection) -> None:
    installed = "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
    schema = bind.exec_driver_sql(f"{installed} WHERE e.extname = 'unaccent'").scalar()
    if schema is None:
        try:
            with bind.begin_nested():
                bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
        except sa.exc.DBAPIError as exc:
            raise SearchUnavailable(pg.UNAVAILABLE.format(error=str(exc.orig).strip())) from exc
        schema = bind.exec_driver_sql(f"{installed} WHERE e.extname = 'unaccent'").scalar_one()
    bind.exec_driver_sql(pg.function_sql(str(schema), pg.is_utf8(bind.exec_driver_sql)))
    pg.make_column(bind.exec_driver_sql)  # existing rows pending: the server computes them in batches


def downgrade() -> None:
    op.drop_index("ix_messages_created", table_name="messages")
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in lite.DROP:
            bind.exec_driver_sql(statement)
        return
    for statement in pg.DROP:
        bind.exec_driver_sql(statement)
    bind.exec_driver_sql(
        f"DROP FUNCTION IF EXISTS {pg.FUNCTION}(text)"
    )  # the extension stays: others may use it
